/**
 * TEST ONLY: a ServerContext over the in-memory FakeDocker, for unit tests of the CRI area
 * services (no docker CLI, no engine, no host probe). Nothing in the product imports this file.
 */
import type { MethodDefinition } from '@grpc/proto-loader';
import { silentLogger } from '../../common/logger.js';
import type { RuntimeServiceDefinition } from '../../cri/generated/runtime/v1/RuntimeService.js';
import { loadCri } from '../../cri/proto.js';
import { FAKE_DOCKER_INFO, FakeDocker } from '../../docker/fake-adapter.js';
import type { ContainerLogs } from '../logs/container-logs.js';
import type { ServerContext } from '../context.js';
import { CrashPoints } from '../crash-points.js';
import type { CriMethod } from '../cri-methods.js';
import { describeHost } from '../../docker/host-grants.js';
import { PendingRemovals } from '../pending-removals.js';
import { ContainerStore } from '../store.js';
import { ImageStore } from '../image-store.js';

/** A ContainerLogs that copies nothing and records what it was asked. */
export class RecordingLogs implements ContainerLogs {
  readonly calls: Array<{ method: keyof ContainerLogs; id?: string; args: unknown[] }> = [];
  async follow(id: string, dockerLogPath: string, criLogPath: string): Promise<void> {
    this.calls.push({ method: 'follow', id, args: [dockerLogPath, criLogPath] });
  }
  async flush(id: string): Promise<void> {
    this.calls.push({ method: 'flush', id, args: [] });
  }
  async forget(id: string, options?: { removeFiles?: boolean }): Promise<void> {
    this.calls.push({ method: 'forget', id, args: [options] });
  }
  async reopen(id: string): Promise<void> {
    this.calls.push({ method: 'reopen', id, args: [] });
  }
  async close(): Promise<void> {}
  /** The container IDs `method` was called for. */
  idsOf(method: keyof ContainerLogs): string[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.id ?? '');
  }
}

export const FAKE_POD_INFRA_IMAGE = 'localhost:5000/pause:3.10';

export interface FakeContext {
  ctx: ServerContext;
  docker: FakeDocker;
  logs: RecordingLogs;
  /** Stops the store and the rollbacks (call at the end of each test). */
  close(): void;
}

/** A started ServerContext over `docker` (a new FakeDocker by default), as MascriServer.start makes one. */
export async function fakeServerContext(options: { docker?: FakeDocker; instance?: string; podInfraImage?: string } = {}): Promise<FakeContext> {
  const docker = options.docker ?? new FakeDocker();
  const logs = new RecordingLogs();
  const host = describeHost({ capBnd: undefined, oomScoreAdj: 0, info: FAKE_DOCKER_INFO });
  const instance = options.instance ?? '';
  const ctx: ServerContext = {
    docker,
    log: silentLogger,
    options: { podInfraImage: options.podInfraImage ?? FAKE_POD_INFRA_IMAGE, instance },
    host: { get: async () => host },
    logs,
    store: new ContainerStore(docker, silentLogger, { instance }),
    images: new ImageStore(docker, silentLogger),
    rollbacks: new PendingRemovals(docker.containers, silentLogger),
    crash: CrashPoints.none(),
  };
  await Promise.all([ctx.store.start(), ctx.images.start()]);
  return {
    ctx,
    docker,
    logs,
    close: () => {
      ctx.store.stop();
      ctx.images.stop();
      ctx.rollbacks.close();
    },
  };
}

type Definition<M extends CriMethod<'RuntimeService'>> = RuntimeServiceDefinition[M & keyof RuntimeServiceDefinition];
type RequestIn<M extends CriMethod<'RuntimeService'>> = Definition<M> extends MethodDefinition<infer Req, infer _Res, infer _ReqOut, infer _ResOut> ? Req : never;
type RequestOut<M extends CriMethod<'RuntimeService'>> = Definition<M> extends MethodDefinition<infer _Req, infer _Res, infer ReqOut, infer _ResOut> ? ReqOut : never;

/** A RuntimeService request as the server receives it: `request` through the gRPC codec, defaults filled. */
export function runtimeRequest<M extends CriMethod<'RuntimeService'>>(method: M, request: RequestIn<M>): RequestOut<M> {
  const definition = loadCri().runtime.v1.RuntimeService.service[method] as unknown as MethodDefinition<RequestIn<M>, unknown, RequestOut<M>, unknown>;
  return definition.requestDeserialize(definition.requestSerialize(request));
}

/** A CreateContainer request for a container `name` of `image` (sleeping) in `podSandboxId`. */
export function createContainerRequest(podSandboxId: string, name: string, options: { image?: string; logPath?: string; labels?: Record<string, string> } = {}) {
  return runtimeRequest('CreateContainer', {
    podSandboxId,
    config: { metadata: { name, attempt: 0 }, image: { image: options.image ?? 'busybox' }, command: ['sleep', '60'], labels: options.labels ?? { role: name }, logPath: options.logPath ?? '' },
  });
}
