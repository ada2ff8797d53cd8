import { formatDouble } from '../protocol/format.js';
import { Dict, type DictNode } from './dict.js';
import { RDB_TYPE, RdbFormatError, readListpack, readZiplist, writeListpack, type RdbReader } from './rdb.js';
import type { RdbLoader, TypeCodec } from './values.js';

/**
 * The sorted set type (t_zset.c): a Dict from member to its node (O(1)
 * score lookup, SCAN cursor) plus a skiplist with span counts ordered by
 * (score, member), giving rank, range and rank-range operations in
 * O(log n) as Redis's zskiplist.
 *
 * Every member lives in exactly one ZNode, reachable through node(): the
 * dict entry and the skiplist node are the same object, so a later CRDT
 * layer (OR-set tags, LWW score clocks) hangs its per-member metadata on
 * `meta` without touching the commands.
 *
 * The encoding is the one Redis 7.0 would report ("listpack" while small,
 * "skiplist" once grown); the representation is the same for both.
 */

const MAX_LEVEL = 32;

/** One member: its dict chain link, its score, and its skiplist links. */
export class ZNode implements DictNode<ZNode> {
  /** Dict bucket chain. */
  next: ZNode | null = null;
  /** Per-member metadata for replication layers; unused by the commands. */
  meta: unknown = undefined;
  backward: ZNode | null = null;
  readonly forward: (ZNode | null)[];
  /** span[i]: how many level-0 steps forward[i] skips. */
  readonly span: number[];

  constructor(
    /** The member (latin1 text). */
    public key: string,
    public score: number,
    level: number,
  ) {
    this.forward = new Array<ZNode | null>(level).fill(null);
    this.span = new Array<number>(level).fill(0);
  }
}

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

function gteMin(v: number, r: ScoreRange): boolean {
  return r.minex ? v > r.min : v >= r.min;
}

function lteMax(v: number, r: ScoreRange): boolean {
  return r.maxex ? v < r.max : v <= r.max;
}

function lexGteMin(s: string, b: LexBound): boolean {
  if (b.inf !== 0) return b.inf < 0;
  return b.ex ? s > b.value : s >= b.value;
}

function lexLteMax(s: string, b: LexBound): boolean {
  if (b.inf !== 0) return b.inf > 0;
  return b.ex ? s < b.value : s <= b.value;
}

/** Order of two lex bounds as points ("-" < any value < "+"). */
function compareBounds(a: LexBound, b: LexBound): number {
  if (a.inf !== 0 || b.inf !== 0) return a.inf === b.inf ? 0 : a.inf === 0 ? -b.inf : a.inf;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** True if (score, member) sorts before node. */
function before(score: number, member: string, node: ZNode): boolean {
  return score < node.score || (score === node.score && member < node.key);
}

/** True if node sorts before (score, member). */
function after(node: ZNode, score: number, member: string): boolean {
  return node.score < score || (node.score === score && node.key < member);
}

/** Scratch arrays for the update path (commands run one at a time). */
const update: ZNode[] = new Array<ZNode>(MAX_LEVEL);
const rankAt: number[] = new Array<number>(MAX_LEVEL).fill(0);

export class ZSetValue {
  private readonly dict: Dict<ZNode>;
  private readonly header = new ZNode('', 0, MAX_LEVEL);
  private tail: ZNode | null = null;
  private level = 1;
  private length = 0;
  /** xorshift32 state for node levels, derived from the seed (deterministic). */
  private rng: number;
  private enc: ZSetEncoding;

  constructor(
    readonly seed: number,
    encoding: ZSetEncoding = 'listpack',
  ) {
    this.dict = new Dict<ZNode>(seed);
    this.rng = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.enc = encoding;
  }

  get size(): number {
    return this.length;
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
    if (this.enc === 'listpack' || this.length > maxEntries) return;
    for (let x = this.first(); x !== null; x = x.forward[0]!) if (x.key.length > maxValue) return;
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
    return this.header.forward[0]!;
  }

  last(): ZNode | null {
    return this.tail;
  }

  private randomLevel(): number {
    let level = 1;
    for (;;) {
      let x = this.rng;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rng = x >>> 0;
      if ((this.rng & 3) !== 0 || level >= MAX_LEVEL) return level; // p = 1/4, as ZSKIPLIST_P
      level++;
    }
  }

  /** Adds a member known to be absent; returns its node. */
  insert(m: string, score: number): ZNode {
    const node = new ZNode(m, score, this.randomLevel());
    this.link(node);
    this.dict.add(node);
    return node;
  }

  /** Changes a member's score, moving it in the order only when needed (zslUpdateScore). */
  setScore(node: ZNode, score: number): void {
    const prev = node.backward;
    const next = node.forward[0]!;
    if ((prev === null || after(prev, score, node.key)) && (next === null || before(score, node.key, next))) {
      node.score = score;
      return;
    }
    this.findUpdate(node.score, node.key);
    this.unlink(node);
    node.score = score;
    this.link(node);
  }

  /** Removes member m; false if absent. */
  remove(m: string): boolean {
    const node = this.dict.get(m);
    if (node === undefined) return false;
    this.findUpdate(node.score, node.key);
    this.unlink(node);
    this.dict.delete(m);
    return true;
  }

  /** Fills `update` with the last node before (score, member) at each level; returns the level-0 rank of update[0]. */
  private findUpdate(score: number, member: string): number {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rankAt[i] = i === this.level - 1 ? 0 : rankAt[i + 1]!;
      for (let f = x.forward[i]; f !== null && after(f!, score, member); f = x.forward[i]) {
        rankAt[i]! += x.span[i]!;
        x = f!;
      }
      update[i] = x;
    }
    return rankAt[0]!;
  }

  /** zslInsert with an existing node (its level fixed at creation). */
  private link(node: ZNode): void {
    this.findUpdate(node.score, node.key);
    const lvl = node.forward.length;
    if (lvl > this.level) {
      for (let i = this.level; i < lvl; i++) {
        rankAt[i] = 0;
        update[i] = this.header;
        this.header.span[i] = this.length;
      }
      this.level = lvl;
    }
    for (let i = 0; i < lvl; i++) {
      const u = update[i]!;
      node.forward[i] = u.forward[i]!;
      u.forward[i] = node;
      node.span[i] = u.span[i]! - (rankAt[0]! - rankAt[i]!);
      u.span[i] = rankAt[0]! - rankAt[i]! + 1;
    }
    for (let i = lvl; i < this.level; i++) update[i]!.span[i]!++;
    node.backward = update[0] === this.header ? null : update[0]!;
    const next = node.forward[0];
    if (next) next.backward = node;
    else this.tail = node;
    this.length++;
  }

  /** zslDeleteNode: unlinks x given the `update` path found for it. */
  private unlink(x: ZNode): void {
    for (let i = 0; i < this.level; i++) {
      const u = update[i]!;
      if (u.forward[i] === x) {
        u.span[i]! += x.span[i]! - 1;
        u.forward[i] = x.forward[i]!;
      } else {
        u.span[i]!--;
      }
    }
    const next = x.forward[0];
    if (next) next.backward = x.backward;
    else this.tail = x.backward;
    while (this.level > 1 && this.header.forward[this.level - 1] === null) this.level--;
    this.length--;
    x.backward = null;
    for (let i = 0; i < x.forward.length; i++) {
      x.forward[i] = null;
      x.span[i] = 0;
    }
  }

  /** 0-based rank of member m from the lowest (or the highest when reverse), or null if absent. */
  rank(m: string, reverse = false): number | null {
    const node = this.dict.get(m);
    if (node === undefined) return null;
    let rank = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let f = x.forward[i]; f !== null && !before(node.score, node.key, f!); f = x.forward[i]) {
        rank += x.span[i]!;
        x = f!;
      }
      if (x === node) break;
    }
    return reverse ? this.length - rank : rank - 1;
  }

  /** The node at 0-based rank, or null when out of range (zslGetElementByRank). */
  at(rank: number): ZNode | null {
    if (rank < 0 || rank >= this.length) return null;
    const target = rank + 1;
    let traversed = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      while (x.forward[i] !== null && traversed + x.span[i]! <= target) {
        traversed += x.span[i]!;
        x = x.forward[i]!;
      }
      if (traversed === target) return x;
    }
    return null;
  }

  /** First node whose score is in range, or null (zslNthInRange(0)). */
  firstInScore(r: ScoreRange): ZNode | null {
    if (!this.mayHaveScores(r)) return null;
    const x = this.lastWhere((n) => !gteMin(n.score, r)).forward[0]!;
    return x !== null && lteMax(x.score, r) ? x : null;
  }

  /** Last node whose score is in range, or null. */
  lastInScore(r: ScoreRange): ZNode | null {
    if (!this.mayHaveScores(r)) return null;
    const x = this.lastWhere((n) => lteMax(n.score, r));
    return x !== this.header && gteMin(x.score, r) ? x : null;
  }

  firstInLex(r: LexRange): ZNode | null {
    if (!this.mayHaveLex(r)) return null;
    const x = this.lastWhere((n) => !lexGteMin(n.key, r.min)).forward[0]!;
    return x !== null && lexLteMax(x.key, r.max) ? x : null;
  }

  lastInLex(r: LexRange): ZNode | null {
    if (!this.mayHaveLex(r)) return null;
    const x = this.lastWhere((n) => lexLteMax(n.key, r.max));
    return x !== this.header && lexGteMin(x.key, r.min) ? x : null;
  }

  /** The last node (or the header) of the prefix where `pred` holds, filling `update`. */
  private lastWhere(pred: (n: ZNode) => boolean): ZNode {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      for (let f = x.forward[i]; f !== null && pred(f!); f = x.forward[i]) x = f!;
      update[i] = x;
    }
    return x;
  }

  /** zslIsInRange: the range is non-empty and overlaps [first, last]. */
  private mayHaveScores(r: ScoreRange): boolean {
    if (r.min > r.max || (r.min === r.max && (r.minex || r.maxex))) return false;
    return this.tail !== null && gteMin(this.tail.score, r) && lteMax(this.first()!.score, r);
  }

  private mayHaveLex(r: LexRange): boolean {
    const cmp = compareBounds(r.min, r.max);
    if (cmp > 0 || (cmp === 0 && (r.min.ex || r.max.ex))) return false;
    return this.tail !== null && lexGteMin(this.tail.key, r.min) && lexLteMax(this.first()!.key, r.max);
  }

  /** Removes the nodes with 0-based ranks start..end inclusive; returns how many. */
  removeRangeByRank(start: number, end: number): number {
    let traversed = 0;
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      while (x.forward[i] !== null && traversed + x.span[i]! <= start) {
        traversed += x.span[i]!;
        x = x.forward[i]!;
      }
      update[i] = x;
    }
    let left = end - start + 1;
    return this.removeFrom(x.forward[0]!, () => left-- > 0);
  }

  /** Removes consecutive nodes from x while `more` says so; `update` holds x's predecessors. */
  private removeFrom(x: ZNode | null, more: (n: ZNode) => boolean): number {
    let removed = 0;
    while (x !== null && more(x)) {
      const next = x.forward[0]!;
      this.unlink(x);
      this.dict.delete(x.key);
      removed++;
      x = next;
    }
    return removed;
  }

  /** Nodes in ascending order (do not mutate meanwhile). */
  *[Symbol.iterator](): IterableIterator<ZNode> {
    for (let x = this.first(); x !== null; x = x.forward[0]!) yield x;
  }

  /** One random node (uniform), or null when empty. */
  random(rand: (bound: number) => number): ZNode | null {
    return this.length === 0 ? null : this.at(rand(this.length));
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
    for (let x = z.last(); x !== null; x = x.backward) {
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
