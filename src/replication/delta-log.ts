/**
 * This node's own writes, in order, with per-origin sequence numbers: a
 * bounded ring of (db, key, HLC, keyspace event name; peers replay the
 * event names to their keyspace notifications and KSUB subscribers). The states themselves are not stored:
 * when a batch is sent, the current state of each key is read, which
 * dominates every earlier state of that key (state-based deltas). A peer
 * that falls behind the ring's tail catches up through anti-entropy.
 */
export class DeltaLog {
  private readonly dbs: Int32Array;
  private readonly keys: (string | undefined)[];
  private readonly stamps: Float64Array;
  private readonly events: (string | undefined)[];
  /** Sequence number of the newest entry (0: none yet). Seqs start at 1. */
  lastSeq = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('delta log capacity must be at least 1');
    this.dbs = new Int32Array(capacity);
    this.keys = new Array<string | undefined>(capacity);
    this.stamps = new Float64Array(capacity);
    this.events = new Array<string | undefined>(capacity);
  }

  /** Oldest sequence number still held. */
  get firstSeq(): number {
    return Math.max(1, this.lastSeq - this.capacity + 1);
  }

  append(db: number, key: string, atMs: number, event: string): number {
    const seq = ++this.lastSeq;
    const slot = seq % this.capacity;
    this.dbs[slot] = db;
    this.keys[slot] = key;
    this.stamps[slot] = atMs;
    this.events[slot] = event;
    return seq;
  }

  /** True when seq is still in the ring. */
  holds(seq: number): boolean {
    return seq >= this.firstSeq && seq <= this.lastSeq;
  }

  dbAt(seq: number): number {
    return this.dbs[seq % this.capacity]!;
  }

  keyAt(seq: number): string {
    return this.keys[seq % this.capacity]!;
  }

  eventAt(seq: number): string {
    return this.events[seq % this.capacity]!;
  }

  /** When the entry was written (Unix ms): replication lag in ms. */
  timeAt(seq: number): number {
    return this.stamps[seq % this.capacity]!;
  }
}
