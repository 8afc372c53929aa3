import type { Logger } from '../common/logger.js';
import type { DockerContainersApi } from '../docker/adapter.js';

/** Waits between attempts to remove a half-made container: soon at first, then every 10 s. */
const RETRY_DELAYS_MS = [500, 1000, 2000, 5000, 10_000];
/** A half-made container still not removable after this long is left to the next start and logged. */
const GIVE_UP_AFTER_MS = 30 * 60_000;

/**
 * Removes containers a failed call made and could not remove at once (the Docker daemon stopped
 * in the middle of a RunPodSandbox or CreateContainer, so the rollback failed too): they are
 * removed again, with growing delays, until Docker answers. Nothing a failed call made stays.
 */
export class PendingRemovals {
  private readonly pending = new Map<string, { since: number; attempt: number; timer: NodeJS.Timeout }>();
  private closed = false;

  constructor(
    private readonly containers: Pick<DockerContainersApi, 'remove' | 'inspectOne'>,
    private readonly log: Logger,
  ) {}

  /** Removes `name` (a container ID or name) now; when that fails, again later until it works. */
  async remove(name: string): Promise<void> {
    try {
      await this.containers.remove([name]);
    } catch (error) {
      this.log.warn('could not remove a half-made container; will try again', { container: name, error: String(error) });
      this.schedule(name, Date.now(), 0);
    }
  }

  /** Names still waiting for removal. */
  names(): string[] {
    return [...this.pending.keys()];
  }

  /** Stops retrying (at server stop). */
  close(): void {
    this.closed = true;
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }

  private schedule(name: string, since: number, attempt: number): void {
    if (this.closed) return;
    const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
    const timer = setTimeout(() => void this.retry(name), delay);
    timer.unref();
    this.pending.set(name, { since, attempt, timer });
  }

  private async retry(name: string): Promise<void> {
    const entry = this.pending.get(name);
    if (!entry || this.closed) return;
    try {
      // By name, the container found must be the half-made one: made before its call failed, not a later one of that name.
      const found = await this.containers.inspectOne(name);
      if (found && Date.parse(found.Created) <= entry.since) await this.containers.remove([found.Id]);
      this.pending.delete(name);
      if (found) this.log.info('removed a half-made container', { container: name, afterMs: Date.now() - entry.since });
    } catch (error) {
      if (Date.now() - entry.since >= GIVE_UP_AFTER_MS) {
        this.pending.delete(name);
        this.log.error('gave up removing a half-made container; remove it by hand (docker rm -f)', { container: name, error: String(error) });
        return;
      }
      this.schedule(name, entry.since, entry.attempt + 1);
    }
  }
}
