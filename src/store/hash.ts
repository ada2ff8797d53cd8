import { Dict, type DictNode } from './dict.js';
import { RDB_TYPE, RdbFormatError, readListpack, readZiplist, writeListpack } from './rdb.js';
import { pickDistinct, sampleNode, type RandomInt } from './sampling.js';
import type { ElementObserver } from './element-observer.js';
import type { RdbLoader, TypeCodec } from './values.js';

/**
 * The hash type (t_hash.c): field -> value (latin1 strings) in a Dict (O(1)
 * get/set/delete, random sampling, the reverse-binary SCAN cursor) plus the
 * encoding Redis 7.0 would report. A hash starts as "listpack" and turns,
 * one way, into "hashtable" once it holds more than hash-max-listpack-entries
 * fields or a field or value longer than hash-max-listpack-value bytes.
 *
 * While "listpack", fields also form an insertion-ordered list, so HGETALL,
 * HKEYS and a whole-hash HSCAN answer in the order Redis's listpack would.
 *
 * Every field lives in exactly one HashField node, reachable through
 * field(): a later CRDT layer (per-field LWW timestamps, counters) hangs its
 * metadata on `meta` without touching the commands.
 */

/** One field of a hash. */
export class HashField implements DictNode<HashField> {
  next: HashField | null = null;
  hash = 0;
  /** Insertion-order neighbours, kept only while the hash is listpack-encoded. */
  before: HashField | null = null;
  after: HashField | null = null;
  /** Per-field metadata for replication layers (LWW timestamps, counters); unused by the commands. */
  meta: unknown = undefined;
  constructor(
    public key: string,
    public value: string,
  ) {}
}

export type HashEncoding = 'listpack' | 'hashtable';

/** hash-max-listpack-entries and hash-max-listpack-value, read by the caller at each write. */
export interface HashLimits {
  maxEntries: number;
  maxValue: number;
}


export class HashValue {
  private readonly dict: Dict<HashField>;
  private enc: HashEncoding = 'listpack';
  private head: HashField | null = null;
  private tail: HashField | null = null;
  /** Replication's element observer while this hash is stored in a replicated keyspace. */
  observer: ElementObserver | null = null;

  constructor(readonly seed: number) {
    this.dict = new Dict<HashField>(seed);
  }

  /** A hash of these field/value pairs (later duplicates overwrite), encoded as HSET would leave it. */
  static of(seed: number, pairs: Iterable<readonly [string, string]>, limits: HashLimits): HashValue {
    const h = new HashValue(seed);
    for (const [f, v] of pairs) h.set(f, v, limits);
    return h;
  }

  /** The member index, for KeyPrefetch to read ahead (read-only use). */
  get memberDict(): Dict<HashField> {
    return this.dict;
  }

  get size(): number {
    return this.dict.size;
  }

  /** OBJECT ENCODING's answer. */
  get encoding(): HashEncoding {
    return this.enc;
  }

  /** The value of field f, or undefined. */
  get(f: string): string | undefined {
    return this.dict.get(f)?.value;
  }

  has(f: string): boolean {
    return this.dict.get(f) !== undefined;
  }

  /** The node of field f (for metadata), or undefined. */
  field(f: string): HashField | undefined {
    return this.dict.get(f);
  }

  /**
   * Sets f to v; true if f was created, false if updated (hashTypeSet).
   * Converts to hashtable first when f or v is too long for a listpack,
   * after when the hash outgrew maxEntries.
   */
  set(f: string, v: string, limits: HashLimits): boolean {
    if (this.enc === 'listpack' && (f.length > limits.maxValue || v.length > limits.maxValue)) this.convert();
    const node = this.dict.get(f);
    if (node !== undefined) {
      const previous = node.value;
      node.value = v;
      this.observer?.elementChanged(this, f, true, previous, node.meta);
      return false;
    }
    const created = new HashField(f, v);
    this.dict.add(created);
    if (this.enc === 'listpack') this.link(created);
    if (this.enc === 'listpack' && this.dict.size > limits.maxEntries) this.convert();
    this.observer?.elementChanged(this, f, true, undefined, undefined);
    return true;
  }

  /** Removes f; false if it was not there. */
  delete(f: string): boolean {
    const node = this.dict.delete(f);
    if (node === undefined) return false;
    if (this.enc === 'listpack') this.unlink(node);
    this.observer?.elementChanged(this, f, false, node.value, node.meta);
    return true;
  }

  /** hashTypeConvert(OBJ_ENCODING_HT): one way; drops the insertion order. */
  convert(): void {
    if (this.enc === 'hashtable') return;
    for (let n = this.head; n !== null; ) {
      const after: HashField | null = n.after;
      n.before = n.after = null;
      n = after;
    }
    this.head = this.tail = null;
    this.enc = 'hashtable';
  }

  private link(n: HashField): void {
    n.before = this.tail;
    if (this.tail === null) this.head = n;
    else this.tail.after = n;
    this.tail = n;
  }

  private unlink(n: HashField): void {
    if (n.before === null) this.head = n.after;
    else n.before.after = n.after;
    if (n.after === null) this.tail = n.before;
    else n.after.before = n.before;
    n.before = n.after = null;
  }

  /** The fields in iteration order (insertion order for a listpack). Do not mutate the hash meanwhile. */
  *nodes(): IterableIterator<HashField> {
    if (this.enc === 'hashtable') {
      yield* this.dict.values();
      return;
    }
    for (let n = this.head; n !== null; n = n.after) yield n;
  }

  /** A snapshot of the fields in iteration order. */
  toArray(): HashField[] {
    const out: HashField[] = [];
    for (const n of this.nodes()) out.push(n);
    return out;
  }

  /** [field, value] pairs in iteration order (MEMORY USAGE walks this). */
  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (const n of this.nodes()) yield [n.key, n.value];
  }

  /** One random field (uniform for a listpack, dictGetFairRandomKey-like otherwise), or undefined if empty. */
  random(rand: RandomInt): HashField | undefined {
    if (this.dict.size === 0) return undefined;
    if (this.enc === 'listpack') return this.nth(rand(this.dict.size));
    return sampleNode(this.dict, rand) ?? this.nth(rand(this.dict.size));
  }

  private nth(i: number): HashField {
    for (const n of this.nodes()) if (i-- === 0) return n;
    throw new Error('HashValue: index out of range');
  }

  /** `count` random fields with repetition (HRANDFIELD with a negative count). */
  randomWithRepetition(count: number, rand: RandomInt): HashField[] {
    const out: HashField[] = new Array<HashField>(count);
    if (this.enc === 'listpack') {
      const all = this.toArray(); // lpRandomPairs: one walk, then O(1) draws
      for (let i = 0; i < count; i++) out[i] = all[rand(all.length)]!;
    } else {
      for (let i = 0; i < count; i++) out[i] = this.random(rand)!;
    }
    return out;
  }

  /** `count` distinct random fields (all of them when count >= size), as HRANDFIELD's cases 3 and 4. */
  randomDistinct(count: number, rand: RandomInt): HashField[] {
    return pickDistinct(count, this.dict.size, () => this.toArray(), () => this.random(rand)!, rand);
  }

  /**
   * One SCAN step: visits the fields of the bucket(s) at cursor and returns
   * the next cursor (0 at the end). A listpack, as in Redis, is returned
   * whole by the first call.
   */
  scan(cursor: number, visit: (n: HashField) => void): number {
    if (this.enc === 'listpack') {
      for (const n of this.nodes()) visit(n);
      return 0;
    }
    return this.dict.scan(cursor, visit);
  }

  /** An independent copy with the same fields, order, metadata and encoding (COPY). */
  clone(): HashValue {
    const h = new HashValue(this.seed);
    h.enc = this.enc;
    for (const n of this.nodes()) {
      const copy = new HashField(n.key, n.value);
      copy.meta = n.meta;
      h.dict.add(copy);
      if (h.enc === 'listpack') h.link(copy);
    }
    return h;
  }
}

// ---- OBJECT / COPY / DUMP / RESTORE ----

/** Redis's defaults, used where no config is at hand (RDB/DUMP loading). */
const DEFAULT_LIMITS: HashLimits = { maxEntries: 128, maxValue: 64 };
/** Dict seed of loaded hashes (loaders get no Random). */
const LOAD_SEED = 0x4a5b0de;

/** OBJECT ENCODING of a hash value. */
export function hashEncoding(value: unknown): HashEncoding {
  return (value as HashValue).encoding;
}

/** The flat field, value, field, value... list of a hash, in iteration order. */
function flatten(h: HashValue): string[] {
  const out: string[] = [];
  for (const n of h.nodes()) out.push(n.key, n.value);
  return out;
}

/**
 * A hash from the flat field/value list of a listpack or ziplist blob:
 * rejects empty, odd or duplicate-field lists; converts when over the
 * entry limit, as rdbLoadObject does for these types.
 */
function fromFlatPairs(items: readonly string[]): HashValue {
  if (items.length === 0 || items.length % 2 !== 0) throw new RdbFormatError('bad hash listpack length');
  const h = new HashValue(LOAD_SEED);
  const noLimits: HashLimits = { maxEntries: Infinity, maxValue: Infinity };
  for (let i = 0; i < items.length; i += 2) {
    if (!h.set(items[i]!, items[i + 1]!, noLimits)) throw new RdbFormatError('duplicate hash field');
  }
  if (h.size > DEFAULT_LIMITS.maxEntries) h.convert();
  return h;
}

/** What OBJECT, COPY, DUMP and RDB need of a hash (values.ts registers it in CODECS). */
export const hashCodec: TypeCodec = {
  encoding: hashEncoding,
  refcount: () => 1,
  dup: (value) => (value as HashValue).clone(),
  save(w, value, compress) {
    const h = value as HashValue;
    if (h.encoding === 'listpack') {
      w.byte(RDB_TYPE.HASH_LISTPACK);
      w.string(writeListpack(flatten(h)), compress);
      return;
    }
    w.byte(RDB_TYPE.HASH);
    w.length(h.size);
    for (const n of h.nodes()) {
      w.string(n.key, compress);
      w.string(n.value, compress);
    }
  },
};

/** RDB_TYPE_HASH: a count then field/value strings; listpack unless too many or too long (rdbLoadObject). */
function loadHash(r: Parameters<RdbLoader>[0]): HashValue {
  const len = r.length();
  if (len === 0) throw new RdbFormatError('empty hash');
  const h = new HashValue(LOAD_SEED);
  if (len > DEFAULT_LIMITS.maxEntries) h.convert();
  for (let i = 0; i < len; i++) {
    if (!h.set(r.text(), r.text(), DEFAULT_LIMITS)) throw new RdbFormatError('duplicate hash field');
  }
  return h;
}

/** RDB loaders of the hash types (RDB_TYPE_HASH, RDB_TYPE_HASH_ZIPLIST, RDB_TYPE_HASH_LISTPACK). */
export const hashLoaders: Record<number, RdbLoader> = {
  [RDB_TYPE.HASH]: (r) => ({ type: 'hash', value: loadHash(r) }),
  [RDB_TYPE.HASH_ZIPLIST]: (r) => ({ type: 'hash', value: fromFlatPairs(readZiplist(r.string())) }),
  [RDB_TYPE.HASH_LISTPACK]: (r) => ({ type: 'hash', value: fromFlatPairs(readListpack(r.string())) }),
};
