/**
 * Incremental server-side RESP request parser (multibulk and inline), with the
 * limits and error texts of Redis 7.0 (networking.c: processMultibulkBuffer,
 * processInlineBuffer).
 *
 * Arguments are produced as latin1 strings: one byte per char, so binary safe,
 * cheaper to create than Buffer views and compact when stored. A bulk argument
 * larger than BIG_ARG_BYTES is accumulated in a buffer of its exact size so
 * that a large value arriving in many chunks is copied once, not quadratically.
 */

import { prefixView } from './resp-bytes.js';

/** Longest line (inline request or a multibulk/bulk header) without a newline. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/** V8 cannot hold a one-byte string longer than this. */
export const MAX_STRING_ARG_BYTES = (1 << 29) - 24;
const BIG_ARG_BYTES = 32 * 1024;
const CR = 13;
const LF = 10;

/** Where peekKeys() hands each buffered command's first arguments. */
export interface KeyPeekSink {
  /**
   * Takes a command by the byte spans of its argv[1], argv[2] and argv[3]
   * in buf (spans[0..5]: start, end pairs; -1 where the command has no such
   * argument).
   */
  addCommand(buf: Uint8Array, spans: Int32Array): void;
}

/** peekKeys()'s scratch spans (one parse runs at a time). */
const peekSpans = new Int32Array(6);

/** Commands with more arguments than this are not looked into by peekKeys() (a huge MSET is not worth the walk). */
const PEEK_MAX_ARGS = 1024;
/** Longest "*<n>" / "$<n>" header peekKeys() reads (the count, CR, LF and slack). */
const PEEK_MAX_HEADER_BYTES = 24;

export interface ParserLimits {
  /** proto-max-bulk-len, read at every bulk header so CONFIG SET applies to open connections. */
  maxBulkBytes: () => number;
  /** Multibulk length / bulk length allowed before AUTH (Redis: 10 and 16384). */
  requireAuth: () => boolean;
}

/** Outcome of one parse step. */
export const enum ParseStatus {
  /** A complete command is in `argv`. */
  Command,
  /** More bytes are needed. */
  NeedMore,
  /** A protocol error: reply `error` and close the connection. */
  Error,
  /** Internal to next(): input consumed that runs nothing (an empty line, "*0"). */
  Skipped,
}

const SKIPPED = ParseStatus.Skipped;
const INT_MAX = 2147483647;

/** A client's spare input buffer starts this big and grows to at most SPARE_MAX_BYTES; larger rests are copied apart. */
const SPARE_MIN_BYTES = 256;
const SPARE_MAX_BYTES = 16 * 1024;
/** A command with more arguments leaves the parser a new scratch array rather than keeping one that large. */
const SCRATCH_MAX_ARGS = 64;

export class RequestParser {
  /** Unparsed bytes (the tail of the last chunk(s)). */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** Arguments still expected in the current multibulk; 0 when between commands. */
  private argsLeft = 0;
  /** Length of the bulk being read, or -1 when a `$` header is expected. */
  private bulkLen = -1;
  /**
   * The arguments of the command being read, in a scratch array reused
   * from command to command (argc of its slots are in use); emit() hands
   * out an exact-size copy. A fresh [] per command grew a 17-slot backing
   * store on its first push: most of a small command's allocation.
   */
  private argv: string[] = [];
  private argc = 0;
  /** Destination for a big bulk argument being filled across chunks. */
  private bigArg: Buffer | null = null;
  private bigArgFilled = 0;

  /** The command produced by the last `next()` that returned Command. */
  command: string[] = [];
  /** The error text when `next()` returned Error. */
  error = '';

  constructor(private readonly limits: ParserLimits) {}

  /** Bytes received but not yet consumed (for client-query-buffer-limit and CLIENT LIST qbuf). */
  get pendingBytes(): number {
    return this.buf.length - this.pos + (this.bigArg ? this.bigArgFilled : 0);
  }

  /** True while `buf` is the caller's chunk, which may be reused after the read callback. */
  private borrowed = false;
  /**
   * Where own() keeps a borrowed chunk's unparsed rest, reused from read to
   * read: a client whose input waits for the end of the I/O round (every
   * request at pipeline depth 1) then costs a copy and no allocation.
   */
  private spare: Buffer = EMPTY;
  /** The last view of spare's first bytes own() made (null when spare was replaced). */
  private spareView: Buffer | null = null;

  /**
   * Adds received bytes. The chunk is only borrowed: call own() before the
   * caller reuses it (the transport reads every socket into one buffer).
   */
  feed(chunk: Buffer): void {
    if (this.bigArg !== null) {
      chunk = this.fillBigArg(chunk);
      if (chunk.length === 0) return;
    }
    if (chunk.length === 0) return;
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.borrowed = true;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.borrowed = false;
    }
    this.pos = 0;
  }

  /** Copies the unparsed rest of a borrowed chunk (usually nothing: whole commands were consumed). */
  own(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
      return;
    }
    const rest = this.buf.length - this.pos;
    if (rest > SPARE_MAX_BYTES) {
      this.buf = Buffer.from(this.buf.subarray(this.pos));
    } else {
      // buf is the borrowed chunk, never spare itself: spare's old bytes were consumed before this chunk came in.
      if (this.spare.length < rest) {
        this.spare = Buffer.allocUnsafeSlow(Math.max(rest, SPARE_MIN_BYTES));
        this.spareView = null;
      }
      this.buf.copy(this.spare, 0, this.pos);
      this.buf = this.spareView = prefixView(this.spare, this.spareView, rest);
    }
    this.pos = 0;
  }

  /** Parses the next command out of the buffered bytes. */
  next(): ParseStatus {
    if (this.bigArg !== null) return ParseStatus.NeedMore;
    // A big final argument completed the command inside feed().
    if (this.argsLeft === 0 && this.argc > 0) return this.emitArgs();
    // A loop, not recursion: a client may send any number of empty lines or "*0".
    while (this.argsLeft === 0) {
      if (this.pos >= this.buf.length) return this.drained();
      const status = this.buf[this.pos] === 0x2a /* '*' */ ? this.parseMultibulkHeader() : this.parseInline();
      if (status === SKIPPED) continue;
      if (status !== ParseStatus.Command || this.argsLeft === 0) return status;
    }
    return this.parseBulks();
  }

  /**
   * Looks ahead, consuming nothing, at up to maxCommands complete multibulk
   * commands from where next() will continue, and hands each one's
   * argv[1..3] (the key of most commands, and members) to sink. Stops at what it does not see
   * whole: an inline request, a partial or malformed command (next()
   * reports errors in its turn). Returns how many commands it looked at.
   */
  peekKeys(sink: KeyPeekSink, maxCommands: number): number {
    // Mid-command (or a big argument completed one inside feed()): next() does not start at pos.
    if (this.argsLeft !== 0 || this.bigArg !== null || this.argc > 0) return 0;
    const buf = this.buf;
    const len = buf.length;
    let p = this.pos;
    let seen = 0;
    while (seen < maxCommands && p < len && buf[p] === 0x2a /* '*' */) {
      const cr = findHeaderEnd(buf, p + 1, len);
      const argc = cr < 0 ? NaN : parseHeaderInt(buf, p + 1, cr);
      if (!(argc > 0 && argc <= PEEK_MAX_ARGS)) break;
      p = cr + 2;
      peekSpans.fill(-1);
      for (let a = 0; a < argc; a++) {
        const bulkEnd = buf[p] === 0x24 /* '$' */ ? findHeaderEnd(buf, p + 1, len) : -1;
        const bulkLen = bulkEnd < 0 ? NaN : parseHeaderInt(buf, p + 1, bulkEnd);
        if (!(bulkLen >= 0) || bulkEnd + 4 + bulkLen > len) return seen;
        const start = bulkEnd + 2;
        if (a >= 1 && a <= 3) {
          peekSpans[2 * a - 2] = start;
          peekSpans[2 * a - 1] = start + bulkLen;
        }
        p = start + bulkLen + 2;
      }
      seen++;
      if (argc >= 2) sink.addCommand(buf, peekSpans);
    }
    return seen;
  }

  private drained(): ParseStatus {
    this.buf = EMPTY;
    this.pos = 0;
    return ParseStatus.NeedMore;
  }

  private fail(message: string): ParseStatus {
    this.error = message;
    this.buf = EMPTY;
    this.pos = 0;
    return ParseStatus.Error;
  }

  /**
   * Reads "<prefix><integer>\r\n" at pos; returns the integer, NaN if
   * malformed, null if incomplete, or the error text when the line is too long.
   * Headers are short, so a byte loop beats a native indexOf call.
   */
  private readHeaderLine(tooBigMessage: string): number | null | string {
    const buf = this.buf;
    const len = buf.length;
    // From the prefix itself: a CR where '$' belongs ends an (invalid) line too.
    let cr = this.pos;
    // Redis finds the line end with strchr, which stops at a NUL byte.
    while (cr < len && buf[cr] !== CR && buf[cr] !== 0) cr++;
    if (cr + 1 >= len || buf[cr] === 0) {
      if (len - this.pos > PROTO_INLINE_MAX_SIZE) return tooBigMessage;
      return null;
    }
    const value = cr > this.pos ? parseHeaderInt(buf, this.pos + 1, cr) : NaN;
    this.pos = cr + 2;
    return value;
  }

  private parseMultibulkHeader(): ParseStatus {
    const n = this.readHeaderLine('Protocol error: too big mbulk count string');
    if (n === null) return ParseStatus.NeedMore;
    if (typeof n === 'string') return this.fail(n);
    if (Number.isNaN(n) || n > INT_MAX) return this.fail('Protocol error: invalid multibulk length');
    if (n <= 0) return SKIPPED; // "*0" and "*-1" run nothing
    if (n > 10 && this.limits.requireAuth()) return this.fail('Protocol error: unauthenticated multibulk length');
    this.argsLeft = n;
    this.argc = 0;
    this.bulkLen = -1;
    return ParseStatus.Command;
  }

  private parseBulks(): ParseStatus {
    const buf = this.buf;
    while (this.argsLeft > 0) {
      if (this.bulkLen < 0) {
        if (this.pos >= buf.length) return ParseStatus.NeedMore;
        const lineStart = this.pos;
        const len = this.readHeaderLine('Protocol error: too big bulk count string');
        if (len === null) return ParseStatus.NeedMore;
        if (typeof len === 'string') return this.fail(len);
        // Checked once the whole line is in, as Redis does.
        if (buf[lineStart] !== 0x24 /* '$' */) {
          return this.fail(`Protocol error: expected '$', got '${String.fromCharCode(buf[lineStart]!)}'`);
        }
        if (Number.isNaN(len) || len < 0 || len > this.limits.maxBulkBytes() || len > MAX_STRING_ARG_BYTES) {
          return this.fail('Protocol error: invalid bulk length');
        }
        if (len > 16384 && this.limits.requireAuth()) return this.fail('Protocol error: unauthenticated bulk length');
        this.bulkLen = len;
        if (len >= BIG_ARG_BYTES && buf.length - this.pos < len + 2) return this.startBigArg(len);
      }
      const end = this.pos + this.bulkLen;
      if (end + 2 > buf.length) return ParseStatus.NeedMore;
      const index = this.argc;
      this.addArg(index === 0 ? commandName(buf, this.pos, end) : index === 1 ? this.keyArg(buf, this.pos, end) : buf.latin1Slice(this.pos, end));
      this.pos = end + 2;
      this.bulkLen = -1;
      this.argsLeft--;
    }
    return this.emitArgs();
  }

  private addArg(arg: string): void {
    // Writes stay in bounds or append, so the scratch array stays packed.
    if (this.argc < this.argv.length) this.argv[this.argc++] = arg;
    else this.argc = this.argv.push(arg);
  }

  /** Emits the scratch arguments as an array of their own and clears the scratch (no argument stays referenced). */
  private emitArgs(): ParseStatus {
    const n = this.argc;
    const scratch = this.argv;
    const argv = scratch.slice(0, n);
    if (n > SCRATCH_MAX_ARGS) this.argv = [];
    else for (let i = 0; i < n; i++) scratch[i] = '';
    this.argc = 0;
    return this.emit(argv);
  }

  /** The last argv[1] made (see keyArg). */
  private lastKey = '';

  /**
   * argv[1], usually the key: the previous command's string again when the
   * bytes are the same (a client working on one list, queue or counter), so
   * no string is made and the keyspace lookup compares one pointer.
   */
  private keyArg(buf: Buffer, start: number, end: number): string {
    const last = this.lastKey;
    if (end - start <= KEY_REUSE_MAX_BYTES && sameText(last, buf, start, end)) return last;
    const key = buf.latin1Slice(start, end);
    this.lastKey = key;
    return key;
  }

  private emit(argv: string[]): ParseStatus {
    this.command = argv;
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    return ParseStatus.Command;
  }

  private startBigArg(len: number): ParseStatus {
    const big = Buffer.allocUnsafe(len + 2);
    const have = this.buf.length - this.pos;
    this.buf.copy(big, 0, this.pos);
    this.bigArg = big;
    this.bigArgFilled = have;
    this.buf = EMPTY;
    this.pos = 0;
    return ParseStatus.NeedMore;
  }

  /** Copies chunk bytes into the big argument; returns what is left of the chunk. */
  private fillBigArg(chunk: Buffer): Buffer {
    const big = this.bigArg!;
    const take = Math.min(big.length - this.bigArgFilled, chunk.length);
    chunk.copy(big, this.bigArgFilled, 0, take);
    this.bigArgFilled += take;
    if (this.bigArgFilled < big.length) return EMPTY;
    this.addArg(big.latin1Slice(0, big.length - 2));
    this.bigArg = null;
    this.bigArgFilled = 0;
    this.bulkLen = -1;
    this.argsLeft--;
    // Re-enter the normal path: an empty buffer plus the rest of this chunk.
    this.buf = EMPTY;
    this.pos = 0;
    return chunk.subarray(take);
  }

  private parseInline(): ParseStatus {
    let nl = this.buf.indexOf(LF, this.pos);
    // Redis finds the newline with strchr, which stops at a NUL byte: such a line never ends.
    if (nl >= 0) {
      const nul = this.buf.indexOf(0, this.pos);
      if (nul >= 0 && nul < nl) nl = -1;
    }
    if (nl < 0) {
      if (this.buf.length - this.pos > PROTO_INLINE_MAX_SIZE) return this.fail('Protocol error: too big inline request');
      return ParseStatus.NeedMore;
    }
    let end = nl;
    if (end > this.pos && this.buf[end - 1] === CR) end--;
    const line = this.buf.latin1Slice(this.pos, end);
    this.pos = nl + 1;
    const argv = splitArgs(line);
    if (argv === null) return this.fail('Protocol error: unbalanced quotes in request');
    if (argv.length === 0) return SKIPPED;
    return this.emit(argv);
  }
}

const EMPTY = Buffer.alloc(0);

/** Command names remembered by commandName() (every client sends the same few). */
const NAME_CACHE_SIZE = 16;
/** Names longer than this are not remembered (no command name is). */
const NAME_CACHE_MAX_BYTES = 24;
/** Longest argv[1] compared with the previous one for reuse (RequestParser.keyArg). */
const KEY_REUSE_MAX_BYTES = 64;
const nameCache: string[] = [];
let nameCacheNext = 0;

/**
 * argv[0] of a multibulk command: the same string object for the same
 * bytes as a recent command, so the command table lookup finds its hash
 * already computed and no string is allocated (measured: 5% of a
 * pipelined RPUSH went to creating and hashing fresh name strings).
 */
function commandName(buf: Buffer, start: number, end: number): string {
  const len = end - start;
  if (len > NAME_CACHE_MAX_BYTES) return buf.latin1Slice(start, end);
  for (let k = 0; k < nameCache.length; k++) {
    const name = nameCache[k]!;
    if (sameText(name, buf, start, end)) return name;
  }
  const name = buf.latin1Slice(start, end);
  nameCache[nameCacheNext] = name;
  nameCacheNext = (nameCacheNext + 1) % NAME_CACHE_SIZE;
  return name;
}

/**
 * Whether the latin1 string s is exactly the bytes buf[start, end).
 * Compared from the end: keys of one length mostly share a prefix
 * ("user:000123", "user:000456") and differ last, so a mismatch shows at
 * the first byte compared instead of after the whole prefix.
 */
function sameText(s: string, buf: Buffer, start: number, end: number): boolean {
  let i = end - start;
  if (s.length !== i) return false;
  while (i-- > 0) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

/** Index of the CR ending a header that starts before `from`, or -1 if not within PEEK_MAX_HEADER_BYTES (or the buffer). */
function findHeaderEnd(buf: Buffer, from: number, len: number): number {
  const limit = Math.min(len - 1, from + PEEK_MAX_HEADER_BYTES);
  for (let i = from; i < limit; i++) if (buf[i] === CR) return buf[i + 1] === LF ? i : -1;
  return -1;
}

/**
 * Parses a signed decimal integer in buf[start, end) with Redis's string2ll
 * rules: "0", or an optional '-' then 1-9 then digits (no '+', no leading
 * zeros, no "-0"), at most 20 chars. NaN if malformed.
 */
function parseHeaderInt(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  if (n <= 0 || n > 20) return NaN;
  if (n === 1 && buf[start] === 0x30) return 0;
  let i = start;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  if (i === end || buf[i]! < 0x31 || buf[i]! > 0x39) return NaN;
  let value = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return NaN;
    value = value * 10 + d;
  }
  return negative ? -value : value;
}

/**
 * Splits an inline request the way Redis's sdssplitargs does: whitespace
 * separated, "double quotes" with \n \r \t \b \a \\ \" and \xHH escapes,
 * 'single quotes' with \' only. A closing quote must be followed by a space
 * or the end. Returns null on unbalanced quotes.
 */
export function splitArgs(line: string): string[] | null {
  // sdssplitargs reads a C string: a NUL byte ends the input.
  const nul = line.indexOf('\0');
  if (nul >= 0) line = line.slice(0, nul);
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) return out;
    let current = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      if (inDq) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
          current += String.fromCharCode(parseInt(line.substr(i + 2, 2), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          current += unescapeChar(line[i]!);
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          inDq = false;
          i++;
          break;
        } else current += c;
      } else if (inSq) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          current += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line.charCodeAt(i + 1))) return null;
          inSq = false;
          i++;
          break;
        } else current += c;
      } else {
        if (i >= n) break;
        const c = line[i]!;
        if (c === ' ' || c === '\n' || c === '\r' || c === '\t') break;
        if (c === '"') inDq = true;
        else if (c === "'") inSq = true;
        else current += c;
      }
      i++;
    }
    out.push(current);
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

function isHex(c: string | undefined): boolean {
  return c !== undefined && /[0-9a-fA-F]/.test(c);
}

function unescapeChar(c: string): string {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\x07';
    default:
      return c;
  }
}
