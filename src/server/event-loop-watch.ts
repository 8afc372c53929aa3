import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** What `Status` with verbose shows as "eventLoop": the server's event-loop delay since the last such call. */
export interface EventLoopReading {
  /** Since when the figures run: the previous reading, or the start of the watch. */
  sinceMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The sampling period: an idle loop reads about this much. */
  resolutionMs: number;
  /** False at the first reading: the watch starts then, and the figures cover only the call itself. */
  watching: boolean;
}

/** The watch stops when nobody has read it for this long (its timer wakes the loop every 10 ms). */
const STOP_UNREAD_AFTER_MS = 5 * 60_000;
const RESOLUTION_MS = 10;

/**
 * The server's event-loop delay, for operators (`crictl info`, `mascri info`) and the benchmark:
 * node's monitorEventLoopDelay, started at the first read, reset at each read (as a Prometheus
 * scrape of `--http`'s /metrics resets prom-client's), stopped after five minutes without one.
 */
export class EventLoopWatch {
  private histogram?: IntervalHistogram;
  private since = 0;
  private stopTimer?: NodeJS.Timeout;

  read(): EventLoopReading {
    const now = performance.now();
    const watching = this.histogram !== undefined;
    if (!this.histogram) {
      this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
      this.histogram.enable();
      this.since = now;
    }
    const h = this.histogram;
    const ms = (ns: number) => Math.round((Number.isFinite(ns) ? ns : 0) / 1e4) / 100;
    const reading = { sinceMs: Math.round(now - this.since), p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), resolutionMs: RESOLUTION_MS, watching };
    h.reset();
    this.since = now;
    if (this.stopTimer) this.stopTimer.refresh();
    else {
      this.stopTimer = setTimeout(() => this.stop(), STOP_UNREAD_AFTER_MS);
      this.stopTimer.unref();
    }
    return reading;
  }

  stop(): void {
    this.histogram?.disable();
    this.histogram = undefined;
    if (this.stopTimer) clearTimeout(this.stopTimer);
    this.stopTimer = undefined;
  }
}
