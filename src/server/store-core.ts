/**
 * The ordering rules of the in-memory container store, kept pure so every interleaving of
 * events, direct updates and removals can be unit-tested.
 *
 * Every look at Docker (an inspect) takes a sequence number when it STARTS; its answer is kept
 * only if no look that started later has already been applied. An inspect reflects Docker's
 * state at some moment after it started, so a later-started look never shows an older state
 * than an earlier-started one — answers that arrive out of order are simply dropped.
 * A removal is a tombstone with its own number: an older inspect cannot bring the container back.
 */
export interface Entry<T> {
  /** The sequence number of the look that produced what is kept. */
  seq: number;
  /** The inspect, or undefined for a tombstone (the container is gone). */
  value: T | undefined;
}

/** Tombstones made since the last compaction that start one (each removed container leaves one). */
export const COMPACT_EVERY_TOMBSTONES = 64;

export class StoreCore<T> {
  private next = 1;
  private readonly entries = new Map<string, Entry<T>>();
  /** Looks begun and not finished: a tombstone newer than the oldest of them may still be needed. */
  private readonly inFlight = new Set<number>();
  private tombstonesSinceCompaction = 0;

  /** A sequence number for a look at Docker that starts now; finish(seq) when it is over. */
  begin(): number {
    const seq = this.next++;
    this.inFlight.add(seq);
    return seq;
  }

  /**
   * The look that began at `seq` is over (answered or failed). Tombstones that no look in flight
   * can contradict any more are dropped now and then, so a long-running server does not keep one
   * per container it ever removed.
   */
  finish(seq: number): void {
    this.inFlight.delete(seq);
    if (this.tombstonesSinceCompaction >= COMPACT_EVERY_TOMBSTONES) this.compact(this.oldestInFlight());
  }

  /** Entries kept, tombstones included (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private oldestInFlight(): number {
    let oldest = this.next;
    for (const seq of this.inFlight) if (seq < oldest) oldest = seq;
    return oldest;
  }

  /** Applies the answer of a look that started at `seq`: a value, or undefined for "gone". Returns true when kept. */
  resolve(id: string, seq: number, value: T | undefined): boolean {
    const current = this.entries.get(id);
    if (current && current.seq > seq) return false;
    this.entries.set(id, { seq, value });
    if (value === undefined && current?.value !== undefined) this.tombstonesSinceCompaction++;
    return true;
  }

  /** The kept value, undefined when unknown or gone. */
  get(id: string): T | undefined {
    return this.entries.get(id)?.value;
  }

  /** True when the store has a tombstone or a value for the ID. */
  knows(id: string): boolean {
    return this.entries.has(id);
  }

  /** Every live value. */
  values(): T[] {
    const out: T[] = [];
    for (const entry of this.entries.values()) if (entry.value !== undefined) out.push(entry.value);
    return out;
  }

  /** Every live ID. */
  ids(): string[] {
    const out: string[] = [];
    for (const [id, entry] of this.entries) if (entry.value !== undefined) out.push(id);
    return out;
  }

  /** Drops tombstones older than `seq` (they can no longer be contradicted by a look in flight). */
  compact(beforeSeq: number): void {
    let kept = 0;
    for (const [id, entry] of this.entries) {
      if (entry.value !== undefined) continue;
      if (entry.seq < beforeSeq) this.entries.delete(id);
      else kept++;
    }
    // Those still needed count towards the next pass.
    this.tombstonesSinceCompaction = kept;
  }
}
