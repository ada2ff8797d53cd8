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
  /** 1 where an entry and the next one are writes of one atomic unit (EXEC, a script): never split across messages. */
  private readonly joins: Uint8Array;
  /** Open atomic units (nested EXEC in a script...) and the first seq of the outermost. */
  private unitDepth = 0;
  private unitFirstSeq = 0;
  /** Sequence number of the newest entry (0: none yet). Seqs start at 1. */
  lastSeq = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('delta log capacity must be at least 1');
    this.dbs = new Int32Array(capacity);
    this.keys = new Array<string | undefined>(capacity);
    this.stamps = new Float64Array(capacity);
    this.events = new Array<string | undefined>(capacity);
    this.joins = new Uint8Array(capacity);
  }

  /** Writes appended until the matching endUnit() form one unit. */
  beginUnit(): void {
    if (this.unitDepth++ === 0) this.unitFirstSeq = this.lastSeq + 1;
  }

  endUnit(): void {
    if (this.unitDepth === 0) throw new Error('delta log: endUnit without beginUnit');
    this.unitDepth--;
  }

  get inUnit(): boolean {
    return this.unitDepth > 0;
  }

  /** Whether seq and seq + 1 belong to one unit. */
  joinsNext(seq: number): boolean {
    return this.holds(seq) && this.joins[seq % this.capacity] === 1;
  }

  /** The last seq of the unit holding seq (seq itself when it is a lone write). */
  unitEnd(seq: number): number {
    let s = seq;
    while (s < this.lastSeq && this.joinsNext(s)) s++;
    return s;
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
    this.joins[slot] = 0;
    if (this.unitDepth > 0 && seq > this.unitFirstSeq) this.joins[(seq - 1) % this.capacity] = 1;
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
