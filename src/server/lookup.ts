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

/** The mascri sandbox with this ID, or undefined: other Docker containers are never sandboxes. */
export async function findSandbox(source: Source, id: string): Promise<SandboxRecord | undefined> {
  const inspect = await source.lookup(id);
  const meta = inspect ? decodeSandbox(inspect) : undefined;
  return inspect && meta ? { inspect, meta } : undefined;
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

/** Every sandbox in the store. */
export function allSandboxes(store: Pick<ContainerStore, 'all'>): SandboxRecord[] {
  return splitRecords(store.all()).sandboxes;
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
