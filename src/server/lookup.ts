import { decodeContainerLabels, decodeSandboxLabels, type ContainerLabelInput, type SandboxLabelInput } from '../docker/labels.js';
import { DockerError } from '../docker/errors.js';
import type { DockerAdapter } from '../docker/adapter.js';
import type { DockerContainerInspect } from '../docker/types.js';
import { ContainerStore } from './store.js';

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

/** Inspects by ID, unique ID prefix or name; undefined when there is none (or the prefix is ambiguous or malformed). */
async function inspectQuietly(docker: DockerAdapter, id: string): Promise<DockerContainerInspect | undefined> {
  try {
    return await docker.containers.inspectOne(id);
  } catch (error) {
    if (error instanceof DockerError && (error.kind === 'invalid-argument' || /multiple IDs found/i.test(error.message))) return undefined;
    throw error;
  }
}

/** Where to look: the in-memory store (reads do not run docker), or Docker itself. */
export type Source = ContainerStore | DockerAdapter;

function lookIn(source: Source, id: string): Promise<DockerContainerInspect | undefined> {
  return source instanceof ContainerStore ? source.lookup(id) : inspectQuietly(source, id);
}

/** The mascri sandbox with this ID, or undefined: other Docker containers are never sandboxes. */
export async function findSandbox(source: Source, id: string): Promise<SandboxRecord | undefined> {
  const inspect = await lookIn(source, id);
  const meta = inspect ? decodeSandbox(inspect) : undefined;
  return inspect && meta ? { inspect, meta } : undefined;
}

/** The mascri container with this ID, or undefined. */
export async function findContainer(source: Source, id: string): Promise<ContainerRecord | undefined> {
  const inspect = await lookIn(source, id);
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

/** Every sandbox in the store. */
export function allSandboxes(store: ContainerStore): SandboxRecord[] {
  const out: SandboxRecord[] = [];
  for (const inspect of store.all()) {
    const meta = decodeSandbox(inspect);
    if (meta) out.push({ inspect, meta });
  }
  return out;
}

/** Every container in the store, or those of one sandbox. */
export function allContainers(store: ContainerStore, sandboxId?: string): ContainerRecord[] {
  const out: ContainerRecord[] = [];
  for (const inspect of store.all()) {
    const meta = decodeContainer(inspect);
    if (meta && (sandboxId === undefined || meta.sandboxId === sandboxId)) out.push({ inspect, meta });
  }
  return out;
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
