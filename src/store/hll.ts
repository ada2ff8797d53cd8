import { newBytes } from './bytes.js';

/**
 * HyperLogLog values in Redis 7.0's byte format (hyperloglog.c), as plain
 * string values: a value written here reads back in Redis and the reverse.
 *
 *   header (16 bytes): "HYLL", encoding (0 dense, 1 sparse), 3 zero bytes,
 *     cached cardinality as 8 bytes little endian; bit 7 of the last byte
 *     set means "not cached".
 *   dense: 16384 registers of 6 bits, packed from the least significant bit
 *     of each byte upwards (register i starts at bit 6*i).
 *   sparse: run-length opcodes covering the 16384 registers in order:
 *     ZERO  00LLLLLL           1..64 zero registers
 *     XZERO 01LLLLLL LLLLLLLL  1..16384 zero registers
 *     VAL   1VVVVVLL           1..4 registers of value 1..32
 *
 * Every function is pure over bytes except where it says it edits a buffer.
 * Element hashes are MurmurHash64A (seed 0xadc83b19), computed in 32-bit
 * halves: the low 14 bits pick the register, the run of zero bits above them
 * (plus one, at most 51) is the register candidate.
 */

export const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
export const HLL_BITS = 6;
export const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * HLL_BITS + 7) >> 3);
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
/** Largest register value a sparse VAL opcode holds; larger ones need the dense form. */
export const HLL_SPARSE_VAL_MAX_VALUE = 32;
export const HLL_HASH_SEED = 0xadc83b19;
/** Redis's default hll-sparse-max-bytes. */
export const HLL_SPARSE_MAX_BYTES_DEFAULT = 3000;

const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;
const CACHE_INVALID_BIT = 0x80;
const CACHE_LAST_BYTE = 15;
/** 0.5 / ln(2): the estimator's alpha as m grows without bound. */
const ALPHA_INF = 0.72134752044448170368;
const TWO_63 = 2 ** 63;

// ---- MurmurHash64A ------------------------------------------------------------

/** The multiplier 0xc6a4a7935bd1e995 in halves. */
const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;

/** Result registers of mul64 (and of the hash): high and low 32 bits, unsigned. */
let outHi = 0;
let outLo = 0;

/** (ah:al) * (bh:bl) mod 2^64 into outHi:outLo, with every intermediate exact in a double. */
function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const cross = a1 * b0 + a0 * b1;
  const low = a0 * b0 + (cross % 0x10000) * 0x10000;
  outLo = low >>> 0;
  const carry = low >= 0x100000000 ? 1 : 0;
  const high = a1 * b1 + Math.floor(cross / 0x10000) + carry;
  outHi = (high + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

/** MurmurHash64A of bytes [0, len) of data into outHi:outLo (little-endian reads, as Redis on every arch). */
function murmurInto(data: Uint8Array, len: number, seed: number): void {
  mul64(0, len, M_HI, M_LO);
  let hHi = outHi;
  let hLo = (outLo ^ seed) >>> 0;
  const blocks = len - (len & 7);
  for (let i = 0; i < blocks; i += 8) {
    const kLo = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    const kHi = (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) >>> 0;
    mul64(kHi, kLo, M_HI, M_LO);
    mul64(outHi, (outLo ^ (outHi >>> 15)) >>> 0, M_HI, M_LO);
    hHi = (hHi ^ outHi) >>> 0;
    hLo = (hLo ^ outLo) >>> 0;
    mul64(hHi, hLo, M_HI, M_LO);
    hHi = outHi;
    hLo = outLo;
  }
  const rest = len & 7;
  if (rest > 0) {
    const t = blocks;
    if (rest >= 7) hHi ^= data[t + 6]! << 16;
    if (rest >= 6) hHi ^= data[t + 5]! << 8;
    if (rest >= 5) hHi ^= data[t + 4]!;
    if (rest >= 4) hLo ^= data[t + 3]! << 24;
    if (rest >= 3) hLo ^= data[t + 2]! << 16;
    if (rest >= 2) hLo ^= data[t + 1]! << 8;
    hLo ^= data[t]!;
    mul64(hHi >>> 0, hLo >>> 0, M_HI, M_LO);
    hHi = outHi;
    hLo = outLo;
  }
  mul64(hHi, (hLo ^ (hHi >>> 15)) >>> 0, M_HI, M_LO);
  outLo = (outLo ^ (outHi >>> 15)) >>> 0;
}

/** MurmurHash64A as Redis computes it (hyperloglog.c), as an unsigned 64-bit bigint. */
export function murmurHash64A(data: Uint8Array, seed = HLL_HASH_SEED): bigint {
  murmurInto(data, data.length, seed >>> 0);
  return (BigInt(outHi) << 32n) | BigInt(outLo);
}

/** Elements are hashed from this buffer (latin1 text written once, no allocation per element). */
let scratch = Buffer.alloc(4096);

/** Register index and run length of bytes [0, len) of data, packed as count << 14 | index. */
function patLenBytes(data: Uint8Array, len: number): number {
  murmurInto(data, len, HLL_HASH_SEED);
  const index = outLo & (HLL_REGISTERS - 1);
  const above = outLo >>> HLL_P; // 18 bits of the run, then the 32 of the high half
  let count: number;
  if (above !== 0) count = ctz32(above) + 1;
  else if (outHi !== 0) count = 32 - HLL_P + ctz32(outHi) + 1;
  else count = HLL_Q + 1;
  return (count << HLL_P) | index;
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** patLenBytes of an element given as latin1 text or bytes. */
function patLen(ele: string | Uint8Array): number {
  if (typeof ele !== 'string') return patLenBytes(ele, ele.length);
  if (ele.length > scratch.length) scratch = Buffer.alloc(Math.max(ele.length, scratch.length * 2));
  const n = scratch.latin1Write(ele, 0);
  return patLenBytes(scratch, n);
}

/** hllPatLen: the register an element maps to and the candidate value for it (1..51). */
export function hllPatLen(ele: string | Uint8Array): { index: number; count: number } {
  const packed = patLen(ele);
  return { index: packed & (HLL_REGISTERS - 1), count: packed >>> HLL_P };
}

// ---- header -------------------------------------------------------------------

/**
 * isHLLObjectOrReply's check: a string long enough for the header, with the
 * "HYLL" magic, a known encoding and, when dense, the exact dense length. A
 * sparse body is only checked by whoever walks it (it may still be corrupt).
 */
export function hllIsValid(v: Uint8Array): boolean {
  if (v.length < HLL_HDR_SIZE) return false;
  if (v[0] !== 0x48 || v[1] !== 0x59 || v[2] !== 0x4c || v[3] !== 0x4c) return false;
  const enc = v[4]!;
  if (enc > HLL_SPARSE) return false;
  return enc === HLL_SPARSE || v.length === HLL_DENSE_SIZE;
}

/**
 * Full structural check: the header as hllIsValid, and a sparse body whose
 * opcodes cover exactly the 16384 registers. What a merge of untrusted input
 * (replication) should require.
 */
export function hllValidate(v: Uint8Array): boolean {
  if (!hllIsValid(v)) return false;
  return v[4] === HLL_DENSE || sparseHistogram(v, new Float64Array(64));
}

/** The encoding byte of a value that passed hllIsValid. */
export function hllEncoding(v: Uint8Array): 'dense' | 'sparse' {
  return v[4] === HLL_DENSE ? 'dense' : 'sparse';
}

/** The cached cardinality, or null when the cache is marked invalid. */
export function hllCachedCount(v: Uint8Array): number | bigint | null {
  if ((v[CACHE_LAST_BYTE]! & CACHE_INVALID_BIT) !== 0) return null;
  const lo = (v[8]! | (v[9]! << 8) | (v[10]! << 16) | (v[11]! << 24)) >>> 0;
  const hi = (v[12]! | (v[13]! << 8) | (v[14]! << 16) | (v[15]! << 24)) >>> 0;
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Edits v: stores `card` (as computed by hllCount) as the cached cardinality. */
export function hllStoreCount(v: Uint8Array, card: number | bigint): void {
  const u = BigInt.asUintN(64, BigInt(card));
  const lo = Number(u & 0xffffffffn);
  const hi = Number(u >> 32n);
  for (let i = 0; i < 4; i++) {
    v[8 + i] = (lo >>> (8 * i)) & 0xff;
    v[12 + i] = (hi >>> (8 * i)) & 0xff;
  }
}

/** Edits v: marks the cached cardinality stale. */
export function hllInvalidateCache(v: Uint8Array): void {
  v[CACHE_LAST_BYTE] = v[CACHE_LAST_BYTE]! | CACHE_INVALID_BIT;
}

/** createHLLObject: an empty sparse HLL (one XZERO opcode over all registers, cache 0 and valid). */
export function hllCreate(): Buffer {
  const b = newBytes(HLL_HDR_SIZE + 2);
  writeHeader(b, HLL_SPARSE);
  // HLL_REGISTERS equals the longest XZERO run, so one opcode covers them all.
  b[HLL_HDR_SIZE] = 0x40 | ((SPARSE_XZERO_MAX_LEN - 1) >> 8);
  b[HLL_HDR_SIZE + 1] = (SPARSE_XZERO_MAX_LEN - 1) & 0xff;
  return b;
}

function writeHeader(b: Uint8Array, encoding: number): void {
  b[0] = 0x48;
  b[1] = 0x59;
  b[2] = 0x4c;
  b[3] = 0x4c;
  b[4] = encoding;
}

// ---- dense registers ----------------------------------------------------------

/** Register r of a dense value (registers start after the header). */
export function denseGet(v: Uint8Array, r: number): number {
  const bit = r * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const shift = bit & 7;
  // shift is 0, 2, 4 or 6: past 2 the register continues into the next byte.
  const low = v[at]! >>> shift;
  return (shift > 2 ? low | (v[at + 1]! << (8 - shift)) : low) & HLL_REGISTER_MAX;
}

/** Edits v: sets register r of a dense value to val (0..63). */
export function denseSet(v: Uint8Array, r: number, val: number): void {
  const bit = r * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const shift = bit & 7;
  v[at] = (v[at]! & ~(HLL_REGISTER_MAX << shift)) | (val << shift);
  if (shift > 2) {
    const rs = 8 - shift;
    v[at + 1] = (v[at + 1]! & ~(HLL_REGISTER_MAX >>> rs)) | (val >>> rs);
  }
}

/** hllDenseSet: raises register r to count if lower; true when it changed. */
function denseRaise(v: Uint8Array, r: number, count: number): boolean {
  if (count <= denseGet(v, r)) return false;
  denseSet(v, r, count);
  return true;
}

// ---- sparse opcodes -----------------------------------------------------------

function isZero(op: number): boolean {
  return (op & 0xc0) === 0;
}

function isXZero(op: number): boolean {
  return (op & 0xc0) === 0x40;
}

function isVal(op: number): boolean {
  return (op & 0x80) !== 0;
}

function valValue(op: number): number {
  return ((op >>> 2) & 0x1f) + 1;
}

function valLen(op: number): number {
  return (op & 3) + 1;
}

function valOp(value: number, len: number): number {
  return 0x80 | ((value - 1) << 2) | (len - 1);
}

/** XZERO's run length; a second byte past the end reads as 0 (Redis reads the sds terminator there). */
function xzeroLen(b: Uint8Array, p: number, end: number): number {
  return (((b[p]! & 0x3f) << 8) | (p + 1 < end ? b[p + 1]! : 0)) + 1;
}

/**
 * Adds a sparse body's registers to hist (value -> count); false when the
 * opcodes do not cover exactly 16384 registers (hllSparseRegHisto).
 */
function sparseHistogram(v: Uint8Array, hist: Float64Array): boolean {
  const end = v.length;
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = v[p]!;
    if (isZero(op)) {
      const run = (op & 0x3f) + 1;
      idx += run;
      hist[0]! += run;
      p++;
    } else if (isXZero(op)) {
      const run = xzeroLen(v, p, end);
      idx += run;
      hist[0]! += run;
      p += 2;
    } else {
      const run = valLen(op);
      idx += run;
      hist[valValue(op)]! += run;
      p++;
    }
  }
  return idx === HLL_REGISTERS;
}

/**
 * Walks a sparse body calling visit(first, run, value) for every VAL run;
 * false when it is corrupt: the runs must add up to exactly 16384, and the
 * walk stops at the first opcode that would pass the last register (before
 * visiting it). This is Redis 7.0.15 with the CVE-2025-32023 fix (Debian's
 * redis-server and later upstream releases), which also refuses a trailing
 * VAL after register 16383 that the original 7.0 silently ignored.
 */
function walkSparse(v: Uint8Array, end: number, visit: (first: number, run: number, value: number) => void): boolean {
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = v[p]!;
    let run: number;
    if (isZero(op)) {
      run = (op & 0x3f) + 1;
      p++;
    } else if (isXZero(op)) {
      run = xzeroLen(v, p, end);
      p += 2;
    } else {
      run = valLen(op);
      if (idx + run <= HLL_REGISTERS) visit(idx, run, valValue(op));
      p++;
    }
    if (idx + run > HLL_REGISTERS) return false;
    idx += run;
  }
  return idx === HLL_REGISTERS;
}

/** hllSparseToDense: the dense form of bytes [0, end) of a sparse value (header copied, cache kept), or null if corrupt. */
function sparseToDense(v: Uint8Array, end: number): Buffer | null {
  const dense = newBytes(HLL_DENSE_SIZE);
  for (let i = 0; i < HLL_HDR_SIZE; i++) dense[i] = v[i]!;
  dense[4] = HLL_DENSE;
  const ok = walkSparse(v, end, (first, run, value) => {
    for (let r = first; r < first + run; r++) denseSet(dense, r, value);
  });
  return ok ? dense : null;
}

/** PFDEBUG DECODE: the opcodes of a sparse value as "z:len", "Z:len" and "v:value,len", space separated. */
export function hllDecodeSparse(v: Uint8Array): string {
  const parts: string[] = [];
  const end = v.length;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = v[p]!;
    if (isZero(op)) {
      parts.push(`z:${(op & 0x3f) + 1}`);
      p++;
    } else if (isXZero(op)) {
      parts.push(`Z:${xzeroLen(v, p, end)}`);
      p += 2;
    } else {
      parts.push(`v:${valValue(op)},${valLen(op)}`);
      p++;
    }
  }
  return parts.join(' ');
}

// ---- an HLL being edited --------------------------------------------------------

/** Outcome of HllEditor.raise: the register changed, did not, or the sparse body is corrupt. */
const RAISED = 1;
const UNCHANGED = 0;
const CORRUPT = -1;

/**
 * A value under modification. Dense values are edited in the caller's buffer
 * (they never change size); sparse ones in a private copy with spare room, so
 * an error half-way leaves the stored value as it was. `value()` returns the
 * result, a new exact-size buffer unless a dense value was edited in place.
 */
class HllEditor {
  buf: Buffer;
  len: number;
  dense: boolean;

  constructor(v: Buffer) {
    this.dense = v[4] === HLL_DENSE;
    this.len = v.length;
    if (this.dense) {
      this.buf = v;
    } else {
      this.buf = Buffer.alloc(v.length + 64);
      v.copy(this.buf, 0);
    }
  }

  value(): Buffer {
    if (this.dense) return this.buf;
    const out = newBytes(this.len);
    this.buf.copy(out, 0, 0, this.len);
    return out;
  }

  /** hllSparseToDense in place of the editor's content; false if the sparse body is corrupt. */
  toDense(): boolean {
    if (this.dense) return true;
    const dense = sparseToDense(this.buf, this.len);
    if (dense === null) return false;
    this.buf = dense;
    this.len = HLL_DENSE_SIZE;
    this.dense = true;
    return true;
  }

  /** Raises register `index` to `count` if lower (hllDenseSet / hllSparseSet). */
  raise(index: number, count: number, sparseMaxBytes: number): number {
    if (this.dense) return denseRaise(this.buf, index, count) ? RAISED : UNCHANGED;
    return this.sparseRaise(index, count, sparseMaxBytes);
  }

  /** Byte p of the content; 0 at or past the end (the sds terminator Redis may read). */
  private at(p: number): number {
    return p < this.len ? this.buf[p]! : 0;
  }

  private promote(index: number, count: number): number {
    if (!this.toDense()) return CORRUPT;
    denseRaise(this.buf, index, count);
    return RAISED;
  }

  private sparseRaise(index: number, count: number, sparseMaxBytes: number): number {
    if (count > HLL_SPARSE_VAL_MAX_VALUE) return this.promote(index, count);
    if (this.buf.length < this.len + 8) {
      const grown = Buffer.alloc(this.len * 2 + 64);
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    const b = this.buf;
    let end = this.len;

    // Find the opcode covering `index`.
    let p = HLL_HDR_SIZE;
    let first = 0;
    let prev = -1;
    let span = 0;
    let opLen = 1;
    while (p < end) {
      const op = b[p]!;
      opLen = 1;
      if (isZero(op)) span = (op & 0x3f) + 1;
      else if (isVal(op)) span = valLen(op);
      else {
        span = (((op & 0x3f) << 8) | this.at(p + 1)) + 1;
        opLen = 2;
      }
      if (index <= first + span - 1) break;
      prev = p;
      p += opLen;
      first += span;
    }
    if (span === 0 || p >= end) return CORRUPT;

    const op = b[p]!;
    const zero = isZero(op);
    const xzero = !zero && !isVal(op);
    const next = p + opLen < end ? p + opLen : -1;
    const run = span;

    let edited = false;
    if (!zero && !xzero) {
      if (valValue(op) >= count) return UNCHANGED;
      if (run === 1) {
        b[p] = valOp(count, 1);
        edited = true;
      }
    } else if (zero && run === 1) {
      b[p] = valOp(count, 1);
      edited = true;
    }

    if (!edited) {
      // Split the opcode into (before) VAL(count) (after): at most 5 bytes.
      const seq: number[] = [];
      const last = first + span - 1;
      const zeros = (n: number): void => {
        if (n > SPARSE_ZERO_MAX_LEN) seq.push(0x40 | ((n - 1) >> 8), (n - 1) & 0xff);
        else seq.push(n - 1);
      };
      if (zero || xzero) {
        if (index !== first) zeros(index - first);
        seq.push(valOp(count, 1));
        if (index !== last) zeros(last - index);
      } else {
        const cur = valValue(op);
        if (index !== first) seq.push(valOp(cur, index - first));
        seq.push(valOp(count, 1));
        if (index !== last) seq.push(valOp(cur, last - index));
      }
      const delta = seq.length - (xzero ? 2 : 1);
      if (delta > 0 && this.len + delta > sparseMaxBytes) return this.promote(index, count);
      if (delta !== 0 && next !== -1) b.copyWithin(next + delta, next, end);
      this.len += delta;
      for (let i = 0; i < seq.length; i++) b[p + i] = seq[i]!;
      end += delta;
    }

    // Merge adjacent VAL opcodes of equal value near the edit (up to 5 opcodes from prev).
    p = prev >= 0 ? prev : HLL_HDR_SIZE;
    let budget = 5;
    while (p < end && budget-- > 0) {
      const cur = b[p]!;
      if (isXZero(cur)) {
        p += 2;
        continue;
      }
      if (isZero(cur)) {
        p++;
        continue;
      }
      if (p + 1 < end && isVal(b[p + 1]!)) {
        const v1 = valValue(cur);
        const right = b[p + 1]!;
        if (v1 === valValue(right)) {
          const len = valLen(cur) + valLen(right);
          if (len <= SPARSE_VAL_MAX_LEN) {
            b[p + 1] = valOp(v1, len);
            b.copyWithin(p, p + 1, end);
            this.len--;
            end--;
            continue;
          }
        }
      }
      p++;
    }
    hllInvalidateCache(b);
    return RAISED;
  }
}

// ---- commands' building blocks ----------------------------------------------------

/** Result of hllAdd. */
export interface HllAddResult {
  /** The new value (v itself when v was dense: edited in place). */
  value: Buffer;
  /** Number of elements that raised a register. */
  updated: number;
  /** A sparse body was found corrupt (INVALIDOBJ); `value` is then v untouched. */
  corrupt: boolean;
}

/**
 * PFADD's core: adds elements[from..] to v (a value that passed hllIsValid).
 * A dense v is edited in place; a sparse one is copied, and becomes dense
 * when a register exceeds 32 or the body would exceed sparseMaxBytes. When
 * anything changed the cached cardinality is marked stale.
 */
export function hllAdd(v: Buffer, elements: readonly (string | Uint8Array)[], from = 0, sparseMaxBytes = HLL_SPARSE_MAX_BYTES_DEFAULT): HllAddResult {
  if (v[4] === HLL_DENSE) {
    let updated = 0;
    for (let i = from; i < elements.length; i++) {
      const pl = patLen(elements[i]!);
      if (denseRaise(v, pl & (HLL_REGISTERS - 1), pl >>> HLL_P)) updated++;
    }
    if (updated > 0) hllInvalidateCache(v);
    return { value: v, updated, corrupt: false };
  }
  const ed = new HllEditor(v);
  let updated = 0;
  for (let i = from; i < elements.length; i++) {
    const pl = patLen(elements[i]!);
    const r = ed.raise(pl & (HLL_REGISTERS - 1), pl >>> HLL_P, sparseMaxBytes);
    if (r === CORRUPT) return { value: v, updated: 0, corrupt: true };
    if (r === RAISED) updated++;
  }
  if (updated === 0) return { value: v, updated, corrupt: false };
  const out = ed.value();
  hllInvalidateCache(out);
  return { value: out, updated, corrupt: false };
}

/**
 * hllMerge of Redis: raises max[i] (one byte per register) to the registers
 * of v (a value that passed hllIsValid); false when a sparse v is corrupt.
 */
export function hllMergeRegisters(max: Uint8Array, v: Uint8Array): boolean {
  if (v[4] === HLL_DENSE) {
    for (let r = 0; r < HLL_REGISTERS; r++) {
      const val = denseGet(v, r);
      if (val > max[r]!) max[r] = val;
    }
    return true;
  }
  return walkSparse(v, v.length, (first, run, value) => {
    for (let r = first; r < first + run; r++) if (value > max[r]!) max[r] = value;
  });
}

/** The registers of v as one byte each, or null when a sparse v is corrupt. */
export function hllRegisters(v: Uint8Array): Uint8Array | null {
  const regs = new Uint8Array(HLL_REGISTERS);
  return hllMergeRegisters(regs, v) ? regs : null;
}

/**
 * PFMERGE's write step: raises the registers of `into` (a valid HLL, or null
 * for a new empty one) to regs, register by register in index order, as
 * Redis does; converted to dense first when `dense`. The cache is marked
 * stale. A dense `into` is edited in place. Null if `into` is a corrupt sparse value.
 */
export function hllSetRegisters(into: Buffer | null, regs: Uint8Array, dense: boolean, sparseMaxBytes = HLL_SPARSE_MAX_BYTES_DEFAULT): Buffer | null {
  const ed = new HllEditor(into ?? hllCreate());
  if (dense && !ed.toDense()) return null;
  for (let r = 0; r < HLL_REGISTERS; r++) {
    const val = regs[r]!;
    if (val !== 0) ed.raise(r, val, sparseMaxBytes);
  }
  const out = ed.value();
  hllInvalidateCache(out);
  return out;
}

/**
 * The join of two HLLs for replication: register-wise max, written into a
 * new empty HLL as PFMERGE writes a new key (dense when either input is
 * dense or the sparse form outgrows sparseMaxBytes). The result depends only
 * on the registers and on whether an input was dense, so it is commutative,
 * associative and idempotent byte for byte. Throws on an invalid input
 * (check with hllValidate first).
 */
export function hllMerge(a: Buffer, b: Buffer, sparseMaxBytes = HLL_SPARSE_MAX_BYTES_DEFAULT): Buffer {
  if (!hllValidate(a) || !hllValidate(b)) throw new RangeError('hllMerge: not a valid HyperLogLog value');
  const max = new Uint8Array(HLL_REGISTERS);
  hllMergeRegisters(max, a);
  hllMergeRegisters(max, b);
  return hllSetRegisters(null, max, a[4] === HLL_DENSE || b[4] === HLL_DENSE, sparseMaxBytes)!;
}

/** The dense form of v (v itself if already dense), or null when the sparse body is corrupt. */
export function hllToDense(v: Buffer): Buffer | null {
  if (v[4] === HLL_DENSE) return v;
  return sparseToDense(v, v.length);
}

/**
 * A sparse value holding the same registers as v, when every register fits
 * a VAL opcode (<= 32) and the result fits sparseMaxBytes; otherwise null.
 * Redis itself never converts dense back to sparse; this is for tests and
 * for compacting replicated values.
 */
export function hllToSparse(v: Buffer, sparseMaxBytes = HLL_SPARSE_MAX_BYTES_DEFAULT): Buffer | null {
  const regs = hllRegisters(v);
  if (regs === null) return null;
  const out = hllSetRegisters(null, regs, false, sparseMaxBytes);
  return out !== null && out[4] === HLL_SPARSE ? out : null;
}

// ---- cardinality ----------------------------------------------------------------

/** Ertl's sigma (arXiv:1702.01284), summed until the double stops changing. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let prev: number;
  do {
    x *= x;
    prev = z;
    z += x * y;
    y += y;
  } while (prev !== z);
  return z;
}

/** Ertl's tau (arXiv:1702.01284). */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let prev: number;
  do {
    x = Math.sqrt(x);
    prev = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (prev !== z);
  return z / 3;
}

/**
 * The estimate from a histogram of register values (Redis 7.0's hllCount,
 * Ertl's improved estimator), rounded as llroundl. An estimate that does
 * not fit a signed 64-bit integer (only corrupt dense values reach it)
 * comes out as -2^63, as llroundl's overflow value does on x86-64.
 */
function estimate(hist: Float64Array): number | bigint {
  const m = HLL_REGISTERS;
  let z = m * tau((m - hist[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; j--) {
    z += hist[j]!;
    z *= 0.5;
  }
  z += m * sigma(hist[0]! / m);
  const e = (ALPHA_INF * m * m) / z;
  if (!(e < TWO_63)) return -(2n ** 63n);
  const rounded = Math.round(e);
  return rounded <= Number.MAX_SAFE_INTEGER ? rounded : BigInt(rounded);
}

/**
 * The estimated cardinality of v's registers (the cache is not consulted),
 * or null when a sparse v is corrupt (INVALIDOBJ).
 */
export function hllCount(v: Uint8Array): number | bigint | null {
  const hist = new Float64Array(64);
  if (v[4] === HLL_DENSE) {
    for (let r = 0; r < HLL_REGISTERS; r++) hist[denseGet(v, r)]!++;
  } else if (!sparseHistogram(v, hist)) {
    return null;
  }
  return estimate(hist);
}

/** The estimated cardinality of registers given one byte each (PFCOUNT of several keys). */
export function hllCountRegisters(regs: Uint8Array): number | bigint {
  const hist = new Float64Array(256);
  for (let r = 0; r < HLL_REGISTERS; r++) hist[regs[r]!]!++;
  return estimate(hist);
}

// ---- PFSELFTEST ------------------------------------------------------------------

/**
 * PFSELFTEST: dense register access against a plain array, then 10 million
 * elements added to a dense and a sparse HLL checked at powers of ten (sparse
 * while small, both counts equal, error within 6 standard errors). Returns
 * null on success or the TESTFAILED text.
 */
export function hllSelfTest(randomBytes: (n: number) => Uint8Array, sparseMaxBytes = HLL_SPARSE_MAX_BYTES_DEFAULT): string | null {
  const dense = newBytes(HLL_DENSE_SIZE);
  for (let cycle = 0; cycle < 1000; cycle++) {
    const want = randomBytes(HLL_REGISTERS);
    for (let r = 0; r < HLL_REGISTERS; r++) denseSet(dense, r, want[r]! & HLL_REGISTER_MAX);
    for (let r = 0; r < HLL_REGISTERS; r++) {
      const got = denseGet(dense, r);
      if (got !== (want[r]! & HLL_REGISTER_MAX)) return `TESTFAILED Register ${r} should be ${want[r]! & HLL_REGISTER_MAX} but is ${got}`;
    }
  }

  dense.fill(0, HLL_HDR_SIZE);
  writeHeader(dense, HLL_DENSE);
  const sparse = new HllEditor(hllCreate());
  const relErr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seed = randomBytes(8);
  const seedLo = (seed[0]! | (seed[1]! << 8) | (seed[2]! << 16) | (seed[3]! << 24)) >>> 0;
  const ele = Buffer.alloc(8);
  for (let i = 4; i < 8; i++) ele[i] = seed[i]!;
  let checkpoint = 1;
  for (let j = 1; j <= 10_000_000; j++) {
    ele.writeUInt32LE((j ^ seedLo) >>> 0, 0);
    const pl = patLenBytes(ele, 8);
    const index = pl & (HLL_REGISTERS - 1);
    const count = pl >>> HLL_P;
    denseRaise(dense, index, count);
    sparse.raise(index, count, sparseMaxBytes);
    if (j !== checkpoint) continue;

    if (j < Math.floor(sparseMaxBytes / 2) && sparse.dense) return 'TESTFAILED sparse encoding not used';
    const fromDense = hllCount(dense);
    if (fromDense !== hllCount(sparse.value())) return 'TESTFAILED dense/sparse disagree';
    const absErr = Math.abs(checkpoint - Number(fromDense));
    const maxErr = j === 10 ? 1 : Math.ceil(relErr * 6 * checkpoint);
    if (absErr > maxErr) return `TESTFAILED Too big error. card:${checkpoint} abserr:${absErr}`;
    checkpoint *= 10;
  }
  return null;
}
