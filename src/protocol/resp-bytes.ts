/**
 * RESP encoding at the byte level, shared by the reply writer and by list
 * chunks (which store their elements as ready-to-send bulk strings).
 */

/**
 * Values up to this length are copied byte by byte in JavaScript. A native
 * latin1Write costs about 45 ns whatever the length; the loop about 1.7 ns a
 * byte (Node 20), so they cross near 14 bytes.
 */
const SHORT_COPY_BYTES = 14;

/**
 * buf's first n bytes as a view: `cached` (a view of buf, or null) when it
 * is that long, else a new one. A client repeating one command reads and
 * answers requests of one size, and a view per request was an allocation
 * per request (RequestParser.own, ReplyWriter.sendTo).
 */
export function prefixView(buf: Buffer, cached: Buffer | null, n: number): Buffer {
  return cached !== null && cached.length === n ? cached : buf.subarray(0, n);
}

/** Writes latin1 text at p (the caller made room); returns the position after it. */
export function writeText(buf: Buffer, p: number, s: string): number {
  const len = s.length;
  // Short text in JavaScript: a native write call costs more than the copy.
  if (len > SHORT_COPY_BYTES) return p + buf.latin1Write(s, p, len);
  for (let i = 0; i < len; i++) buf[p++] = s.charCodeAt(i);
  return p;
}

/** Number of decimal digits of a non-negative safe integer. */
export function decimalDigits(n: number): number {
  // Comparisons first: list chunks ask for every element pushed or popped.
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10000) return 4;
  let digits = 5;
  for (let x = Math.floor(n / 100000); x >= 1; x = Math.floor(x / 10)) digits++;
  return digits;
}

/** Writes a non-negative safe integer's decimal digits at p; returns the position after them. */
export function writeLength(buf: Buffer, p: number, n: number): number {
  if (n < 10) {
    buf[p] = 48 + n;
    return p + 1;
  }
  // Digits in JavaScript, last first: a native write of String(n) costs more than the loop.
  const digits = decimalDigits(n);
  let q = p + digits - 1;
  for (let x = n; q >= p; x = Math.floor(x / 10)) buf[q--] = 48 + (x % 10);
  return p + digits;
}

/** Bytes of a bulk string holding `len` bytes: $<len>\r\n<bytes>\r\n. */
export function bulkBytes(len: number): number {
  return len + 5 + decimalDigits(len);
}

/** Writes latin1 text as a bulk string at p (the caller made room: bulkBytes); returns the end. */
export function writeBulkText(buf: Buffer, p: number, value: string): number {
  const len = value.length;
  buf[p++] = 0x24; // $
  p = writeLength(buf, p, len);
  buf[p++] = 13;
  buf[p++] = 10;
  p = writeText(buf, p, value);
  buf[p++] = 13;
  buf[p++] = 10;
  return p;
}
