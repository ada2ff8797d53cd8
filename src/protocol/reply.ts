import { formatDouble } from './format.js';
import { prefixView, writeBulkText, writeLength, writeText } from './resp-bytes.js';

/**
 * Accumulates replies for one connection in RESP2 or RESP3 and hands them to
 * the socket once per batch. Replies are packed into 16 KB chunks (Redis's
 * PROTO_REPLY_CHUNK_BYTES); a full chunk is set aside as it is, never copied,
 * and a batch that filled several goes out in one writev. Large bulk values
 * are passed through without a copy.
 */
const CHUNK_BYTES = 16 * 1024;
const LARGE_VALUE_BYTES = 16 * 1024;

const CRLF = '\r\n';

/** What sendTo() needs from a socket (StreamSocket.writeBorrowed). */
export interface BorrowingWriter {
  writeBorrowed(data: Buffer | readonly Buffer[]): boolean;
}

export class ReplyWriter {
  /** 2 or 3: the protocol the client chose with HELLO. */
  resp: 2 | 3 = 2;
  private buf: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;
  /**
   * The last view of buf that sendTo() handed the socket, reused while buf
   * stays and the reply size repeats (a client running one command over
   * and over): a view per reply was an allocation per request. Null after
   * buf is replaced.
   */
  private sentView: Buffer | null = null;
  /** Filled chunks and passed-through large values, in order, before buf. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  /** Bytes written since the last flush. */
  get pendingBytes(): number {
    return this.pos + this.chunkBytes;
  }

  /** Takes a copy of everything written so far, or null if nothing. */
  take(): Buffer | null {
    if (this.chunks.length === 0) {
      if (this.pos === 0) return null;
      const out = Buffer.allocUnsafe(this.pos);
      this.buf.copy(out, 0, 0, this.pos);
      this.pos = 0;
      return out;
    }
    this.sealBuffer();
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.chunkBytes);
    this.discard();
    return out;
  }

  /** Drops everything written so far (CLIENT REPLY OFF, a silenced MIGRATE). */
  discard(): void {
    this.pos = 0;
    if (this.chunks.length === 0) return;
    this.chunks = [];
    this.chunkBytes = 0;
  }

  /**
   * Writes everything so far to the socket straight from the writer's own
   * memory; returns the bytes written. When the socket keeps a reference
   * (the kernel did not take it all), the writer lets go of its buffer and
   * starts a new one instead of reusing it.
   */
  sendTo(socket: BorrowingWriter): number {
    if (this.chunks.length === 0) {
      const n = this.pos;
      if (n === 0) return 0;
      this.pos = 0;
      this.afterSend(socket.writeBorrowed((this.sentView = prefixView(this.buf, this.sentView, n))));
      return n;
    }
    const chunks = this.chunks;
    const n = this.chunkBytes + this.pos;
    if (this.pos > 0) chunks.push(this.buf.subarray(0, this.pos));
    this.pos = 0;
    this.chunks = [];
    this.chunkBytes = 0;
    this.afterSend(socket.writeBorrowed(chunks));
    return n;
  }

  /** Keeps the buffer for the next replies unless the socket still holds it or it grew past a chunk. */
  private afterSend(released: boolean): void {
    if (!released || this.buf.length !== CHUNK_BYTES) this.replaceBuffer(CHUNK_BYTES);
  }

  private replaceBuffer(bytes: number): void {
    this.buf = Buffer.allocUnsafe(bytes);
    this.sentView = null;
  }

  /** Sets the current chunk aside (without copying it) and starts a new one. */
  private sealBuffer(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.chunkBytes += this.pos;
    this.replaceBuffer(CHUNK_BYTES);
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.sealBuffer();
    if (n > this.buf.length) this.replaceBuffer(n);
  }

  /** Raw protocol text (latin1). */
  raw(s: string): void {
    this.ensure(s.length);
    this.pos = writeText(this.buf, this.pos, s);
  }

  /**
   * owned: b is this reply's own copy. A stored value (a Buffer that SETRANGE
   * or SETBIT change in place) is copied: the socket may still hold the
   * bytes after the command, when the kernel took only part of them.
   */
  private rawBytes(b: Buffer, owned: boolean): void {
    if (b.length >= LARGE_VALUE_BYTES) {
      this.sealBuffer();
      this.chunks.push(owned ? b : Buffer.from(b));
      this.chunkBytes += b.length;
      return;
    }
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  /** Bytes already in RESP form (a packed list chunk's elements); copied, as a stored value is. */
  encoded(bytes: Buffer): void {
    this.rawBytes(bytes, false);
  }

  ok(): void {
    this.ensure(5);
    const buf = this.buf;
    const p = this.pos;
    buf[p] = 0x2b; // +OK\r\n without a native call
    buf[p + 1] = 0x4f;
    buf[p + 2] = 0x4b;
    buf[p + 3] = 13;
    buf[p + 4] = 10;
    this.pos = p + 5;
  }

  /** +status */
  status(s: string): void {
    this.raw(`+${s}\r\n`);
  }

  /** Told of every error reply (INFO errorstats counts them by code). */
  onError: ((message: string) => void) | null = null;

  /** -ERR ...: `message` includes the error code ("ERR ...", "WRONGTYPE ..."). */
  error(message: string): void {
    this.onError?.(message);
    this.raw(`-${message.replace(/[\r\n]/g, ' ')}\r\n`);
  }

  int(n: number | bigint): void {
    this.header(0x3a /* ':' */, n);
  }

  /**
   * "<prefix><n>\r\n" (a RESP integer or aggregate header), written byte by
   * byte for a safe integer: the usual case needs no string and no native call.
   */
  private header(prefix: number, n: number | bigint): void {
    if (typeof n !== 'number' || !Number.isInteger(n) || Math.abs(n) > MAX_JS_DIGITS_VALUE) {
      this.raw(`${String.fromCharCode(prefix)}${n}\r\n`);
      return;
    }
    this.ensure(HEADER_BYTES);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = prefix;
    if (n < 0) {
      buf[p++] = 0x2d;
      n = -n;
    }
    p = writeLength(buf, p, n);
    buf[p++] = 13;
    buf[p++] = 10;
    this.pos = p;
  }

  /** A bulk string from latin1 text or bytes. */
  bulk(value: string | Buffer): void {
    if (typeof value === 'string') {
      const len = value.length;
      if (len >= LARGE_VALUE_BYTES) {
        this.header(0x24 /* $ */, len);
        this.rawBytes(Buffer.from(value, 'latin1'), true);
        this.raw(CRLF);
        return;
      }
      this.ensure(len + 24);
      this.pos = writeBulkText(this.buf, this.pos, value);
      return;
    }
    this.header(0x24 /* $ */, value.length);
    this.rawBytes(value, false);
    this.raw(CRLF);
  }

  /** Bulk string of a number's decimal text. */
  bulkNumber(n: number | bigint): void {
    this.bulk(String(n));
  }

  /** A null bulk: $-1 in RESP2, _ in RESP3. */
  nullBulk(): void {
    this.raw(this.resp === 2 ? '$-1\r\n' : '_\r\n');
  }

  /** A null array: *-1 in RESP2, _ in RESP3. */
  nullArray(): void {
    this.raw(this.resp === 2 ? '*-1\r\n' : '_\r\n');
  }

  arrayHeader(n: number): void {
    this.header(0x2a /* '*' */, n);
  }

  /** A map of n pairs: %n in RESP3, a flat array of 2n in RESP2. */
  mapHeader(n: number): void {
    if (this.resp === 2) this.header(0x2a /* '*' */, 2 * n);
    else this.header(0x25 /* '%' */, n);
  }

  setHeader(n: number): void {
    this.header(this.resp === 2 ? 0x2a /* '*' */ : 0x7e /* '~' */, n);
  }

  /** Out-of-band push (pub/sub, invalidation): > in RESP3, an array in RESP2. */
  pushHeader(n: number): void {
    this.header(this.resp === 2 ? 0x2a /* '*' */ : 0x3e /* '>' */, n);
  }

  /** A double: RESP3 ",", RESP2 a bulk string in %.17g. */
  double(d: number): void {
    const text = formatDouble(d);
    if (this.resp === 3) this.raw(`,${text}\r\n`);
    else this.bulk(text);
  }

  /** A boolean: RESP3 #t/#f, RESP2 :1/:0. */
  bool(b: boolean): void {
    if (this.resp === 3) this.raw(b ? '#t\r\n' : '#f\r\n');
    else this.raw(b ? ':1\r\n' : ':0\r\n');
  }

  /** Verbatim text (INFO, CLIENT LIST...): RESP3 "=len\r\ntxt:...", RESP2 a bulk string. */
  verbatim(text: string, format = 'txt'): void {
    if (this.resp === 2) {
      this.bulk(text);
      return;
    }
    this.raw(`=${text.length + 4}\r\n${format}:`);
    this.raw(text);
    this.raw(CRLF);
  }

  bulkArray(values: readonly (string | Buffer)[]): void {
    this.arrayHeader(values.length);
    for (const v of values) this.bulk(v);
  }

  /** An array where null entries become null bulks. */
  bulkArrayOrNull(values: readonly (string | Buffer | null)[]): void {
    this.arrayHeader(values.length);
    for (const v of values) {
      if (v === null) this.nullBulk();
      else this.bulk(v);
    }
  }

  /** The empty array (*0). */
  emptyArray(): void {
    this.raw('*0\r\n');
  }
}

/** Largest integer writeLength() formats digit by digit (exact as a double, at most 16 digits). */
const MAX_JS_DIGITS_VALUE = Number.MAX_SAFE_INTEGER;
/** Room a header needs: prefix, sign, 16 digits, CRLF. */
const HEADER_BYTES = 20;
