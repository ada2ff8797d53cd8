/**
 * RDB serialization primitives (rdb.c): length and string encodings, the
 * integer and LZF string encodings, millisecond times and binary doubles.
 * DUMP/RESTORE use them for one value; the RDB file importer and snapshots
 * reuse them for whole files.
 */
import { lzfCompress, lzfDecompress } from './lzf.js';

/** The RDB format version Redis 7.0 writes (and the newest it reads). */
export const RDB_VERSION = 10;

/** Object type bytes (rdbSaveObjectType / rdbLoadObjectType). */
export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
} as const;

/** File-level opcodes (only in RDB files, never in a DUMP payload). */
export const RDB_OPCODE = {
  FUNCTION2: 245,
  FUNCTION: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** rdbIsObjectType: the type bytes a loader may meet. */
export function isRdbObjectType(t: number): boolean {
  return (t >= 0 && t <= 7) || (t >= 9 && t <= 19);
}

/** Special string encodings (the 11xxxxxx length prefix). */
const ENC_INT8 = 0;
const ENC_INT16 = 1;
const ENC_INT32 = 2;
const ENC_LZF = 3;

/** Malformed or truncated RDB data. */
export class RdbFormatError extends Error {}

/**
 * The value of s if it is the canonical decimal text of an int64 (no sign
 * but '-', no leading zeros, no spaces), else null: Redis's string2ll +
 * round-trip test, which decides the int encodings.
 */
export function canonicalInt(s: string): bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  if (i === n) return null;
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0n : null;
  if (first < 49 || first > 57) return null;
  for (i++; i < n; i++) {
    const d = s.charCodeAt(i);
    if (d < 48 || d > 57) return null;
  }
  const v = BigInt(s);
  return v < -(2n ** 63n) || v > 2n ** 63n - 1n ? null : v;
}

/** Appends RDB-encoded data to a growable buffer. */
export class RdbWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initialBytes = 64) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes written so far. */
  get size(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b & 0xff;
  }

  bytes(b: Uint8Array | string): void {
    if (typeof b === 'string') {
      this.ensure(b.length);
      this.pos += this.buf.latin1Write(b, this.pos);
      return;
    }
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian length. */
  length(len: number): void {
    if (len < 64) {
      this.byte(len);
    } else if (len < 16384) {
      this.byte(0x40 | (len >> 8));
      this.byte(len & 0xff);
    } else if (len <= 0xffffffff) {
      this.ensure(5);
      this.buf[this.pos++] = 0x80;
      this.buf.writeUInt32BE(len, this.pos);
      this.pos += 4;
    } else {
      this.ensure(9);
      this.buf[this.pos++] = 0x81;
      this.buf.writeBigUInt64BE(BigInt(len), this.pos);
      this.pos += 8;
    }
  }

  /** rdbEncodeInteger: writes v in 2..5 bytes if it fits int32; false otherwise. */
  intEncoded(v: bigint): boolean {
    if (v >= -128n && v <= 127n) {
      this.byte(0xc0 | ENC_INT8);
      this.byte(Number(v));
    } else if (v >= -32768n && v <= 32767n) {
      this.ensure(3);
      this.buf[this.pos++] = 0xc0 | ENC_INT16;
      this.pos = this.buf.writeInt16LE(Number(v), this.pos);
    } else if (v >= -2147483648n && v <= 2147483647n) {
      this.ensure(5);
      this.buf[this.pos++] = 0xc0 | ENC_INT32;
      this.pos = this.buf.writeInt32LE(Number(v), this.pos);
    } else {
      return false;
    }
    return true;
  }

  /**
   * rdbSaveStringObject / rdbSaveRawString: integer encoding for canonical
   * int32 text, LZF for strings over 20 bytes when `compress` and it saves
   * space, the plain length-prefixed bytes otherwise.
   */
  string(value: string | Uint8Array, compress: boolean): void {
    const len = value.length;
    if (len <= 11) {
      const text = typeof value === 'string' ? value : Buffer.from(value).latin1Slice(0, len);
      const v = canonicalInt(text);
      if (v !== null && this.intEncoded(v)) return;
    }
    if (compress && len > 20) {
      const raw = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
      const packed = lzfCompress(raw);
      if (packed !== null) {
        this.byte(0xc0 | ENC_LZF);
        this.length(packed.length);
        this.length(len);
        this.bytes(packed);
        return;
      }
    }
    this.length(len);
    this.bytes(value);
  }

  /** rdbSaveMillisecondTime: int64 little-endian. */
  millisecondTime(ms: number): void {
    this.ensure(8);
    this.pos = this.buf.writeBigInt64LE(BigInt(Math.trunc(ms)), this.pos);
  }

  /** rdbSaveBinaryDoubleValue: IEEE 754 little-endian. */
  binaryDouble(d: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(d, this.pos);
  }

  /** The bytes written so far (a view; copy it if the writer is reused). */
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Reads RDB-encoded data from a buffer; every read throws RdbFormatError past the end. */
export class RdbReader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    /** Reads stop here (e.g. before a DUMP payload's footer). */
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.end) throw new RdbFormatError('unexpected end of RDB data');
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** rdbLoadLenByRef: a length, or a special encoding id when `encoded` is true. */
  lengthOrEncoding(): { len: number; encoded: boolean } {
    const b = this.byte();
    switch (b >> 6) {
      case 0:
        return { len: b & 0x3f, encoded: false };
      case 1:
        return { len: ((b & 0x3f) << 8) | this.byte(), encoded: false };
      case 3:
        return { len: b & 0x3f, encoded: true };
      default:
        if (b === 0x80) {
          this.need(4);
          const v = this.buf.readUInt32BE(this.pos);
          this.pos += 4;
          return { len: v, encoded: false };
        }
        if (b === 0x81) {
          this.need(8);
          const v = this.buf.readBigUInt64BE(this.pos);
          this.pos += 8;
          if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbFormatError('length too large');
          return { len: Number(v), encoded: false };
        }
        throw new RdbFormatError(`unknown length encoding ${b}`);
    }
  }

  /** A plain length (an encoded one is a format error here). */
  length(): number {
    const { len, encoded } = this.lengthOrEncoding();
    if (encoded) throw new RdbFormatError('unexpected string encoding');
    return len;
  }

  /** rdbGenericLoadStringObject: plain, integer-encoded or LZF-compressed string bytes. */
  string(): Buffer {
    const { len, encoded } = this.lengthOrEncoding();
    if (!encoded) return Buffer.from(this.bytes(len));
    switch (len) {
      case ENC_INT8:
        return Buffer.from(String(this.bytes(1).readInt8(0)), 'latin1');
      case ENC_INT16:
        return Buffer.from(String(this.bytes(2).readInt16LE(0)), 'latin1');
      case ENC_INT32:
        return Buffer.from(String(this.bytes(4).readInt32LE(0)), 'latin1');
      case ENC_LZF: {
        const clen = this.length();
        const ulen = this.length();
        const out = lzfDecompress(this.bytes(clen), ulen);
        if (out === null) throw new RdbFormatError('invalid LZF data');
        return out;
      }
      default:
        throw new RdbFormatError(`unknown string encoding ${len}`);
    }
  }

  /** A string as latin1 text (keys and string values). */
  text(): string {
    const b = this.string();
    return b.latin1Slice(0, b.length);
  }

  millisecondTime(): number {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return Number(v);
  }

  binaryDouble(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
}

// ---- listpack and ziplist blobs (listpack.c, ziplist.c) ----
// The small encodings of hashes (and later zsets and lists) travel inside
// RDB strings; these read them into latin1 texts and write listpacks the way
// lpAppend does, so DUMP of a small hash is byte-for-byte Redis's.

const LP_HEADER = 6;
const LP_EOF = 0xff;

/** Bytes of a listpack entry's back-length field for an entry of `len` bytes (lpEncodeBacklen). */
function backlenSize(len: number): number {
  return len <= 127 ? 1 : len < 16383 ? 2 : len < 2097151 ? 3 : len < 268435455 ? 4 : 5;
}

/** The listpack integer encoding of v (lpEncodeIntegerGetType): encoding byte(s) then LE payload. */
function listpackInt(v: bigint): number[] {
  const n = Number(v);
  if (n >= 0 && n <= 127) return [n];
  if (n >= -4096 && n <= 4095) {
    const u = n < 0 ? 8192 + n : n;
    return [0xc0 | (u >> 8), u & 0xff];
  }
  const widths: [number, number][] = [[0xf1, 2], [0xf2, 3], [0xf3, 4], [0xf4, 8]];
  for (const [tag, bytes] of widths) {
    const bits = BigInt(bytes * 8);
    if (bytes === 8 || (v >= -(1n << (bits - 1n)) && v < 1n << (bits - 1n))) {
      const u = BigInt.asUintN(Number(bits), v);
      const out = [tag];
      for (let i = 0n; i < BigInt(bytes); i++) out.push(Number((u >> (8n * i)) & 0xffn));
      return out;
    }
  }
  throw new Error('unreachable');
}

/** The encoding header of a string of len bytes (6-, 12- or 32-bit length). */
function listpackStringHeader(len: number): number[] {
  if (len < 64) return [0x80 | len];
  if (len < 4096) return [0xe0 | (len >> 8), len & 0xff];
  return [0xf0, len & 0xff, (len >>> 8) & 0xff, (len >>> 16) & 0xff, (len >>> 24) & 0xff];
}

/** Appends one element's back-length (lpEncodeBacklen: big-endian 7-bit groups, high bit on all but the first). */
function pushBacklen(out: number[], len: number): void {
  const size = backlenSize(len);
  for (let i = size - 1; i >= 0; i--) {
    const group = Math.floor(len / 2 ** (7 * i)) & 127;
    out.push(i === size - 1 ? group : group | 128);
  }
}

/** A listpack holding `elements` (latin1 texts), as a sequence of lpAppend calls would build it. */
export function writeListpack(elements: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  let total = LP_HEADER + 1;
  for (const s of elements) {
    const v = canonicalInt(s);
    const head = v !== null ? listpackInt(v) : listpackStringHeader(s.length);
    const body = v !== null ? 0 : s.length;
    const tail: number[] = [];
    pushBacklen(tail, head.length + body);
    const entry = Buffer.allocUnsafe(head.length + body + tail.length);
    entry.set(head, 0);
    if (v === null) entry.latin1Write(s, head.length);
    entry.set(tail, head.length + body);
    parts.push(entry);
    total += entry.length;
  }
  const header = Buffer.alloc(LP_HEADER);
  header.writeUInt32LE(total, 0);
  header.writeUInt16LE(Math.min(elements.length, 0xffff), 4);
  return Buffer.concat([header, ...parts, Buffer.from([LP_EOF])], total);
}

/** Reads the element at r.pos of a listpack (its encoding and payload), leaving r.pos after the payload. */
function readListpackElement(r: RdbReader): string {
  const b = r.byte();
  if (b < 0x80) return String(b);
  if (b >> 6 === 2) return r.bytes(b & 0x3f).latin1Slice();
  if (b >> 5 === 6) {
    const u = ((b & 0x1f) << 8) | r.byte();
    return String(u >= 4096 ? u - 8192 : u);
  }
  if (b >> 4 === 0xe) return r.bytes(((b & 0xf) << 8) | r.byte()).latin1Slice();
  switch (b) {
    case 0xf0: return r.bytes(r.bytes(4).readUInt32LE(0)).latin1Slice();
    case 0xf1: return String(r.bytes(2).readInt16LE(0));
    case 0xf2: return String(r.bytes(3).readIntLE(0, 3));
    case 0xf3: return String(r.bytes(4).readInt32LE(0));
    case 0xf4: return String(r.bytes(8).readBigInt64LE(0));
    default: throw new RdbFormatError(`bad listpack encoding ${b}`);
  }
}

/** The elements of a listpack blob as latin1 texts; throws RdbFormatError when malformed. */
export function readListpack(blob: Buffer): string[] {
  if (blob.length < LP_HEADER + 1 || blob.readUInt32LE(0) !== blob.length) throw new RdbFormatError('bad listpack header');
  const count = blob.readUInt16LE(4);
  const r = new RdbReader(blob, LP_HEADER, blob.length - 1);
  const out: string[] = [];
  while (r.remaining > 0) {
    const start = r.pos;
    out.push(readListpackElement(r));
    const len = r.pos - start;
    r.bytes(backlenSize(len));
  }
  if (blob[blob.length - 1] !== LP_EOF || (count !== 0xffff && count !== out.length)) {
    throw new RdbFormatError('bad listpack trailer');
  }
  return out;
}

/** Reads a ziplist entry's encoding and payload at r.pos (zipEntry): a latin1 text. */
function readZiplistElement(r: RdbReader): string {
  const b = r.byte();
  switch (b >> 6) {
    case 0: return r.bytes(b & 0x3f).latin1Slice();
    case 1: return r.bytes(((b & 0x3f) << 8) | r.byte()).latin1Slice();
    case 2: return r.bytes(r.bytes(4).readUInt32BE(0)).latin1Slice();
  }
  switch (b) {
    case 0xc0: return String(r.bytes(2).readInt16LE(0));
    case 0xd0: return String(r.bytes(4).readInt32LE(0));
    case 0xe0: return String(r.bytes(8).readBigInt64LE(0));
    case 0xf0: return String(r.bytes(3).readIntLE(0, 3));
    case 0xfe: return String(r.bytes(1).readInt8(0));
  }
  if (b >= 0xf1 && b <= 0xfd) return String((b & 0x0f) - 1);
  throw new RdbFormatError(`bad ziplist encoding ${b}`);
}

/** The elements of a ziplist blob (RDB versions before 10) as latin1 texts; throws RdbFormatError when malformed. */
export function readZiplist(blob: Buffer): string[] {
  const ZL_HEADER = 10;
  if (blob.length < ZL_HEADER + 1 || blob.readUInt32LE(0) !== blob.length) throw new RdbFormatError('bad ziplist header');
  const count = blob.readUInt16LE(8);
  const r = new RdbReader(blob, ZL_HEADER, blob.length - 1);
  const out: string[] = [];
  while (r.remaining > 0) {
    if (r.byte() === 0xfe) r.bytes(4); // prevlen: 1 byte, or 0xfe + 4 bytes
    out.push(readZiplistElement(r));
  }
  if (blob[blob.length - 1] !== 0xff || (count !== 0xffff && count !== out.length)) {
    throw new RdbFormatError('bad ziplist trailer');
  }
  return out;
}
