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

export class StoreCore<T> {
  private next = 1;
  private readonly entries = new Map<string, Entry<T>>();

  /** A sequence number for a look at Docker that starts now. */
  begin(): number {
    return this.next++;
  }

  /** Applies the answer of a look that started at `seq`: a value, or undefined for "gone". Returns true when kept. */
  resolve(id: string, seq: number, value: T | undefined): boolean {
    const current = this.entries.get(id);
    if (current && current.seq > seq) return false;
    this.entries.set(id, { seq, value });
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
    for (const [id, entry] of this.entries) if (entry.value === undefined && entry.seq < beforeSeq) this.entries.delete(id);
  }
}
