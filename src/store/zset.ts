import type { ElementObserver } from './element-observer.js';
import { formatDouble } from '../protocol/format.js';
import { Dict } from './dict.js';
import { type Before, OrderTree, ZNode } from './zset-tree.js';
import { RDB_TYPE, RdbFormatError, readListpack, readZiplist, writeListpack, type RdbReader } from './rdb.js';
import type { RdbLoader, TypeCodec } from './values.js';

/**
 * The sorted set type (t_zset.c): a Dict from member to its node (O(1)
 * score lookup, the SCAN cursor) plus an ordered index by (score, member)
 * with O(log n) rank, select and range operations (zset-tree.ts, a counted
 * B+tree standing in for Redis's skiplist with spans).
 *
 * Every member lives in exactly one ZNode, reachable through node(): the
 * dict entry and the index element are the same object, so a later CRDT
 * layer (OR-set tags, LWW score clocks) hangs its per-member metadata on
 * `meta` without touching the commands.
 *
 * The encoding is the one Redis 7.0 would report ("listpack" while small,
 * "skiplist" once grown); the representation is the same for both.
 */

export { ZNode } from './zset-tree.js';

export type ZSetEncoding = 'listpack' | 'skiplist';

/** A score interval (zrangespec): min/max with exclusive flags. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** One end of a lex interval (zlexrangespec): "-" (inf -1), "+" (inf 1), or a value, inclusive or not. */
export interface LexBound {
  inf: -1 | 0 | 1;
  value: string;
  ex: boolean;
}

export interface LexRange {
  min: LexBound;
  max: LexBound;
}

function lexGteMin(s: string, b: LexBound): boolean {
  if (b.inf !== 0) return b.inf < 0;
  return b.ex ? s > b.value : s >= b.value;
}

function lexLteMax(s: string, b: LexBound): boolean {
  if (b.inf !== 0) return b.inf > 0;
  return b.ex ? s < b.value : s <= b.value;
}

export class ZSetValue {
  private readonly dict: Dict<ZNode>;
  private readonly index = new OrderTree();
  private enc: ZSetEncoding;
  /** Replication's element observer while this sorted set is stored in a replicated keyspace. */
  observer: ElementObserver | null = null;

  constructor(
    readonly seed: number,
    encoding: ZSetEncoding = 'listpack',
  ) {
    this.dict = new Dict<ZNode>(seed);
    this.enc = encoding;
  }

  /** The member index, for KeyPrefetch to read ahead (read-only use). */
  get memberDict(): Dict<ZNode> {
    return this.dict;
  }

  get size(): number {
    return this.index.size;
  }

  /** OBJECT ENCODING's answer. */
  get encoding(): ZSetEncoding {
    return this.enc;
  }

  /** Reports "skiplist" from now on (zsetConvert to skiplist). */
  toSkiplist(): void {
    this.enc = 'skiplist';
  }

  /** Reports "listpack" when the set fits the limits (zsetConvertToListpackIfNeeded). */
  toListpackIfFits(maxEntries: number, maxValue: number): void {
    if (this.enc === 'listpack' || this.size > maxEntries) return;
    for (const n of this) if (n.key.length > maxValue) return;
    this.enc = 'listpack';
  }

  /** The node of member m, or undefined. */
  node(m: string): ZNode | undefined {
    return this.dict.get(m);
  }

  score(m: string): number | undefined {
    return this.dict.get(m)?.score;
  }

  /** Lowest / highest node, or null when empty. */
  first(): ZNode | null {
    return this.index.at(0);
  }

  last(): ZNode | null {
    return this.index.at(this.size - 1);
  }

  /** Adds a member known to be absent; returns its node. */
  insert(m: string, score: number): ZNode {
    const node = new ZNode(m, score);
    this.index.insert(node);
    this.dict.add(node);
    this.observer?.elementChanged(this, m, true, undefined, undefined);
    return node;
  }

  /** Changes a member's score (zslUpdateScore), keeping its node. */
  setScore(node: ZNode, score: number): void {
    const previous = node.score;
    this.index.updateScore(node, score);
    this.observer?.elementChanged(this, node.key, true, String(previous), node.meta);
  }

  /** Removes member m; false if absent. */
  remove(m: string): boolean {
    const node = this.dict.get(m);
    if (node === undefined) return false;
    this.index.remove(node);
    this.dict.delete(m);
    this.observer?.elementChanged(this, m, false, String(node.score), node.meta);
    return true;
  }

  /** 0-based rank of member m from the lowest (or the highest when reverse), or null if absent. */
  rank(m: string, reverse = false): number | null {
    const node = this.dict.get(m);
    if (node === undefined) return null;
    const rank = this.index.countBelow(node.score, node.key);
    return reverse ? this.size - 1 - rank : rank;
  }

  /** The node at 0-based rank, or null when out of range. */
  at(rank: number): ZNode | null {
    return this.index.at(rank);
  }

  /** The ranks [lo, hi] of the members whose score is in range, or null when none. */
  scoreRanks(r: ScoreRange): [number, number] | null {
    const lo = this.index.countBefore((s) => (r.minex ? s <= r.min : s < r.min));
    const hi = this.index.countBefore((s) => (r.maxex ? s < r.max : s <= r.max)) - 1;
    return lo <= hi ? [lo, hi] : null;
  }

  /** The ranks [lo, hi] of the members in a lex range (all scores equal, as Redis assumes), or null. */
  lexRanks(r: LexRange): [number, number] | null {
    const lo = this.index.countBefore((_, node) => !lexGteMin(node.key, r.min));
    const hi = this.index.countBefore((_, node) => lexLteMax(node.key, r.max)) - 1;
    return lo <= hi ? [lo, hi] : null;
  }

  /** Removes the members with 0-based ranks lo..hi inclusive; returns how many. */
  removeRangeByRank(lo: number, hi: number): number {
    let removed = 0;
    for (let r = lo; r <= hi && lo < this.size; r++) {
      const node = this.index.removeAt(lo);
      this.dict.delete(node.key);
      this.observer?.elementChanged(this, node.key, false, String(node.score), node.meta);
      removed++;
    }
    return removed;
  }

  /** Up to n nodes from 0-based rank `from`, ascending or descending (do not mutate meanwhile). */
  range(from: number, n: number, reverse = false): IterableIterator<ZNode> {
    return this.index.range(from, n, reverse);
  }

  /** Nodes in ascending order (do not mutate meanwhile). */
  [Symbol.iterator](): IterableIterator<ZNode> {
    return this.index.range(0, this.size);
  }

  /** Checks the index's structure (tests). */
  verify(): void {
    this.index.verify();
  }

  /** One random node (uniform), or null when empty. */
  random(rand: (bound: number) => number): ZNode | null {
    return this.size === 0 ? null : this.index.at(rand(this.size));
  }

  /**
   * One SCAN step over the members' dict; returns the next cursor. A
   * listpack-encoded set is returned whole by the first call, as in Redis.
   */
  scan(cursor: number, visit: (n: ZNode) => void): number {
    if (this.enc === 'listpack') {
      for (const n of this) visit(n);
      return 0;
    }
    return this.dict.scan(cursor, visit);
  }

  /** An independent copy with the same members, scores, metadata and encoding (COPY). */
  clone(): ZSetValue {
    const z = new ZSetValue(this.seed, this.enc);
    for (const n of this) z.insert(n.key, n.score).meta = n.meta;
    return z;
  }
}

// ---- OBJECT / COPY / DUMP / RDB ----

/** Redis's default zset-max-listpack-entries / -value, used where no config is at hand (loading). */
const DEFAULT_MAX_LISTPACK_ENTRIES = 128;
const DEFAULT_MAX_LISTPACK_VALUE = 64;
/** Dict seed of loaded sorted sets (loaders get no Random). */
const LOAD_SEED = 0x25e7c0d;

/** A score as text inside a listpack (d2string: "%.17g", integers plain, "inf"/"-inf"). */
function scoreText(d: number): string {
  return formatDouble(d);
}

/** strtod of a score stored as listpack text; throws RdbFormatError when invalid. */
function parseStoredScore(s: string): number {
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) throw new RdbFormatError('bad zset score');
  return v;
}

/** A loaded sorted set from (member, score) pairs, rejecting duplicates and NaN, encoded as Redis's loader leaves it. */
function loadedZset(pairs: Iterable<[string, number]>): ZSetValue {
  const z = new ZSetValue(LOAD_SEED, 'skiplist');
  for (const [m, score] of pairs) {
    if (Number.isNaN(score)) throw new RdbFormatError('zset score is NaN');
    if (z.node(m) !== undefined) throw new RdbFormatError('duplicate zset member');
    z.insert(m, score);
  }
  if (z.size === 0) throw new RdbFormatError('empty zset');
  z.toListpackIfFits(DEFAULT_MAX_LISTPACK_ENTRIES, DEFAULT_MAX_LISTPACK_VALUE);
  return z;
}

function* flatPairs(elements: readonly string[]): IterableIterator<[string, number]> {
  if (elements.length % 2 !== 0) throw new RdbFormatError('odd zset listpack');
  for (let i = 0; i < elements.length; i += 2) yield [elements[i]!, parseStoredScore(elements[i + 1]!)];
}

/** rdbLoadDoubleValue (RDB_TYPE_ZSET): a length byte then ASCII, 253/254/255 for nan/+inf/-inf. */
function readAsciiDouble(r: RdbReader): number {
  const len = r.byte();
  if (len === 253) return NaN;
  if (len === 254) return Infinity;
  if (len === 255) return -Infinity;
  return parseStoredScore(r.bytes(len).latin1Slice());
}

function* rdbPairs(r: RdbReader, binary: boolean): IterableIterator<[string, number]> {
  const len = r.length();
  for (let i = 0; i < len; i++) {
    const m = r.text();
    yield [m, binary ? r.binaryDouble() : readAsciiDouble(r)];
  }
}

/** What OBJECT, COPY, DUMP and RDB need of a sorted set (values.ts registers it in CODECS). */
export const zsetCodec: TypeCodec = {
  encoding: (value) => (value as ZSetValue).encoding,
  refcount: () => 1,
  dup: (value) => (value as ZSetValue).clone(),
  save(w, value, compress) {
    const z = value as ZSetValue;
    if (z.encoding === 'listpack') {
      const flat: string[] = [];
      for (const n of z) flat.push(n.key, scoreText(n.score));
      w.byte(RDB_TYPE.ZSET_LISTPACK);
      w.string(writeListpack(flat), compress);
      return;
    }
    w.byte(RDB_TYPE.ZSET_2);
    w.length(z.size);
    for (const x of z.range(z.size - 1, z.size, true)) {
      w.string(x.key, compress);
      w.binaryDouble(x.score);
    }
  },
};

/** RDB loaders of the sorted set types (rdbLoadObject's ZSET, ZSET_2, ZSET_ZIPLIST, ZSET_LISTPACK). */
export const zsetLoaders: Record<number, RdbLoader> = {
  [RDB_TYPE.ZSET]: (r) => ({ type: 'zset', value: loadedZset(rdbPairs(r, false)) }),
  [RDB_TYPE.ZSET_2]: (r) => ({ type: 'zset', value: loadedZset(rdbPairs(r, true)) }),
  [RDB_TYPE.ZSET_ZIPLIST]: (r) => ({ type: 'zset', value: loadedZset(flatPairs(readZiplist(r.string()))) }),
  [RDB_TYPE.ZSET_LISTPACK]: (r) => ({ type: 'zset', value: loadedZset(flatPairs(readListpack(r.string()))) }),
};
