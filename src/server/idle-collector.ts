import type { Logger } from '../common/logger.js';

/**
 * Gives back the memory a burst of work left in V8's heap, once the server is quiet.
 *
 * After pod starts, a ListContainerStats of many containers or a relist of a hundred containers,
 * V8 keeps the old-generation pages it grew to: what lives is a third smaller, but V8 collects
 * again only when the heap grows further, and its memory reducer, which would shrink it, starts
 * by itself only after the first collections of a process. Two full collections, 10-25 ms each
 * with mascri's heap, return those pages (the second releases what the first one's sweep freed).
 * They run on a timer when the heap has grown by `growthBytes` since the last one, no call is in
 * flight and none has ended for `quietMs`, at most once per `minIntervalMs`: not in the middle of a
 * burst of calls (pod starts run for seconds while a kubelet's relists leave quiet gaps between
 * them), and not at all while nothing grows.
 */
export interface IdleCollectorOptions {
  /** One full garbage collection (node's `gc` with --expose-gc, as bin/mascri runs node). */
  collect: () => void;
  /** The heap's committed size in bytes. */
  heapBytes?: () => number;
  now?: () => number;
  log?: Logger;
  /** How often the heap is looked at. */
  checkEveryMs?: number;
  /** How long no call may have ended before collecting. */
  quietMs?: number;
  /** How much the heap must have grown since the last collection (or the start). */
  growthBytes?: number;
  /** The least time between two collections. */
  minIntervalMs?: number;
}

/** How long calls in flight with no other call beginning or ending hold the collections off. */
const LONG_CALL_MS = 60_000;

/**
 * quietMs is short: a kubelet relists every second (a few ms of calls), so a longer quiet would never
 * come while it runs; 250 ms after the last call, the next is rarely due within the collection's 20 ms.
 */
export const IDLE_COLLECT_DEFAULTS = { checkEveryMs: 2000, quietMs: 250, growthBytes: 2 * 1024 * 1024, minIntervalMs: 10_000 };

export class IdleCollector {
  private readonly heapBytes: () => number;
  private readonly now: () => number;
  private readonly settings: typeof IDLE_COLLECT_DEFAULTS;
  private baseline: number;
  private lastCallEnded = -Infinity;
  private lastCallStarted = -Infinity;
  private inFlight = 0;
  private lastCollected = -Infinity;
  private timer?: NodeJS.Timeout;
  /** Collections made, for tests and the debug log. */
  collections = 0;

  constructor(private readonly options: IdleCollectorOptions) {
    this.heapBytes = options.heapBytes ?? (() => process.memoryUsage().heapTotal);
    this.now = options.now ?? (() => performance.now());
    this.settings = {
      checkEveryMs: options.checkEveryMs ?? IDLE_COLLECT_DEFAULTS.checkEveryMs,
      quietMs: options.quietMs ?? IDLE_COLLECT_DEFAULTS.quietMs,
      growthBytes: options.growthBytes ?? IDLE_COLLECT_DEFAULTS.growthBytes,
      minIntervalMs: options.minIntervalMs ?? IDLE_COLLECT_DEFAULTS.minIntervalMs,
    };
    this.baseline = this.heapBytes();
  }

  /** A unary call began: no collecting until it has ended. */
  callStarted(): void {
    this.inFlight++;
    this.lastCallStarted = this.now();
  }

  /** A unary call ended: collecting waits until the calls have been quiet for a while. */
  callEnded(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.lastCallEnded = this.now();
  }

  /** Collects when the heap grew enough and the calls are quiet; true when it did. */
  check(): boolean {
    const now = this.now();
    if (this.busy(now) || now - this.lastCallEnded < this.settings.quietMs || now - this.lastCollected < this.settings.minIntervalMs) return false;
    const before = this.heapBytes();
    if (before < this.baseline + this.settings.growthBytes) {
      // Shrunk by itself (V8 collected): measure growth from there.
      if (before < this.baseline) this.baseline = before;
      return false;
    }
    const started = performance.now();
    this.options.collect();
    this.options.collect();
    this.lastCollected = this.now();
    this.baseline = this.heapBytes();
    this.collections++;
    this.options.log?.debug('collected garbage while quiet', {
      heapMiB: `${(before / 1048576).toFixed(1)} -> ${(this.baseline / 1048576).toFixed(1)}`,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
    return true;
  }

  /**
   * Calls are in flight and one began or ended within LONG_CALL_MS. Calls that alone run on past it
   * (an ExecSync of a long command, a large pull) do not hold the collections off for good.
   */
  private busy(now: number): boolean {
    return this.inFlight > 0 && now - Math.max(this.lastCallStarted, this.lastCallEnded) < LONG_CALL_MS;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.settings.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
