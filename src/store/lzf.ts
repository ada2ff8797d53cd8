/**
 * LZF (liblzf's format), which Redis uses to compress strings in RDB files
 * and DUMP payloads.
 *
 * A compressed stream is a sequence of chunks, each starting with a control
 * byte c:
 *  - c < 32: a literal run of c+1 bytes follows;
 *  - otherwise a back reference: length L = c >> 5 (if 7, add the next byte),
 *    then one more byte b; copy L+2 bytes starting ((c & 31) << 8) + b + 1
 *    bytes back in the output (the source may overlap the destination).
 */

const HASH_BITS = 14;
const MAX_LITERAL = 32;
const MAX_OFFSET = 1 << 13;
const MAX_MATCH = 264;

function hash3(a: number, b: number, c: number): number {
  const v = (a << 16) | (b << 8) | c;
  return (Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS)) & ((1 << HASH_BITS) - 1);
}

/**
 * Compresses input; returns the compressed bytes, or null if they would not
 * fit in `maxOut` bytes (Redis only keeps compression that saves at least
 * 4 bytes, hence the default).
 */
export function lzfCompress(input: Uint8Array, maxOut = input.length - 4): Buffer | null {
  if (maxOut <= 0) return null;
  const n = input.length;
  const out = Buffer.allocUnsafe(maxOut);
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  let op = 0;
  let litStart = 0;
  let ip = 0;
  const flushLiterals = (upTo: number): boolean => {
    while (litStart < upTo) {
      const run = Math.min(MAX_LITERAL, upTo - litStart);
      if (op + 1 + run > maxOut) return false;
      out[op++] = run - 1;
      for (let k = 0; k < run; k++) out[op++] = input[litStart + k]!;
      litStart += run;
    }
    return true;
  };
  while (ip + 2 < n) {
    const h = hash3(input[ip]!, input[ip + 1]!, input[ip + 2]!);
    const ref = table[h]!;
    table[h] = ip;
    const off = ip - ref - 1;
    if (ref < 0 || off >= MAX_OFFSET || input[ref] !== input[ip] || input[ref + 1] !== input[ip + 1] || input[ref + 2] !== input[ip + 2]) {
      ip++;
      continue;
    }
    const maxLen = Math.min(MAX_MATCH, n - ip);
    let len = 3;
    while (len < maxLen && input[ref + len] === input[ip + len]) len++;
    if (!flushLiterals(ip)) return null;
    const l = len - 2;
    if (op + 3 > maxOut) return null;
    if (l < 7) {
      out[op++] = (l << 5) | (off >> 8);
    } else {
      out[op++] = (7 << 5) | (off >> 8);
      out[op++] = l - 7;
    }
    out[op++] = off & 0xff;
    ip += len;
    litStart = ip;
  }
  if (!flushLiterals(n)) return null;
  return out.subarray(0, op);
}

/** Decompresses into exactly `outLen` bytes; null if the input is malformed or the size differs. */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer | null {
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 0;
  const n = input.length;
  while (ip < n) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (ip + run > n || op + run > outLen) return null;
      for (let k = 0; k < run; k++) out[op++] = input[ip++]!;
      continue;
    }
    let len = ctrl >> 5;
    if (len === 7) {
      if (ip >= n) return null;
      len += input[ip++]!;
    }
    if (ip >= n) return null;
    const ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
    len += 2;
    if (ref < 0 || op + len > outLen) return null;
    for (let k = 0; k < len; k++) out[op++] = out[ref + k]!;
  }
  return op === outLen ? out : null;
}
