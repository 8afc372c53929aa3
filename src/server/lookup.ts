import { decodeContainerLabels, decodeSandboxLabels, type ContainerLabelInput, type SandboxLabelInput } from '../docker/labels.js';
import type { DockerContainerInspect } from '../docker/types.js';
import type { ContainerStore } from './store.js';

/** A sandbox as mascri sees it: its pause container's inspect and what its labels say. */
export interface SandboxRecord {
  inspect: DockerContainerInspect;
  meta: SandboxLabelInput;
}

/** A container as mascri sees it. */
export interface ContainerRecord {
  inspect: DockerContainerInspect;
  meta: ContainerLabelInput;
}

/** Where lookups look: mascri's in-memory store (src/server/store.ts), which falls back to `docker inspect` on a miss. */
export type Source = Pick<ContainerStore, 'lookup'>;

/**
 * The mascri sandbox with this ID (or unique prefix), or undefined: other Docker containers are never
 * sandboxes. A sandbox whose pause container is gone while containers of it remain is found too, as
 * the NOTREADY ghost that allSandboxes lists, so that stopping and removing it reaches its containers.
 */
export async function findSandbox(source: Source & Pick<ContainerStore, 'all'>, id: string): Promise<SandboxRecord | undefined> {
  const inspect = await source.lookup(id);
  const meta = inspect ? decodeSandbox(inspect) : undefined;
  if (inspect) return meta ? { inspect, meta } : undefined;
  const ghosts = ghostSandboxes(splitRecords(source.all())).filter((ghost) => ghost.inspect.Id.startsWith(id));
  return id !== '' && ghosts.length === 1 ? ghosts[0] : undefined;
}

/** The mascri container with this ID, or undefined. */
export async function findContainer(source: Source, id: string): Promise<ContainerRecord | undefined> {
  const inspect = await source.lookup(id);
  const meta = inspect ? decodeContainer(inspect) : undefined;
  return inspect && meta ? { inspect, meta } : undefined;
}

// Decoding labels parses JSON; an inspect object never changes once stored, so decode it once.
const sandboxMeta = new WeakMap<DockerContainerInspect, SandboxLabelInput | null>();
const containerMeta = new WeakMap<DockerContainerInspect, ContainerLabelInput | null>();

function decodeSandbox(inspect: DockerContainerInspect): SandboxLabelInput | undefined {
  let meta = sandboxMeta.get(inspect);
  if (meta === undefined) sandboxMeta.set(inspect, (meta = decodeSandboxLabels(inspect.Config.Labels) ?? null));
  return meta ?? undefined;
}

function decodeContainer(inspect: DockerContainerInspect): ContainerLabelInput | undefined {
  let meta = containerMeta.get(inspect);
  if (meta === undefined) containerMeta.set(inspect, (meta = decodeContainerLabels(inspect.Config.Labels) ?? null));
  return meta ?? undefined;
}

/** Sorts inspects into mascri's sandboxes and containers (anything else is left out). */
export function splitRecords(inspects: readonly DockerContainerInspect[]): { sandboxes: SandboxRecord[]; containers: ContainerRecord[] } {
  const sandboxes: SandboxRecord[] = [];
  const containers: ContainerRecord[] = [];
  for (const inspect of inspects) {
    const sandbox = decodeSandbox(inspect);
    if (sandbox) sandboxes.push({ inspect, meta: sandbox });
    const container = sandbox ? undefined : decodeContainer(inspect);
    if (container) containers.push({ inspect, meta: container });
  }
  return { sandboxes, containers };
}

/** Every sandbox in the store, with the ghosts of those whose pause container went out of band. */
export function allSandboxes(store: Pick<ContainerStore, 'all'>): SandboxRecord[] {
  const records = splitRecords(store.all());
  return [...records.sandboxes, ...ghostSandboxes(records)];
}

// One ghost per container inspect it is built from: list entries are memoized per inspect object.
const ghosts = new WeakMap<DockerContainerInspect, SandboxRecord>();

/**
 * Sandboxes whose pause container is gone (removed behind mascri's back) while some of their
 * containers remain: each is reported NOTREADY, described by what those containers' labels say of
 * their pod, so that a kubelet sees the pod is broken and stops and removes it, containers included.
 */
export function ghostSandboxes({ sandboxes, containers }: { sandboxes: SandboxRecord[]; containers: ContainerRecord[] }): SandboxRecord[] {
  const known = new Set(sandboxes.map((sandbox) => sandbox.inspect.Id));
  const found = new Map<string, SandboxRecord>();
  for (const { inspect, meta } of containers) {
    const id = meta.sandboxId;
    if (!id || known.has(id) || found.has(id)) continue;
    let ghost = ghosts.get(inspect);
    if (!ghost) {
      ghost = {
        inspect: {
          ...inspect,
          Id: id,
          Name: '',
          State: { ...inspect.State, Running: false, Paused: false, Restarting: false, Status: 'removed', Pid: 0 },
          Config: { ...inspect.Config, Labels: {} },
          HostConfig: { ...inspect.HostConfig, NetworkMode: '' },
          NetworkSettings: { ...inspect.NetworkSettings, IPAddress: '', GlobalIPv6Address: '', Networks: {} },
        },
        meta: { metadata: { ...meta.pod, attempt: 0 }, labels: {}, annotations: {}, logDirectory: '', runtimeHandler: '', config: {} },
      };
      ghosts.set(inspect, ghost);
    }
    found.set(id, ghost);
  }
  return [...found.values()];
}

/** Every container in the store, or those of one sandbox. */
export function allContainers(store: Pick<ContainerStore, 'all'>, sandboxId?: string): ContainerRecord[] {
  const { containers } = splitRecords(store.all());
  return sandboxId === undefined ? containers : containers.filter((c) => c.meta.sandboxId === sandboxId);
}

/**
 * Memoizes `build` per inspect object: a stored inspect never changes, and list answers are hot
 * (a kubelet asks every second), so each entry is built once.
 */
export function oncePerInspect<R extends { inspect: DockerContainerInspect }, T>(build: (record: R) => T): (record: R) => T {
  const cache = new WeakMap<DockerContainerInspect, T>();
  return (record) => {
    let entry = cache.get(record.inspect);
    if (entry === undefined) cache.set(record.inspect, (entry = build(record)));
    return entry;
  };
}
