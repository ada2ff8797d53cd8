/**
 * What the generic commands need to know about each value type, in one
 * place: OBJECT ENCODING/REFCOUNT, COPY (an independent duplicate), DUMP and
 * RDB (serialize) and RESTORE/RDB load (by RDB type byte).
 *
 * Adding a type = adding its codec to CODECS and its loaders to RDB_LOADERS;
 * no command changes.
 */
import { cloneBytes } from './bytes.js';
import { bytesToString, type Bytes, type TypeName } from './entry.js';
import { canonicalInt, RDB_TYPE, type RdbReader, type RdbWriter } from './rdb.js';
import { hashCodec, hashLoaders } from './hash.js';
import { listCodec, listLoaders } from './list.js';
import { setCodec, setLoaders } from './set.js';
import { streamCodec, streamLoaders } from './stream-rdb.js';
import { zsetCodec, zsetLoaders } from './zset.js';

export interface TypeCodec {
  /** OBJECT ENCODING's answer for this value. */
  encoding(value: unknown): string;
  /** OBJECT REFCOUNT (shared small integers report INT_MAX as Redis). */
  refcount(value: unknown, sharedIntegers: boolean): number;
  /** COPY: a duplicate sharing no mutable state with value. */
  dup(value: unknown): unknown;
  /** Writes the RDB type byte then the value body (rdbSaveObjectType + rdbSaveObject). */
  save(w: RdbWriter, value: unknown, compress: boolean): void;
}

/** A loaded value: what Database.add takes. */
export interface LoadedValue {
  type: TypeName;
  value: unknown;
}

/** Reads one value body whose RDB type byte was already consumed; throws RdbFormatError. */
export type RdbLoader = (r: RdbReader) => LoadedValue;

/** Strings longer than this are "raw" rather than "embstr" (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
const EMBSTR_SIZE_LIMIT = 44;
/** Redis shares the integer objects 0..9999 (OBJ_SHARED_INTEGERS). */
const SHARED_INTEGERS = 10000;
const SHARED_REFCOUNT = 2147483647;

/** Redis's string encoding: int for canonical int64 text, embstr up to 44 bytes, raw otherwise (or for byte buffers). */
export function stringEncoding(v: unknown): 'int' | 'embstr' | 'raw' {
  if (Buffer.isBuffer(v)) return 'raw';
  const text = bytesToString(v as Bytes);
  if (text.length <= 20 && canonicalInt(text) !== null) return 'int';
  return text.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw';
}

const stringCodec: TypeCodec = {
  encoding: stringEncoding,
  refcount(value, sharedIntegers) {
    if (!sharedIntegers || stringEncoding(value) !== 'int') return 1;
    const n = Number(bytesToString(value as Bytes));
    return n >= 0 && n < SHARED_INTEGERS ? SHARED_REFCOUNT : 1;
  },
  dup: (value) => cloneBytes(value as Bytes),
  save(w, value, compress) {
    w.byte(RDB_TYPE.STRING);
    // Int-encoded objects are never compressed; canonical ints of at most
    // 20 characters are never long enough to be, so one path serves both.
    w.string(Buffer.isBuffer(value) ? value : bytesToString(value as Bytes), compress);
  },
};

/** Codec per type; a type without one cannot be copied or dumped yet. */
export const CODECS: Partial<Record<TypeName, TypeCodec>> = {
  string: stringCodec,
  list: listCodec,
  set: setCodec,
  hash: hashCodec,
  zset: zsetCodec,
  stream: streamCodec,
};

/** Loaders per RDB type byte. */
export const RDB_LOADERS: Partial<Record<number, RdbLoader>> = {
  [RDB_TYPE.STRING]: (r) => ({ type: 'string', value: r.text() }),
  ...listLoaders,
  ...setLoaders,
  ...hashLoaders,
  ...zsetLoaders,
  ...streamLoaders,
};

export function codecFor(type: TypeName): TypeCodec | undefined {
  return CODECS[type];
}
