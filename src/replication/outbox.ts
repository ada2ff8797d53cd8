import type { KeyState } from '../crdt/key-state.js';
import type { EncodeOnce } from '../transport/codec.js';
import type { DeltaLog } from './delta-log.js';
import type { KeyStateItem } from './messages.js';
import { encodeStates, type WireStates } from './wire.js';

/** One deltas message's content: the log range it covers and the states in wire form. */
export interface Batch {
  first: number;
  maxLast: number;
  last: number;
  wire: WireStates;
  /** The deltas message, encoded once for every peer it goes to. */
  message: EncodeOnce | null;
}

/** Keys per deltas message: bounds message size and the time one batch takes. */
export const BATCH_KEYS = 1000;
/** Approximate bytes per deltas message (the bus refuses messages over 64 MiB). */
export const BATCH_BYTES = 4 * 1024 * 1024;
/** Sealed batches kept for peers that have not been sent them yet (a peer further behind reads states again). */
const MAX_SEALED = 32;

/** Where the outbox reads logged keys' states. */
export interface StateSource {
  /** Whether any peer takes deltas now (capturing for nobody is wasted work). */
  sending(): boolean;
  /** What holds the key's state now (entry or tombstone), if anything. */
  holder(db: number, key: string): object | undefined;
  /** A hash of the holder for HolderIndex (an entry's dict hash, which RENAME and MOVE change: the index copes). */
  holderHash(holder: object): number;
  /** Whether the holder's state can only change by a write that is logged: a string value or a tombstone. */
  readableNow(holder: object): boolean;
  state(holder: object): KeyState;
}

/** The batch being filled: items in first-write order, each holder once (Outbox.itemOf); events name items by index. */
interface OpenBatch {
  first: number;
  last: number;
  items: KeyStateItem[];
  holders: object[];
  /** Per item, the capture that last read its state (each is read once per capture, after the capture's writes). */
  readIn: number[];
  events: unknown[];
  bytes: number;
}

/**
 * Deltas captured while their keys are still in the CPU cache. The
 * replicator flushes every FLUSH_DELAY_MS; by then a write's key has left
 * the cache and looking its state up again was a tenth of a writing node's
 * CPU. So at the end of each I/O round the round's writes are looked up
 * and their states read, into a batch that grows until it is sent (or
 * full) and is then sealed for every peer at that log position.
 *
 * Only rounds whose every write leaves a state that changes only by a
 * logged write (strings, tombstones) are captured: a state read now must
 * equal the one read at sending time, or a later write in the same atomic
 * unit could show up without the rest of it. A round that is not captured
 * (a collection write, a unit still open, more than BATCH_KEYS writes)
 * seals the batch before it, and the replicator reads those writes' states
 * when it sends them, as it does for a peer that is behind.
 */
export class Outbox {
  private open: OpenBatch | null = null;
  /** Sealed batches in log order, not overlapping. */
  private readonly sealed: Batch[] = [];
  /** The last seq the capture looked at (captured, or left to be read at sending time). */
  private seenSeq = 0;
  /** Scratch: holders of the round's writes, and the items they touched. */
  private readonly roundHolders: (object | undefined)[] = [];
  private readonly touched: number[] = [];
  /** Counts captures (OpenBatch.readIn). */
  private captures = 0;
  /** The open batch's item index of each holder in it. */
  private readonly itemOf = new HolderIndex(BATCH_KEYS);

  constructor(
    private readonly log: DeltaLog,
    private readonly source: StateSource,
  ) {}

  /** The end of an I/O round: captures its writes, or seals what was captured before them. */
  captureRound(): void {
    const first = this.seenSeq + 1;
    const last = this.log.lastSeq;
    if (first > last || this.log.inUnit) return;
    this.seenSeq = last;
    if (last - first + 1 > BATCH_KEYS || !this.source.sending() || !this.holdersReadable(first, last)) {
      this.seal();
      return;
    }
    let open = this.open;
    if (open !== null && (open.last !== first - 1 || open.last - open.first + 1 + (last - first + 1) > BATCH_KEYS || open.bytes >= BATCH_BYTES)) {
      this.seal();
      open = null;
    }
    open ??= this.open = { first, last: first - 1, items: [], holders: [], readIn: [], events: [], bytes: 0 };
    this.append(open, first, last);
  }

  /** Looks up the holders of the writes first..last; false if one cannot be read now. */
  private holdersReadable(first: number, last: number): boolean {
    const holders = this.roundHolders;
    holders.length = 0;
    for (let seq = first; seq <= last; seq++) {
      const h = this.source.holder(this.log.dbAt(seq), this.log.keyAt(seq));
      if (h !== undefined && !this.source.readableNow(h)) return false;
      holders.push(h);
    }
    return true;
  }

  /** Adds the writes first..last (holders looked up) to the open batch; each state is read once, after all. */
  private append(open: OpenBatch, first: number, last: number): void {
    const capture = ++this.captures;
    const touched = this.touched;
    for (let seq = first; seq <= last; seq++) {
      const h = this.roundHolders[seq - first];
      if (h === undefined) continue; // no state (as when read at sending time)
      const db = this.log.dbAt(seq);
      const key = this.log.keyAt(seq);
      const hash = this.source.holderHash(h);
      let item = this.itemOf.get(h, hash);
      // RENAME and MOVE move an entry to another key: an item of an earlier
      // capture then names the old key, and keeps the state it had there.
      // Reusing it shipped the entry's new state under its old name, which
      // brought a renamed key back on every node.
      if (item < 0 || !namesKey(open.items[item]!, db, key)) {
        item = open.items.length;
        this.itemOf.put(h, hash, item);
        // The state is read below, once the round's writes are all in.
        open.items.push([db, key, null as unknown as KeyState]);
        open.holders.push(h);
        open.readIn.push(0);
        open.bytes += key.length + 64;
      }
      if (open.readIn[item] !== capture) {
        open.readIn[item] = capture;
        touched.push(item);
      }
      // Every write's event, in log order: peers replay them to their subscribers.
      open.events.push(item, this.log.eventAt(seq));
    }
    for (const item of touched) {
      const state = this.source.state(open.holders[item]!);
      open.items[item]![2] = state;
      if (typeof state.v === 'string') open.bytes += state.v.length;
    }
    open.last = last;
    touched.length = 0;
    this.roundHolders.length = 0;
  }

  /** Seals the open batch: it is sent as it is now to every peer at its position. */
  seal(): void {
    const open = this.open;
    if (open === null) return;
    this.open = null;
    this.itemOf.clear();
    if (open.last < open.first) return;
    this.sealed.push({ first: open.first, maxLast: open.last, last: open.last, wire: encodeStates(open.items, open.events), message: null });
    if (this.sealed.length > MAX_SEALED) this.sealed.shift();
  }

  /** The sealed batch starting at `first`, if any. */
  take(first: number): Batch | null {
    for (const b of this.sealed) if (b.first === first) return b;
    return null;
  }

  /** The first seq of the first sealed batch after `seq` (Infinity: none): where a batch read at sending time must stop. */
  nextFirstAfter(seq: number): number {
    for (const b of this.sealed) if (b.first > seq) return b.first;
    return Infinity;
  }

  /** Drops sealed batches every peer has been sent (sentSeq: the lowest sent seq of the peers taking deltas). */
  trim(sentSeq: number): void {
    let n = 0;
    while (n < this.sealed.length && this.sealed[n]!.last <= sentSeq) n++;
    if (n > 0) this.sealed.splice(0, n);
  }

  /** Forgets everything captured (no peer takes deltas: nothing is captured until one does). */
  clear(): void {
    this.open = null;
    this.itemOf.clear();
    this.sealed.length = 0;
    this.seenSeq = this.log.lastSeq;
  }
}

function namesKey(item: KeyStateItem, db: number, key: string): boolean {
  return item[0] === db && item[1] === key;
}

/**
 * Small integers by object identity for one batch, over a table reused from
 * batch to batch: open addressing on a hash the source gives each holder. A
 * Map per batch spent its time growing (rehashes and lookups were 1.2% of a
 * writer's CPU under SET P=1, perf).
 */
class HolderIndex {
  private readonly holders: (object | null)[];
  private readonly values: Int32Array;
  private readonly mask: number;
  private size = 0;

  /** Holds up to `capacity` holders, at a load of at most a quarter. */
  constructor(private readonly capacity: number) {
    const slots = 1 << Math.ceil(Math.log2(capacity * 4));
    this.holders = new Array<object | null>(slots).fill(null);
    this.values = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** The value set for holder, or -1. */
  get(holder: object, hash: number): number {
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const h = this.holders[i];
      if (h === holder) return this.values[i]!;
      if (h === null) return -1;
    }
  }

  /**
   * Sets holder's value: where get() finds it, or in a new slot (a holder
   * whose hash changed since can hold two; get() returns either, which the
   * caller checks).
   */
  put(holder: object, hash: number, value: number): void {
    let i = hash & this.mask;
    for (; this.holders[i] !== null; i = (i + 1) & this.mask) {
      if (this.holders[i] === holder) {
        this.values[i] = value;
        return;
      }
    }
    if (this.size >= this.capacity) throw new Error(`HolderIndex: more than ${this.capacity} holders`);
    this.holders[i] = holder;
    this.values[i] = value;
    this.size++;
  }

  /** Forgets every holder (and lets them be collected). */
  clear(): void {
    if (this.size === 0) return;
    this.holders.fill(null);
    this.size = 0;
  }
}
