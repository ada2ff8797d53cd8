import type { KeyMeta } from '../crdt/key-meta.js';
import type { CounterRow } from '../crdt/key-state.js';
import type { Database } from './database.js';
import type { Dict, PrefetchTarget } from './dict.js';
import type { Entry } from './entry.js';
import { HashValue } from './hash.js';
import { SetValue } from './set.js';
import { ZSetValue } from './zset.js';

/** Commands (keys) per batch: enough to overlap many misses, few enough that what is read stays cached until used. */
export const PREFETCH_BATCH_KEYS = 64;
/** Member arguments looked up per batch: up to two per command (a sorted set's member may follow a score). */
const MEMBERS_PER_BATCH = 2 * PREFETCH_BATCH_KEYS;

/**
 * Reads a batch of commands' keys (dict bucket, entry, key string, value)
 * and, for sets, hashes and sorted sets, their member arguments into the
 * CPU cache before the commands run.
 *
 * On a keyspace of 100k keys and more every lookup is three or four
 * dependent cache misses, each a memory round trip; run one after another
 * they were a third of MSET's time. Touched here a phase at a time over the
 * batch, the misses of different keys are in flight together, and the
 * commands then find the lines cached. Only ever a hint: nothing changes,
 * a wrong guess costs a few loads.
 *
 * Use: use(db), then addKey/addCommand (a full batch runs by itself), then run().
 */
export class KeyPrefetch {
  private readonly hashes = new Int32Array(PREFETCH_BATCH_KEYS);
  private readonly dicts: (Dict<Entry> | null)[] = new Array<Dict<Entry> | null>(PREFETCH_BATCH_KEYS).fill(null);
  private readonly entries: (Entry | null)[] = new Array<Entry | null>(PREFETCH_BATCH_KEYS).fill(null);
  /** Scratch of run(): the found entries' replication metadata. */
  private readonly metas: (KeyMeta | null)[] = new Array<KeyMeta | null>(PREFETCH_BATCH_KEYS).fill(null);
  private readonly rowLists: (CounterRow[] | null)[] = new Array<CounterRow[] | null>(PREFETCH_BATCH_KEYS).fill(null);
  /** The buffer each command's member spans are in (null: added by key). */
  private readonly bufs: (Uint8Array | null)[] = new Array<Uint8Array | null>(PREFETCH_BATCH_KEYS).fill(null);
  /** Byte spans [start, end) of each command's argv[2] and argv[3] (-1: none). */
  private readonly memberSpans = new Int32Array(4 * PREFETCH_BATCH_KEYS);
  private readonly memberDicts: (PrefetchTarget | null)[] = new Array<PrefetchTarget | null>(MEMBERS_PER_BATCH).fill(null);
  private readonly memberHashes = new Int32Array(MEMBERS_PER_BATCH);
  private readonly memberNodes: ({ key: string } | null)[] = new Array<{ key: string } | null>(MEMBERS_PER_BATCH).fill(null);
  private count = 0;
  private db: Database | null = null;
  /** What the touching loads read: kept so the JIT cannot drop them as unused. */
  private sink = 0;

  /** The database the keys added next belong to. */
  use(db: Database): void {
    this.db = db;
  }

  /** Keys in the batch. */
  get size(): number {
    return this.count;
  }

  /** Adds key (running the batch first when it is full). */
  addKey(key: string): void {
    if (this.count === PREFETCH_BATCH_KEYS) this.run();
    const i = this.count++;
    const dict = this.db!.keys;
    this.dicts[i] = dict;
    this.hashes[i] = dict.hash(key);
    this.bufs[i] = null;
  }

  /**
   * Adds a buffered command by the byte spans of its argv[1..3] in buf
   * (spans[0..5]: start, end pairs, -1 where absent), running the batch first
   * when it is full (every caller runs it before buf can change).
   */
  addCommand(buf: Uint8Array, spans: Int32Array): void {
    if (this.count === PREFETCH_BATCH_KEYS) this.run();
    const i = this.count++;
    const dict = this.db!.keys;
    this.dicts[i] = dict;
    this.hashes[i] = dict.hashBytes(buf, spans[0]!, spans[1]!);
    this.bufs[i] = buf;
    for (let k = 0; k < 4; k++) this.memberSpans[4 * i + k] = spans[2 + k]!;
  }

  /**
   * Touches every key of the batch, then their members, and empties it.
   * Returns whether that could have saved anything: false when the batch
   * was one key over and over with no members to look up (a pipeline of
   * RPUSH to one list), whose lines stay cached anyway.
   */
  run(): boolean {
    const n = this.count;
    // Phase by phase, each a tight loop, so that many misses are in flight at once.
    for (let i = 0; i < n; i++) this.entries[i] = this.dicts[i]!.bucketHead(this.hashes[i]!);
    for (let i = 0; i < n; i++) this.entries[i] = this.dicts[i]!.chainFind(this.entries[i]!, this.hashes[i]!);
    const members = this.prefetchMemberBuckets(n);
    let s = this.touchEntries(n);
    for (let j = 0; j < members; j++) {
      const node = this.memberDicts[j]!.chainFind(this.memberNodes[j]!, this.memberHashes[j]!);
      if (node !== null) s ^= node.key.length;
      this.memberDicts[j] = null;
      this.memberNodes[j] = null;
    }
    this.sink = s;
    this.count = 0;
    return members > 0 || this.distinctKeys(n);
  }

  /**
   * Reads what the commands (or merges) will read of each found entry, a
   * level at a time over the batch: key and value, then a replicated key's
   * version, then its counter rows. One loop doing all the levels of one
   * entry before the next would wait for each miss in turn (measured: a
   * quarter of a peer's INCR apply time was spent here; with the levels
   * apart and the slimmer KeyMeta, peer CPU per INCR fell 15%).
   */
  private touchEntries(n: number): number {
    let s = this.sink;
    const metas = this.metas;
    for (let i = 0; i < n; i++) {
      const e = this.entries[i]!;
      this.entries[i] = null;
      this.dicts[i] = null;
      this.bufs[i] = null;
      metas[i] = null;
      if (e === null) continue;
      s ^= e.key.length;
      const v = e.value;
      if (typeof v === 'string') s ^= v.length;
      metas[i] = e.crdt;
    }
    // A replicated key's version: what a merge compares and a delta ships.
    for (let i = 0; i < n; i++) {
      const meta = metas[i];
      if (meta !== null && meta !== undefined) s ^= meta.digest ^ meta.origin.length;
    }
    // A counter's rows, what INCR and its merge read: the array, then its first row.
    const rowLists = this.rowLists;
    for (let i = 0; i < n; i++) {
      const meta = metas[i];
      metas[i] = null;
      rowLists[i] = meta === null || meta === undefined ? null : meta.counters;
    }
    for (let i = 0; i < n; i++) {
      const rows = rowLists[i];
      rowLists[i] = null;
      if (rows !== null && rows !== undefined && rows.length > 0) s ^= rows[0]![0].length;
    }
    return s;
  }

  /** Whether the batch's n keys are not all one (by hash). */
  private distinctKeys(n: number): boolean {
    for (let i = 1; i < n; i++) if (this.hashes[i] !== this.hashes[0]) return true;
    return false;
  }

  /**
   * Member phase one: for each entry that is a set, hash or sorted set, the
   * hashes of its member arguments, then (a separate tight loop) their buckets.
   */
  private prefetchMemberBuckets(n: number): number {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const buf = this.bufs[i];
      const v = this.entries[i]?.value;
      if (buf === null) continue;
      let dict: PrefetchTarget;
      if (v instanceof SetValue || v instanceof HashValue || v instanceof ZSetValue) dict = v.memberDict;
      else continue;
      // A sorted set's member may be argv[2] (ZSCORE, ZREM) or argv[3] after a score (ZADD, ZINCRBY):
      // argv[2] counts unless it reads as a number with something after it. Looking a score up as a
      // member was a bucket miss per ZADD for nothing (5% of ZADD at pipeline depth 1).
      const base = 4 * i;
      const zset = v instanceof ZSetValue;
      const first = zset && this.memberSpans[base + 2]! >= 0 && startsNumber(buf, this.memberSpans[base]!) ? 1 : 0;
      const spans = zset ? 2 : 1;
      for (let k = first; k < spans; k++) {
        const start = this.memberSpans[base + 2 * k]!;
        if (start < 0) continue;
        this.memberDicts[m] = dict;
        this.memberHashes[m++] = dict.hashBytes(buf, start, this.memberSpans[base + 2 * k + 1]!);
      }
    }
    for (let j = 0; j < m; j++) this.memberNodes[j] = this.memberDicts[j]!.bucketHead(this.memberHashes[j]!);
    return m;
  }
}

/** Whether the argument at buf[start] opens like a number (a digit, sign or point): a score rather than a member. */
function startsNumber(buf: Uint8Array, start: number): boolean {
  const c = buf[start]!;
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e;
}
