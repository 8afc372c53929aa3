import type { DockerCli } from './cli.js';
import type { HostConfigExtras } from './create-relay.js';
import { DockerError, isRemovalInProgress, type DockerErrorKind } from './errors.js';
import { parseJsonLines } from './cli.js';
import { LABEL_INSTANCE, instanceLabelFilter } from './labels.js';
import { withLabelFile } from './label-file.js';
import type { DockerContainerInspect } from './types.js';

/** Time as remove() waits for another removal: injected so unit tests need not wait. */
export interface RemovalClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: RemovalClock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

/** How long remove() waits for a removal another call started (a kubelet's GC racing RemovePodSandbox) to end. */
export const REMOVAL_WAIT_MS = 60_000;
/** Looks at a container being removed by someone else every 50 ms at first, then less often, up to once a second. */
const REMOVAL_POLL_FIRST_MS = 50;
const REMOVAL_POLL_MAX_MS = 1000;

/** Docker container operations used for sandboxes and containers. */
export class DockerContainers {
  constructor(
    private readonly docker: DockerCli,
    private readonly clock: RemovalClock = realClock,
  ) {}

  /** `docker run -d ...args` with `labels` (through a label file): creates and starts in one call; answers the new container ID. */
  async run(args: readonly string[], labels: Record<string, string> = {}, timeoutMs = 60_000): Promise<string> {
    const { stdout } = await withLabelFile(labels, (labelArgs) => this.docker.run(['run', '--detach', ...labelArgs, ...args], { timeoutMs }));
    return lastLine(stdout);
  }

  /**
   * `docker create ...args` with `labels` (through a label file), and HostConfig fields the CLI has
   * no flag for when given; answers the new container ID.
   */
  async create(args: readonly string[], labels: Record<string, string> = {}, extras?: HostConfigExtras, timeoutMs = 60_000): Promise<string> {
    const { stdout } = await withLabelFile(labels, (labelArgs) =>
      extras
        ? this.docker.runWithHostConfig(['create', ...labelArgs, ...args], extras, { timeoutMs })
        : this.docker.run(['create', ...labelArgs, ...args], { timeoutMs }),
    );
    return lastLine(stdout);
  }

  async start(id: string): Promise<void> {
    await this.docker.run(['start', '--', id], { timeoutMs: 60_000 });
  }

  /** Stops containers (SIGTERM, then SIGKILL after `graceSeconds`); absent ones are ignored. */
  async stop(ids: readonly string[], graceSeconds: number): Promise<void> {
    if (ids.length === 0) return;
    await ignoring(['not-found'], () =>
      this.docker.run(['stop', '--time', String(Math.max(0, Math.floor(graceSeconds))), '--', ...ids], { timeoutMs: (graceSeconds + 30) * 1000 }),
    );
  }

  /**
   * Force-removes containers (and their anonymous volumes); absent ones are ignored. A container
   * that another call is already removing (Docker answers "removal of container X is already in
   * progress") is waited for until it is gone, so removing is idempotent as the CRI asks; one still
   * there after REMOVAL_WAIT_MS (or left behind when that other removal failed) is removed again.
   */
  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const deadline = this.clock.now() + REMOVAL_WAIT_MS;
    let left = [...ids];
    for (let delay = REMOVAL_POLL_FIRST_MS; ; delay = Math.min(delay * 2, REMOVAL_POLL_MAX_MS)) {
      try {
        await ignoring(['not-found'], () => this.docker.run(['rm', '--force', '--volumes', '--', ...left], { timeoutMs: 60_000 }));
        return;
      } catch (error) {
        if (!isRemovalInProgress(error)) throw error;
        if (this.clock.now() >= deadline) {
          const docker = error as DockerError;
          throw new DockerError('conflict', `${docker.message}; the container was still there after ${REMOVAL_WAIT_MS / 1000} s`, docker.args, docker.stdout);
        }
        await this.clock.sleep(delay);
        left = (await this.inspect(left)).map((inspect) => inspect.Id);
        if (left.length === 0) return;
      }
    }
  }

  /** Inspects containers by ID, ID prefix or name; missing ones are left out. */
  async inspect(refs: readonly string[]): Promise<DockerContainerInspect[]> {
    if (refs.length === 0) return [];
    try {
      return await this.docker.runJsonLines<DockerContainerInspect>(['container', 'inspect', '--format', '{{json .}}', '--', ...refs]);
    } catch (error) {
      if (error instanceof DockerError && error.kind === 'not-found') return parseJsonLines<DockerContainerInspect>(error.stdout);
      throw error;
    }
  }

  /** Inspects one container; undefined when Docker has none by that ID or name. */
  async inspectOne(ref: string): Promise<DockerContainerInspect | undefined> {
    const [found] = await this.inspect([ref]);
    return found;
  }

  /**
   * Full IDs of the mascri containers of `instance` ('' the default instance) that carry every
   * given label (`key` or `key=value`), running or not. Docker filters on the instance label; the
   * default instance's (no such label, which Docker cannot filter on) are picked out here.
   */
  async listIds(instance: string, labels: readonly string[] = []): Promise<string[]> {
    const filters = [instanceLabelFilter(instance), ...labels].flatMap((label) => ['--filter', `label=${label}`]);
    const { stdout } = await this.docker.run(['ps', '--all', '--no-trunc', '--format', `{{.ID}}\t{{.Label "${LABEL_INSTANCE}"}}`, ...filters]);
    return ownedIds(stdout, instance);
  }

  /** Inspects every container listIds answers (two docker calls). */
  async list(instance: string, labels: readonly string[] = []): Promise<DockerContainerInspect[]> {
    return this.inspect(await this.listIds(instance, labels));
  }

  /** `docker update ...args -- id`: changes a container's resource limits live. */
  async update(id: string, args: readonly string[]): Promise<void> {
    await this.docker.run(['update', ...args, '--', id], { timeoutMs: 30_000 });
  }
}

async function ignoring(kinds: DockerErrorKind[], fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DockerError && kinds.includes(error.kind)) return;
    throw error;
  }
}

/** The IDs in `docker ps --format '{{.ID}}\t{{.Label "io.mascri.instance"}}'` output whose instance is `instance`. Pure. */
export function ownedIds(stdout: string, instance: string): string[] {
  const ids: string[] = [];
  for (const line of stdout.split('\n')) {
    const [id = '', label = ''] = line.trim().split('\t');
    if (id !== '' && label.trim() === instance) ids.push(id);
  }
  return ids;
}

function lastLine(stdout: string): string {
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1]!.trim();
}
