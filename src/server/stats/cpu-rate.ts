/** CPU usage rates (nanocores) from two cumulative samples of the same container or pod. */

export interface CpuPoint {
  /** Unix nanoseconds of the sample. */
  timestampNanos: bigint;
  /** Cumulative CPU time in nanoseconds. */
  usageNanos: bigint;
}

/**
 * Average nanocores between two samples (1e9 = one full core); undefined when there is no usable
 * previous sample (none, not older, or a counter that went back because the container restarted).
 */
export function nanoCores(previous: CpuPoint | undefined, current: CpuPoint): bigint | undefined {
  if (!previous) return undefined;
  const elapsed = current.timestampNanos - previous.timestampNanos;
  if (elapsed <= 0n || current.usageNanos < previous.usageNanos) return undefined;
  return ((current.usageNanos - previous.usageNanos) * 1_000_000_000n) / elapsed;
}

/** Samples closer together than this give noise, not a rate: the last rate is answered again. */
const MIN_WINDOW_NANOS = 500_000_000n;
/** Entries not sampled for this long are forgotten (the container is gone). */
const FORGET_AFTER_NANOS = 10n * 60n * 1_000_000_000n;

/** Keeps the previous sample of each container (or pod) in memory to turn cumulative usage into a rate. */
export class CpuRateTracker {
  private readonly last = new Map<string, CpuPoint & { rate?: bigint }>();

  /** The rate since the previous sample of `key`, remembering `current` for the next call. */
  rate(key: string, current: CpuPoint): bigint | undefined {
    const previous = this.last.get(key);
    if (previous && current.timestampNanos - previous.timestampNanos < MIN_WINDOW_NANOS && current.usageNanos >= previous.usageNanos) {
      return previous.rate;
    }
    const rate = nanoCores(previous, current);
    this.last.set(key, { ...current, rate });
    this.prune(current.timestampNanos);
    return rate;
  }

  get size(): number {
    return this.last.size;
  }

  private prune(now: bigint): void {
    for (const [key, point] of this.last) if (now - point.timestampNanos > FORGET_AFTER_NANOS) this.last.delete(key);
  }
}
