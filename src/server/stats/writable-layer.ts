import type { DiskUsage } from '../../docker/host.js';

export type { DiskUsage };

/** How long a walk's result stands: stats are polled often, layers change slowly. */
const CACHE_MS = 5_000;
/** How long a first walk is waited for before the stats are answered without it. */
const FIRST_WAIT_MS = 250;

interface LayerEntry {
  /** When the last walk started (ms). */
  at: number;
  value?: DiskUsage;
  pending?: Promise<void>;
}

/**
 * Writable-layer usage per container, cheap to ask often: a walk runs at most once per CACHE_MS
 * and never twice at once; a stale figure is answered while it is refreshed in the background,
 * and a first walk that takes long is not waited for (the figure comes with a later call).
 */
export class WritableLayerUsage {
  private readonly cache = new Map<string, LayerEntry>();

  constructor(
    /** Walks a directory: the Docker adapter's host.diskUsage. */
    private readonly walk: (dir: string) => Promise<DiskUsage>,
    private readonly now: () => number = Date.now,
    private readonly firstWaitMs = FIRST_WAIT_MS,
  ) {}

  /** The usage of the container's upper directory; undefined while unknown or when it cannot be walked. */
  async usage(containerId: string, upperDir: string): Promise<DiskUsage | undefined> {
    let entry = this.cache.get(containerId);
    if (!entry) {
      this.prune();
      entry = { at: -Infinity };
      this.cache.set(containerId, entry);
    }
    const current = entry;
    if (!current.pending && this.now() - current.at >= CACHE_MS) {
      current.at = this.now();
      current.pending = this.walk(upperDir)
        .then((value) => void (current.value = value), () => undefined)
        .finally(() => (current.pending = undefined));
    }
    if (current.value || !current.pending) return current.value;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.firstWaitMs)));
    await Promise.race([current.pending, timeout]);
    clearTimeout(timer);
    return current.value;
  }

  /** Forgets containers that are not among `live`. */
  retain(live: Iterable<string>): void {
    const keep = new Set(live);
    for (const id of this.cache.keys()) if (!keep.has(id)) this.cache.delete(id);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, entry] of this.cache) if (!entry.pending && now - entry.at > 60 * CACHE_MS) this.cache.delete(id);
  }
}

/** The filesystem a Docker writable layer lives on: the Docker root (".../overlay2/<id>/diff" -> "..."). */
export function layerMountpoint(upperDir: string): string {
  const at = upperDir.lastIndexOf('/overlay2/');
  return at > 0 ? upperDir.slice(0, at) : upperDir;
}
