import { Dict, type DictNode } from './dict.js';
import { RDB_TYPE, RdbFormatError } from './rdb.js';
import { pickDistinct, sampleNode, type RandomInt } from './sampling.js';
import type { ElementObserver } from './element-observer.js';
import type { RdbLoader, TypeCodec } from './values.js';

/**
 * The set type (t_set.c): latin1 members in a Dict (O(1) add/remove/has,
 * random sampling, the reverse-binary SCAN cursor) plus the encoding Redis
 * 7.0 would report. A set starts as "intset" and turns, one way, into
 * "hashtable" when a non-integer member arrives or it outgrows
 * set-max-intset-entries (setTypeAdd's conversion rule).
 *
 * Every member lives in exactly one SetMember node, reachable through
 * member(): a later CRDT layer (OR-set add tags) hangs its per-member
 * metadata on `meta` without touching the commands.
 */

/** One member of a set. */
export class SetMember implements DictNode<SetMember> {
  next: SetMember | null = null;
  hash = 0;
  /** Per-member metadata for replication layers (OR-set tags); unused by the commands. */
  meta: unknown = undefined;
  constructor(public key: string) {}
}

export type SetEncoding = 'intset' | 'hashtable';


const INT64_MIN_TEXT = '-9223372036854775808';
const INT64_MAX_TEXT = '9223372036854775807';

/**
 * True if s is the canonical decimal text of an int64 (string2ll plus the
 * round trip: no '+', no leading zeros, no spaces): what an intset can hold.
 */
export function isIntsetMember(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 20) return false;
  const neg = s.charCodeAt(0) === 45 ? 1 : 0;
  if (neg === n) return false;
  const first = s.charCodeAt(neg);
  if (first === 48) return n === 1;
  for (let i = neg; i < n; i++) {
    const d = s.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  const digits = n - neg;
  if (digits < 19) return true;
  if (digits > 19) return false;
  return neg ? s <= INT64_MIN_TEXT : s <= INT64_MAX_TEXT; // same length: text order is numeric order
}

/** Numeric order of canonical int64 texts (exact beyond 2^53). */
function compareInts(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (x !== y) return x < y ? -1 : 1;
  if (a === b) return 0;
  return BigInt(a) < BigInt(b) ? -1 : 1;
}

export class SetValue {
  private readonly dict: Dict<SetMember>;
  private enc: SetEncoding = 'intset';
  /** Members in ascending order while intset-encoded (an intset iterates sorted); null when stale. */
  private sorted: string[] | null = null;
  /** Replication's element observer while this set is stored in a replicated keyspace. */
  observer: ElementObserver | null = null;

  constructor(readonly seed: number) {
    this.dict = new Dict<SetMember>(seed);
  }

  /** A set holding `members` (duplicates ignored), encoded as SADD would leave it. */
  static of(seed: number, members: Iterable<string>, maxIntsetEntries: number): SetValue {
    const s = new SetValue(seed);
    for (const m of members) s.add(m, maxIntsetEntries);
    return s;
  }

  /** The member index, for KeyPrefetch to read ahead (read-only use). */
  get memberDict(): Dict<SetMember> {
    return this.dict;
  }

  get size(): number {
    return this.dict.size;
  }

  /** OBJECT ENCODING's answer. */
  get encoding(): SetEncoding {
    return this.enc;
  }

  has(m: string): boolean {
    return this.dict.get(m) !== undefined;
  }

  /** The node of member m (for metadata), or undefined. */
  member(m: string): SetMember | undefined {
    return this.dict.get(m);
  }

  /** Adds m; false if it was already there. Converts to hashtable per setTypeAdd. */
  add(m: string, maxIntsetEntries: number): boolean {
    if (this.dict.get(m) !== undefined) return false;
    if (this.enc === 'intset') {
      if (!isIntsetMember(m) || this.dict.size + 1 > maxIntsetEntries) {
        this.enc = 'hashtable';
      }
      this.sorted = null;
    }
    this.dict.add(new SetMember(m));
    this.observer?.elementChanged(this, m, true, undefined, undefined);
    return true;
  }

  /** Removes m; false if it was not there. */
  remove(m: string): boolean {
    const node = this.dict.delete(m);
    if (node === undefined) return false;
    this.sorted = null;
    this.observer?.elementChanged(this, m, false, undefined, node.meta);
    return true;
  }

  /** The members in iteration order (ascending for an intset). A fresh array. */
  members(): string[] {
    if (this.enc === 'intset') return this.sortedMembers().slice();
    const out: string[] = new Array<string>(this.dict.size);
    let i = 0;
    for (const n of this.dict.values()) out[i++] = n.key;
    return out;
  }

  /** Iterates members (do not mutate the set meanwhile). */
  *[Symbol.iterator](): IterableIterator<string> {
    if (this.enc === 'intset') {
      yield* this.sortedMembers();
      return;
    }
    for (const n of this.dict.values()) yield n.key;
  }

  private sortedMembers(): string[] {
    if (this.sorted === null) {
      const keys: string[] = [];
      for (const n of this.dict.values()) keys.push(n.key);
      this.sorted = keys.sort(compareInts);
    }
    return this.sorted;
  }

  /** One random member (uniform for an intset, as dictGetFairRandomKey otherwise), or undefined if empty. */
  random(rand: RandomInt): string | undefined {
    if (this.dict.size === 0) return undefined;
    if (this.enc === 'intset') {
      const sorted = this.sortedMembers();
      return sorted[rand(sorted.length)];
    }
    return sampleNode(this.dict, rand)?.key ?? this.nthMember(rand(this.dict.size));
  }

  private nthMember(i: number): string {
    for (const n of this.dict.values()) if (i-- === 0) return n.key;
    throw new Error('SetValue: index out of range');
  }

  /** `count` distinct random members (all of them when count >= size), as SRANDMEMBER's cases 3 and 4. */
  randomDistinct(count: number, rand: RandomInt): string[] {
    return pickDistinct(count, this.dict.size, () => this.members(), () => this.random(rand)!, rand);
  }

  /**
   * One SCAN step: visits the members of the bucket(s) at cursor and
   * returns the next cursor (0 at the end). An intset, as in Redis, is
   * returned whole by the first call.
   */
  scan(cursor: number, visit: (member: string) => void): number {
    if (this.enc === 'intset') {
      for (const m of this.sortedMembers()) visit(m);
      return 0;
    }
    return this.dict.scan(cursor, (n) => visit(n.key));
  }

  /** An independent copy with the same members and encoding (COPY, SINTERSTORE of one set). */
  clone(): SetValue {
    const s = new SetValue(this.seed);
    s.enc = this.enc;
    for (const n of this.dict.values()) {
      const copy = new SetMember(n.key);
      copy.meta = n.meta;
      s.dict.add(copy);
    }
    return s;
  }
}

/** OBJECT ENCODING of a set value ("intset" or "hashtable"; Redis 7.0 has no listpack sets). */
export function setEncoding(value: unknown): SetEncoding {
  return (value as SetValue).encoding;
}

/**
 * Members of the intersection (sinterGenericCommand): walks the smallest
 * set, in its order, keeping what every other set holds; stops after
 * `limit` members when limit > 0.
 */
export function intersect(sets: readonly SetValue[], limit = 0): string[] {
  const bySize = [...sets].sort((a, b) => a.size - b.size);
  const first = bySize[0]!;
  const out: string[] = [];
  for (const m of first) {
    let j = 1;
    while (j < bySize.length && (bySize[j] === first || bySize[j]!.has(m))) j++;
    if (j < bySize.length) continue;
    out.push(m);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}

/** The union of sets (missing keys as null), as a new set. */
export function union(sets: readonly (SetValue | null)[], seed: number, maxIntsetEntries: number): SetValue {
  const dst = new SetValue(seed);
  for (const s of sets) {
    if (s === null) continue;
    for (const m of s) dst.add(m, maxIntsetEntries);
  }
  return dst;
}

/**
 * The first set minus all the others (missing keys as null), as a new set.
 * Either walks the first set probing the others or copies it and removes
 * theirs, whichever Redis's cost estimate prefers.
 */
export function difference(sets: readonly (SetValue | null)[], seed: number, maxIntsetEntries: number): SetValue {
  const first = sets[0] ?? null;
  if (first === null || sets.slice(1).includes(first)) return new SetValue(seed);
  const others = sets.slice(1).filter((s): s is SetValue => s !== null);
  const probeWork = (first.size * (others.length + 1)) / 2;
  const copyWork = others.reduce((n, s) => n + s.size, first.size);
  if (probeWork <= copyWork) {
    others.sort((a, b) => b.size - a.size); // big ones first: a member is rejected sooner
    const kept: string[] = [];
    for (const m of first) if (!others.some((s) => s.has(m))) kept.push(m);
    return SetValue.of(seed, kept, maxIntsetEntries);
  }
  const dst = SetValue.of(seed, first, maxIntsetEntries);
  for (const s of others) {
    for (const m of s) dst.remove(m);
    if (dst.size === 0) break;
  }
  return dst;
}

/** Redis's default set-max-intset-entries, used where no config is at hand (RDB/DUMP loading). */
const DEFAULT_MAX_INTSET_ENTRIES = 512;
/** Dict seed of loaded sets (loaders get no Random). */
const LOAD_SEED = 0x5e7c0de;

/** The intset blob (intset.c): u32 LE width (2/4/8), u32 LE count, ascending signed LE integers. */
function intsetBlob(sorted: readonly string[]): Buffer {
  const values = sorted.map((m) => BigInt(m));
  const lo = values.length ? values[0]! : 0n;
  const hi = values.length ? values[values.length - 1]! : 0n;
  const width = lo >= -32768n && hi <= 32767n ? 2 : lo >= -2147483648n && hi <= 2147483647n ? 4 : 8;
  const buf = Buffer.alloc(8 + width * values.length);
  buf.writeUInt32LE(width, 0);
  buf.writeUInt32LE(values.length, 4);
  values.forEach((v, i) => {
    const at = 8 + i * width;
    if (width === 2) buf.writeInt16LE(Number(v), at);
    else if (width === 4) buf.writeInt32LE(Number(v), at);
    else buf.writeBigInt64LE(v, at);
  });
  return buf;
}

/** Members of an intset blob; throws RdbFormatError when malformed. */
function intsetMembers(blob: Buffer): string[] {
  if (blob.length < 8) throw new RdbFormatError('intset too short');
  const width = blob.readUInt32LE(0);
  const count = blob.readUInt32LE(4);
  if ((width !== 2 && width !== 4 && width !== 8) || blob.length !== 8 + width * count) {
    throw new RdbFormatError('bad intset encoding');
  }
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * width;
    out.push(String(width === 2 ? blob.readInt16LE(at) : width === 4 ? blob.readInt32LE(at) : blob.readBigInt64LE(at)));
  }
  return out;
}

/** What OBJECT, COPY, DUMP and RDB need of a set (values.ts registers it in CODECS). */
export const setCodec: TypeCodec = {
  encoding: setEncoding,
  refcount: () => 1,
  dup: (value) => (value as SetValue).clone(),
  save(w, value, compress) {
    const s = value as SetValue;
    if (s.encoding === 'intset') {
      w.byte(RDB_TYPE.SET_INTSET);
      w.string(intsetBlob(s.members()), compress);
      return;
    }
    w.byte(RDB_TYPE.SET);
    w.length(s.size);
    for (const m of s) w.string(m, compress);
  },
};

/** RDB loaders of the set types (rdbLoadObject's RDB_TYPE_SET and RDB_TYPE_SET_INTSET). */
export const setLoaders: Record<number, RdbLoader> = {
  [RDB_TYPE.SET]: (r) => {
    const len = r.length();
    if (len === 0) throw new RdbFormatError('empty set');
    const s = new SetValue(LOAD_SEED);
    for (let i = 0; i < len; i++) {
      if (!s.add(r.text(), DEFAULT_MAX_INTSET_ENTRIES)) throw new RdbFormatError('duplicate set member');
    }
    return { type: 'set', value: s };
  },
  [RDB_TYPE.SET_INTSET]: (r) => {
    const members = intsetMembers(r.string());
    if (members.length === 0) throw new RdbFormatError('empty intset');
    return { type: 'set', value: SetValue.of(LOAD_SEED, members, DEFAULT_MAX_INTSET_ENTRIES) };
  },
};
