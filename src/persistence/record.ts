import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';

/**
 * On-disk framing shared by the log, the base and snapshot files:
 *
 *   [u32 LE payload length][u32 LE CRC32 (zlib's, Node >= 20.15) of the payload][msgpackr payload]
 *
 * Plain MessagePack (no records or references), so every record decodes on
 * its own and a truncated file loses only its last record.
 */

const HEADER_BYTES = 8;
/** A length above this is garbage, not a record (the bus bounds one message to 64 MiB; a record holds fewer keys). */
const MAX_RECORD_BYTES = 512 * 1024 * 1024;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, structuredClone: false, moreTypes: false, variableMapSize: true, copyBuffers: true });

/** A file Strata refuses to load; the message names the file and the offset. */
export class PersistenceError extends Error {}

export function encodeRecord(payload: unknown): Buffer {
  const body = packr.encode(payload);
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  body.copy(out, HEADER_BYTES);
  return out;
}

export interface ScanResult {
  payloads: unknown[];
  /** Bytes of intact records from the start. */
  validBytes: number;
  /** Why reading stopped before the end of the data; null when every byte was read. */
  defect: string | null;
  /** True when an intact record follows the defect: corruption in the middle, not a torn tail. */
  intactAfter: boolean;
}

/**
 * Reads the records of one file's data, stopping at the first defect.
 * msgpackr keeps a view of the last buffer it decoded until the next decode:
 * after a load, a view of the whole file (96 MB held for good after loading
 * a 92 MB log). Decoding one byte of its own after the scan lets the file go.
 */
export function scanRecords(data: Buffer): ScanResult {
  try {
    return scanAll(data);
  } finally {
    packr.decode(NIL_FRAME);
  }
}

/** MessagePack nil, in a buffer of its own (not a slice of the file). */
const NIL_FRAME = new Uint8Array([0xc0]);

function scanAll(data: Buffer): ScanResult {
  const payloads: unknown[] = [];
  let at = 0;
  while (at < data.length) {
    const [payload, defect] = recordAt(data, at);
    if (defect !== null) return { payloads, validBytes: at, defect, intactAfter: intactRecordAfter(data, at + 1) };
    payloads.push(payload);
    at += HEADER_BYTES + data.readUInt32LE(at);
  }
  return { payloads, validBytes: at, defect: null, intactAfter: false };
}

/** The decoded record at offset `at`, or why there is none. */
function recordAt(data: Buffer, at: number): [unknown, string | null] {
  if (data.length - at < HEADER_BYTES) return [null, 'incomplete record header'];
  const len = data.readUInt32LE(at);
  if (len === 0 || len > MAX_RECORD_BYTES) return [null, `bad record length ${len}`];
  if (at + HEADER_BYTES + len > data.length) return [null, 'incomplete record'];
  const body = data.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len);
  if (crc32(body) !== data.readUInt32LE(at + 4)) return [null, 'checksum mismatch'];
  try {
    return [packr.decode(body), null];
  } catch {
    return [null, 'undecodable record'];
  }
}

/**
 * Whether a complete, checksummed record starts anywhere after `from`. Only
 * runs on a defect; a random length rarely fits the remaining bytes, so the
 * search is close to linear in practice.
 */
function intactRecordAfter(data: Buffer, from: number): boolean {
  for (let at = from; at + HEADER_BYTES < data.length; at++) {
    const len = data.readUInt32LE(at);
    if (len === 0 || at + HEADER_BYTES + len > data.length) continue;
    if (crc32(data.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len)) === data.readUInt32LE(at + 4)) return true;
  }
  return false;
}

/** Strings up to this many characters are copied in JavaScript: a native write call costs more than the loop. */
const SHORT_STRING_CHARS = 31;
/** The writer's buffer shrinks back to this after a commit that needed more (one large value). */
const WRITER_KEEP_BYTES = 1024 * 1024;
/** Bytes of `{p: [` as written here: fixmap(1), fixstr "p", array32 with its count patched at close. */
const PLAIN_PREFIX = [0x81, 0xa1, 0x70, 0xdd];

/**
 * Stand-alone key records ({p: [db, key, type, value, expireAt, ...]},
 * key-states.ts) framed and MessagePack-encoded byte by byte into one
 * reused buffer: the same bytes any MessagePack reader decodes to what
 * encodeRecord would have written. The log gets one such append per client
 * batch; building it through msgpackr (an array per record, the encoder's
 * own buffer, a copy, a framing buffer) was most of what appendonly cost a
 * SET at P=1.
 */
export class PlainRecordWriter {
  private buf = Buffer.allocUnsafe(4096);
  private at = 0;
  /** Where the open record's header starts, or -1. */
  private recordAt = -1;
  /** Array slots written into the open record. */
  slots = 0;

  /** Appends one key's slots to the open record (opening one if needed). */
  key(db: number, key: string, type: string | null, value: unknown, expireAt: number): void {
    if (typeof value !== 'string' && !(value instanceof Uint8Array) && value !== null) {
      throw new Error(`key record: a value must be text or bytes, not ${typeof value}`);
    }
    if (this.recordAt < 0) this.open();
    this.int(db);
    this.str(key);
    if (type === null) this.nil();
    else this.str(type);
    if (typeof value === 'string') this.str(value);
    else if (value === null) this.nil();
    else this.bin(value);
    this.number(expireAt);
    this.slots += 5;
  }

  /** Appends an already framed record (after closing the open one). */
  raw(record: Buffer): void {
    this.close();
    this.reserve(record.length);
    record.copy(this.buf, this.at);
    this.at += record.length;
  }

  /** Ends the open record: its slot count, length and checksum. */
  close(): void {
    if (this.recordAt < 0) return;
    const bodyAt = this.recordAt + HEADER_BYTES;
    this.buf.writeUInt32BE(this.slots, bodyAt + PLAIN_PREFIX.length);
    const body = this.buf.subarray(bodyAt, this.at);
    this.buf.writeUInt32LE(body.length, this.recordAt);
    this.buf.writeUInt32LE(crc32(body), this.recordAt + 4);
    this.recordAt = -1;
    this.slots = 0;
  }

  /**
   * Every record written since the last take, as a view of the writer's
   * buffer (null: none): valid only until the next write, so the caller
   * uses it at once (an append, a copy). Saves a copy and an allocation per
   * commit.
   */
  takeView(): Buffer | null {
    this.close();
    if (this.at === 0) return null;
    const view = this.buf.subarray(0, this.at);
    this.at = 0;
    if (this.buf.length > WRITER_KEEP_BYTES) this.buf = Buffer.allocUnsafe(WRITER_KEEP_BYTES);
    return view;
  }

  /** Every record written since the last take(), as one buffer of its own (null: none). */
  take(): Buffer | null {
    const view = this.takeView();
    return view === null ? null : Buffer.from(view);
  }

  private open(): void {
    this.reserve(HEADER_BYTES + PLAIN_PREFIX.length + 4);
    this.recordAt = this.at;
    this.at += HEADER_BYTES;
    for (const b of PLAIN_PREFIX) this.buf[this.at++] = b;
    this.at += 4;
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  private nil(): void {
    this.reserve(1);
    this.buf[this.at++] = 0xc0;
  }

  private int(n: number): void {
    if (n >= 0 && n < 128) {
      this.reserve(1);
      this.buf[this.at++] = n;
    } else this.number(n);
  }

  /** Integers in int32 range as int32 (-0 as 0, as msgpackr writes it), anything else as float64 (exact up to 2^53). */
  private number(n: number): void {
    this.reserve(9);
    if (Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff) {
      this.buf[this.at] = 0xd2;
      this.buf.writeInt32BE(n, this.at + 1);
      this.at += 5;
    } else {
      this.buf[this.at] = 0xcb;
      this.buf.writeDoubleBE(n, this.at + 1);
      this.at += 9;
    }
  }

  private str(s: string): void {
    if (s.length <= SHORT_STRING_CHARS && this.ascii(s)) return;
    // UTF-8 needs at most 3 bytes per UTF-16 unit: the header is sized for that, then patched.
    const max = s.length * 3;
    const head = max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    this.reserve(head + max);
    const n = this.buf.write(s, this.at + head, 'utf8');
    const b = this.buf;
    if (head === 2) b[this.at] = 0xd9;
    else if (head === 3) b[this.at] = 0xda;
    else b[this.at] = 0xdb;
    if (head === 2) b[this.at + 1] = n;
    else if (head === 3) b.writeUInt16BE(n, this.at + 1);
    else b.writeUInt32BE(n, this.at + 1);
    this.at += head + n;
  }

  /** A short all-ASCII string as fixstr; false (nothing written) otherwise. */
  private ascii(s: string): boolean {
    this.reserve(1 + s.length);
    const b = this.buf;
    const at = this.at + 1;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false;
      b[at + i] = c;
    }
    b[this.at] = 0xa0 | s.length;
    this.at = at + s.length;
    return true;
  }

  private bin(v: Uint8Array): void {
    const n = v.byteLength;
    this.reserve(5 + n);
    const b = this.buf;
    if (n < 0x100) {
      b[this.at] = 0xc4;
      b[this.at + 1] = n;
      this.at += 2;
    } else if (n < 0x10000) {
      b[this.at] = 0xc5;
      b.writeUInt16BE(n, this.at + 1);
      this.at += 3;
    } else {
      b[this.at] = 0xc6;
      b.writeUInt32BE(n, this.at + 1);
      this.at += 5;
    }
    b.set(v, this.at);
    this.at += n;
  }
}
