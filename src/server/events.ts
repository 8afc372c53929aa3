import type { ServerStreamCall } from './transport/grpc-server.js';
import type { ContainerEventResponse } from '../cri/generated/runtime/v1/ContainerEventResponse.js';
import type { GetEventsRequest__Output } from '../cri/generated/runtime/v1/GetEventsRequest.js';
import { containerState } from '../docker/convert.js';
import { decodeContainerLabels, decodeSandboxLabels } from '../docker/labels.js';
import type { DockerContainerInspect } from '../docker/types.js';
import { containerStatus } from './containers.js';
import type { ServerContext } from './context.js';
import { sandboxStatus } from './sandboxes.js';
import type { StoreChange } from './store.js';

export type ContainerEventType = 'CONTAINER_CREATED_EVENT' | 'CONTAINER_STARTED_EVENT' | 'CONTAINER_STOPPED_EVENT' | 'CONTAINER_DELETED_EVENT';

/** The CRI events a store change means, in order (a container created and started at once gives both). Pure. */
export function eventTypesFor(before: DockerContainerInspect | undefined, after: DockerContainerInspect | undefined): ContainerEventType[] {
  if (!after) return before ? ['CONTAINER_DELETED_EVENT'] : [];
  const was = before ? containerState(before.State) : undefined;
  const now = containerState(after.State);
  const events: ContainerEventType[] = [];
  if (!before) events.push('CONTAINER_CREATED_EVENT');
  if (now === 'CONTAINER_RUNNING' && was !== 'CONTAINER_RUNNING') events.push('CONTAINER_STARTED_EVENT');
  if (now === 'CONTAINER_EXITED' && was !== 'CONTAINER_EXITED') {
    // A container that ran and stopped between two looks still reports both.
    if (was !== 'CONTAINER_RUNNING' && after.State.StartedAt && !after.State.StartedAt.startsWith('0001')) events.push('CONTAINER_STARTED_EVENT');
    events.push('CONTAINER_STOPPED_EVENT');
  }
  // A restart behind our back (exited -> running again) is a start, already covered above.
  return events;
}

/** GetContainerEvents: one server stream per client, fed from the store (itself fed by one `docker events`). */
export class EventService {
  constructor(private readonly ctx: ServerContext) {}

  getContainerEvents(call: ServerStreamCall<GetEventsRequest__Output, ContainerEventResponse>): void {
    const unsubscribe = this.ctx.store.onChange((change) => {
      for (const event of this.toEvents(change)) call.write(event);
    });
    call.onDone(() => unsubscribe());
  }

  private toEvents(change: StoreChange): ContainerEventResponse[] {
    const types = eventTypesFor(change.before, change.after);
    if (types.length === 0) return [];
    const current = change.after ?? change.before!;
    const createdAt = (BigInt(Date.now()) * 1_000_000n).toString();
    const container = decodeContainerLabels(current.Config.Labels);
    const sandbox = decodeSandboxLabels(current.Config.Labels);
    let podSandboxStatus = null;
    let containersStatuses: ContainerEventResponse['containersStatuses'] = [];
    if (container) {
      const pod = this.ctx.store.peek(container.sandboxId);
      const podMeta = pod ? decodeSandboxLabels(pod.Config.Labels) : undefined;
      if (pod && podMeta) podSandboxStatus = sandboxStatus({ inspect: pod, meta: podMeta });
      if (change.after) containersStatuses = [containerStatus({ inspect: change.after, meta: container })];
    } else if (sandbox) {
      podSandboxStatus = sandboxStatus({ inspect: current, meta: sandbox });
    } else {
      return [];
    }
    return types.map((containerEventType) => ({ containerId: change.id, containerEventType, createdAt, podSandboxStatus, containersStatuses }));
  }
}
