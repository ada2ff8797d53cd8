import { canonicalInt } from './rdb.js';
import { ID_MAX, ID_ZERO, makeId, U64_MAX, type StreamId } from './stream-id.js';
import { ConsumerGroup } from './stream-pel.js';

/**
 * The stream type (t_stream.c). Entries live in nodes shaped like Redis's
 * listpack macro-nodes: a master ID and master field names, then entries in
 * ID order, deleted ones kept with a flag until the whole node empties.
 * Modelling the nodes (and their listpack byte size) keeps the observable
 * behaviour that depends on them identical to Redis: approximate trimming
 * (MAXLEN ~ / MINID ~ / LIMIT remove whole nodes only) and DUMP payloads.
 */

/** One entry: its ID and flat field/value pairs. */
export interface StreamEntry {
  id: StreamId;
  fields: string[];
  deleted: boolean;
  /** Under replication only: the HLC stamp and origin node of the XADD that wrote it (replication/stream-crdt.ts). */
  ts?: number;
  origin?: string;
}

/** The listpack bytes of an element (lpAppend: canonical integers are stored as integers). */
export function lpElementBytes(s: string): number {
  const v = canonicalInt(s);
  if (v !== null) return lpIntBytes(v);
  const len = s.length;
  const head = len < 64 ? 1 : len < 4096 ? 2 : 5;
  const body = head + len;
  return body + (body <= 127 ? 1 : body < 16383 ? 2 : body < 2097151 ? 3 : body < 268435455 ? 4 : 5);
}

/** An integer element's bytes: encoding + payload + 1-byte back-length. */
export function lpIntBytes(v: bigint | number): number {
  const n = typeof v === 'bigint' ? v : BigInt(v);
  if (n >= 0n && n <= 127n) return 2;
  if (n >= -4096n && n <= 4095n) return 3;
  if (n >= -32768n && n <= 32767n) return 4;
  if (n >= -8388608n && n <= 8388607n) return 5;
  if (n >= -2147483648n && n <= 2147483647n) return 6;
  return 10;
}

/** The listpack header (total bytes + count) and EOF byte. */
const LP_OVERHEAD = 7;
/** Entry flags (STREAM_ITEM_FLAG_*). */
export const FLAG_DELETED = 1;
export const FLAG_SAMEFIELDS = 2;

/**
 * Automatic IDs of one replica under replication: sequence numbers
 * congruent to `index` modulo `count`, so that replicas adding entries in
 * the same millisecond pick different IDs (their streams merge by ID).
 */
export interface IdLane {
  count: bigint;
  index: bigint;
}

/** The first ID >= id in the lane (the sequence carries into the next millisecond when it would overflow). */
function inLane(id: StreamId, lane: IdLane): StreamId {
  const seq = id & U64_MAX;
  const up = (lane.index - (seq % lane.count) + lane.count) % lane.count;
  if (seq + up <= U64_MAX) return id + up;
  return (id >> 64n) === U64_MAX ? ID_MAX : makeId((id >> 64n) + 1n, lane.index);
}

/** A macro node: what one listpack in Redis's rax holds. */
export class StreamNode {
  readonly entries: StreamEntry[] = [];
  live = 0;
  deleted = 0;
  /** Listpack bytes except the live/deleted counters (which change size as they count). */
  private fixedBytes: number;

  constructor(
    readonly master: StreamId,
    readonly masterFields: string[],
  ) {
    this.fixedBytes = LP_OVERHEAD + lpIntBytes(masterFields.length) + lpIntBytes(0);
    for (const f of masterFields) this.fixedBytes += lpElementBytes(f);
  }

  /** lpBytes of the node's listpack. */
  get bytes(): number {
    return this.fixedBytes + lpIntBytes(this.live) + lpIntBytes(this.deleted);
  }

  /** True when e's field names are the master's (stored without names: STREAM_ITEM_FLAG_SAMEFIELDS). */
  sameFields(e: StreamEntry): boolean {
    const m = this.masterFields;
    if (e.fields.length !== m.length * 2) return false;
    for (let i = 0; i < m.length; i++) if (e.fields[i * 2] !== m[i]) return false;
    return true;
  }

  /** Appends e (added as in streamAppendItem) and accounts its listpack bytes. */
  push(e: StreamEntry): void {
    this.entries.push(e);
    if (e.deleted) this.deleted++;
    else this.live++;
    const same = this.sameFields(e);
    const idMs = (e.id >> 64n) - (this.master >> 64n);
    const idSeq = BigInt.asIntN(64, (e.id & U64_MAX) - (this.master & U64_MAX));
    let parts = e.fields.length / 2 + 3;
    this.fixedBytes += 2 + lpIntBytes(BigInt.asIntN(64, idMs)) + lpIntBytes(idSeq);
    for (let i = same ? 1 : 0; i < e.fields.length; i += same ? 2 : 1) this.fixedBytes += lpElementBytes(e.fields[i]!);
    if (!same) {
      this.fixedBytes += lpIntBytes(e.fields.length / 2);
      parts += e.fields.length / 2 + 1;
    }
    this.fixedBytes += lpIntBytes(parts);
  }

  /** Index of the first entry with ID >= id. */
  lowerBound(id: StreamId): number {
    const a = this.entries;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get lastId(): StreamId {
    return this.entries[this.entries.length - 1]!.id;
  }
}

/** Node size limits (stream-node-max-bytes / stream-node-max-entries). */
export interface StreamLimits {
  maxBytes: number;
  maxEntries: number;
}

/** STREAM_LISTPACK_MAX_SIZE: a listpack never grows past 1 GiB. */
const LISTPACK_MAX_SIZE = 1 << 30;

/** streamAddTrimArgs' trimming part. */
export interface TrimArgs {
  strategy: 'maxlen' | 'minid';
  maxlen: number;
  minid: StreamId;
  approx: boolean;
  /** 0 = no limit. */
  limit: number;
}

export class StreamValue {
  nodes: StreamNode[] = [];
  length = 0;
  lastId: StreamId = ID_ZERO;
  firstId: StreamId = ID_ZERO;
  maxDeletedId: StreamId = ID_ZERO;
  entriesAdded = 0;
  readonly groups = new Map<string, ConsumerGroup>();
  /**
   * Under replication: the entries XDEL/XTRIM removed since the CRDT last
   * looked (it turns them into observed removes). Null on a stand-alone
   * node, which then pays nothing.
   */
  removedLog: StreamEntry[] | null = null;

  /**
   * streamAppendItem after the ID was chosen (see nextId): starts a new node
   * when the tail one is full by bytes or entries (deleted ones included).
   */
  append(id: StreamId, fields: string[], limits: StreamLimits): void {
    let tail: StreamNode | undefined = this.nodes[this.nodes.length - 1];
    if (tail !== undefined && this.tailFull(tail, fields, limits)) tail = undefined;
    if (tail === undefined) {
      const names: string[] = [];
      for (let i = 0; i < fields.length; i += 2) names.push(fields[i]!);
      tail = new StreamNode(id, names);
      this.nodes.push(tail);
    }
    tail.push({ id, fields, deleted: false });
    this.length++;
    this.entriesAdded++;
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  /**
   * Replaces every entry with `entries` (live, in ID order), packed into
   * nodes as successive appends would: how a replica lays out a merged stream.
   * Counters and IDs other than firstId are the caller's.
   */
  loadEntries(entries: readonly StreamEntry[], limits: StreamLimits): void {
    this.nodes = [];
    this.length = 0;
    const added = this.entriesAdded;
    const last = this.lastId;
    for (const e of entries) {
      this.append(e.id, e.fields, limits);
      const tail = this.nodes[this.nodes.length - 1]!;
      tail.entries[tail.entries.length - 1] = e;
    }
    this.entriesAdded = added;
    this.lastId = last;
    this.refreshFirstId();
  }

  private tailFull(tail: StreamNode, fields: string[], limits: StreamLimits): boolean {
    let maxBytes = limits.maxBytes;
    if (maxBytes === 0 || maxBytes > LISTPACK_MAX_SIZE) maxBytes = LISTPACK_MAX_SIZE;
    let total = 0;
    for (const f of fields) total += f.length;
    if (tail.bytes + total >= maxBytes) return true;
    return limits.maxEntries > 0 && tail.live + tail.deleted >= limits.maxEntries;
  }

  /**
   * The ID XADD would use: explicit (seqGiven), "ms-*" (next seq of the same
   * ms, else 0), or automatic from the clock. Null when it would not be
   * greater than the last ID (or overflows).
   */
  nextId(explicit: StreamId | null, seqGiven: boolean, nowMs: number, lane: IdLane | null = null): StreamId | null {
    let id: StreamId;
    if (explicit !== null) {
      if (seqGiven) id = explicit;
      else if (explicit >> 64n === this.lastId >> 64n) {
        if ((this.lastId & U64_MAX) === U64_MAX) return null;
        id = this.lastId + 1n;
      } else id = explicit;
    } else {
      const ms = BigInt(Math.floor(nowMs));
      const lastMs = this.lastId >> 64n;
      if (lastMs >= ms) {
        if (this.lastId === ID_MAX) return null;
        id = this.lastId + 1n; // streamIncrID: seq overflow carries into ms
      } else id = makeId(ms, 0n);
      if (lane !== null) id = inLane(id, lane);
    }
    return id > this.lastId ? id : null;
  }

  /** Binary search: index of the last node whose master ID <= id, or -1. */
  private nodeFor(id: StreamId): number {
    let lo = 0;
    let hi = this.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nodes[mid]!.master <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The live entry with this ID. */
  get(id: StreamId): StreamEntry | undefined {
    const n = this.nodes[this.nodeFor(id)];
    if (n === undefined) return undefined;
    const e = n.entries[n.lowerBound(id)];
    return e !== undefined && e.id === id && !e.deleted ? e : undefined;
  }

  has(id: StreamId): boolean {
    return this.get(id) !== undefined;
  }

  /** streamDeleteItem: flags the entry deleted; a node left without live entries goes. */
  delete(id: StreamId): boolean {
    const ni = this.nodeFor(id);
    const n = this.nodes[ni];
    if (n === undefined) return false;
    const e = n.entries[n.lowerBound(id)];
    if (e === undefined || e.id !== id || e.deleted) return false;
    e.deleted = true;
    n.live--;
    n.deleted++;
    this.length--;
    this.removedLog?.push(e);
    if (n.live === 0) this.nodes.splice(ni, 1);
    return true;
  }

  /** Live entries from start to end inclusive, forward or reversed. */
  *range(start: StreamId, end: StreamId, rev: boolean): IterableIterator<StreamEntry> {
    if (start > end) return;
    if (!rev) {
      for (let ni = Math.max(0, this.nodeFor(start)); ni < this.nodes.length; ni++) {
        const n = this.nodes[ni]!;
        if (n.master > end) return;
        for (let i = n.lowerBound(start); i < n.entries.length; i++) {
          const e = n.entries[i]!;
          if (e.id > end) return;
          if (!e.deleted) yield e;
        }
      }
      return;
    }
    for (let ni = this.nodeFor(end); ni >= 0; ni--) {
      const n = this.nodes[ni]!;
      for (let i = n.lowerBound(end === ID_MAX ? end : end + 1n) - 1; i >= 0; i--) {
        const e = n.entries[i]!;
        if (e.id < start) return;
        if (!e.deleted) yield e;
      }
    }
  }

  /** streamGetEdgeID over live entries: the first (or last) one's ID, 0-0 / max when empty. */
  edgeId(first: boolean): StreamId {
    for (const e of this.range(ID_ZERO, ID_MAX, !first)) return e.id;
    return first ? ID_MAX : ID_ZERO;
  }

  /** streamLastValidID: the last live entry's ID (0-0 when empty). */
  lastValidId(): StreamId {
    return this.length === 0 ? ID_ZERO : this.edgeId(false);
  }

  /** After deletions at the head: first_id follows the first live entry. */
  refreshFirstId(): void {
    this.firstId = this.length === 0 ? ID_ZERO : this.edgeId(true);
  }

  /** streamTrim: removes whole nodes, then (unless approx) entries inside the first remaining one. */
  trim(args: TrimArgs): number {
    let deleted = 0;
    while (this.nodes.length > 0) {
      if (args.strategy === 'maxlen' && this.length <= args.maxlen) break;
      const n = this.nodes[0]!;
      if (args.limit > 0 && deleted + n.live > args.limit) break;
      const whole = args.strategy === 'maxlen' ? this.length - n.live >= args.maxlen : n.lastId < args.minid;
      if (whole) {
        this.nodes.shift();
        if (this.removedLog !== null) for (const e of n.entries) if (!e.deleted) this.removedLog.push(e);
        this.length -= n.live;
        deleted += n.live;
        continue;
      }
      if (!args.approx) deleted += this.trimInside(n, args);
      break;
    }
    if (this.length === 0) this.firstId = ID_ZERO;
    else if (deleted > 0) this.refreshFirstId();
    return deleted;
  }

  /** The exact part of streamTrim: flags entries of the head node deleted (the node itself stays). */
  private trimInside(n: StreamNode, args: TrimArgs): number {
    let count = 0;
    for (const e of n.entries) {
      if (args.strategy === 'maxlen' ? this.length <= args.maxlen : e.id >= args.minid) break;
      if (e.deleted) continue;
      e.deleted = true;
      n.live--;
      n.deleted++;
      this.length--;
      this.removedLog?.push(e);
      count++;
    }
    return count;
  }

  /**
   * streamEstimateDistanceFromFirstEverEntry: the logical read counter of
   * id when it can be known, else -1.
   */
  estimateDistance(id: StreamId): number {
    if (this.entriesAdded === 0) return 0;
    if (this.length === 0 && id <= this.lastId) return this.entriesAdded;
    if (id === this.lastId) return this.entriesAdded;
    if (id > this.lastId) return -1;
    if (this.maxDeletedId === ID_ZERO || this.maxDeletedId < this.firstId) {
      if (id < this.firstId) return this.entriesAdded - this.length;
      if (id === this.firstId) return this.entriesAdded - this.length + 1;
    }
    return -1;
  }

  /** streamRangeHasTombstones from start to the end of the stream. */
  hasTombstonesFrom(start: StreamId): boolean {
    if (this.length === 0 || this.maxDeletedId === ID_ZERO) return false;
    if (this.firstId > this.maxDeletedId) return false;
    return start <= this.maxDeletedId;
  }

  /** streamReplyWithCGLag's number: null when it cannot be known. */
  groupLag(g: ConsumerGroup): number | null {
    if (this.entriesAdded === 0) return 0;
    if (g.entriesRead !== -1 && !this.hasTombstonesFrom(g.lastId)) return this.entriesAdded - g.entriesRead;
    const read = this.estimateDistance(g.lastId);
    return read === -1 ? null : this.entriesAdded - read;
  }

  /** Groups in rax (byte) order. */
  sortedGroups(): ConsumerGroup[] {
    return [...this.groups.keys()].sort().map((k) => this.groups.get(k)!);
  }

  /** rax keys and an estimate of rax nodes (XINFO STREAM's radix-tree-keys / radix-tree-nodes). */
  get nodeCount(): number {
    return this.nodes.length;
  }
}
