import type { Client } from '../server/client.js';
import { byteAt, byteView, writableBytes } from '../store/bytes.js';
import type { Bytes } from '../store/entry.js';
import { storeString } from './strings-common.js';
import { ERR, isArg, parseInteger, writeOfType } from './util.js';

/**
 * Bit helpers shared by SETBIT, GETBIT, BITCOUNT, BITPOS and BITFIELD
 * (bitops.c). Bit 0 is the most significant bit of byte 0.
 */

/**
 * getBitOffsetFromArgument: a bit offset below proto-max-bulk-len bytes, or
 * -1 after replying. With hashBits > 0 (BITFIELD), "#N" means N * hashBits.
 */
export function bitOffsetArg(c: Client, arg: string, hashBits = 0): number {
  const hash = hashBits > 0 && arg.charCodeAt(0) === 35;
  const n = parseInteger(hash ? arg.slice(1) : arg);
  const offset = n === null ? -1 : hash ? n * hashBits : n;
  if (offset < 0 || Math.floor(offset / 8) >= c.server.config.int('proto-max-bulk-len')) {
    c.error(ERR.bitOffset);
    return -1;
  }
  return offset;
}

/** A string value opened for bit writes. */
export interface BitTarget {
  buf: Buffer;
  /** The key was created or lengthened (a write even if no bit changes). */
  grown: boolean;
}

/**
 * lookupStringForBitCommand: the key's value as a mutable buffer long enough
 * to address `maxBit`, created or zero-padded as needed; null after WRONGTYPE.
 */
export function bitsForWrite(c: Client, key: string, maxBit: number): BitTarget | null {
  const e = writeOfType(c, key, 'string');
  if (e === null) return null;
  const old = e === undefined ? undefined : (e.value as Bytes);
  const buf = writableBytes(old, Math.floor(maxBit / 8) + 1);
  if (buf !== old) storeString(c, key, e, buf);
  return { buf, grown: old === undefined || old.length !== buf.length };
}

/** The bit at `offset` (0 past the end). */
export function getBit(v: Bytes, offset: number): number {
  return (byteAt(v, Math.floor(offset / 8)) >> (7 - (offset & 7))) & 1;
}

/** Number of set bits in each byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** Set bits in the bit range [fromBit, toBit] (within the value). */
export function countBits(v: Bytes, fromBit: number, toBit: number): number {
  const first = Math.floor(fromBit / 8);
  const view = byteView(v, first, Math.floor(toBit / 8) + 1);
  let n = 0;
  for (let i = 0; i < view.length; i++) n += POPCOUNT[view[i]!]!;
  n -= POPCOUNT[view[0]! & ((0xff << (8 - (fromBit & 7))) & 0xff)]!;
  n -= POPCOUNT[view[view.length - 1]! & ((1 << (7 - (toBit & 7))) - 1)]!;
  return n;
}

/** Position of the first bit equal to `bit` in [fromBit, toBit], or -1. */
export function findBit(v: Bytes, fromBit: number, toBit: number, bit: number): number {
  const skip = bit === 1 ? 0 : 0xff;
  const last = Math.floor(toBit / 8);
  for (let i = Math.floor(fromBit / 8); i <= last; i++) {
    const b = byteAt(v, i);
    if (b === skip) continue;
    const hi = Math.min(toBit, i * 8 + 7);
    for (let p = Math.max(fromBit, i * 8); p <= hi; p++) {
      if (((b >> (7 - (p & 7))) & 1) === bit) return p;
    }
  }
  return -1;
}

/**
 * BITCOUNT/BITPOS start and end (byte indexes, or bit indexes with isBit;
 * negative from the end) as an absolute bit range [from, to], or null if empty.
 */
export function bitRange(start: number, end: number, byteLen: number, isBit: boolean): [number, number] | null {
  const total = isBit ? byteLen * 8 : byteLen;
  if (start < 0) start = Math.max(0, total + start);
  if (end < 0) end = Math.max(0, total + end);
  if (end >= total) end = total - 1;
  if (start > end) return null;
  return isBit ? [start, end] : [start * 8, end * 8 + 7];
}

/** BIT | BYTE unit argument: true for BIT, false for BYTE, null after a syntax error. */
export function bitUnitArg(c: Client, arg: string): boolean | null {
  if (isArg(arg, 'BIT')) return true;
  if (isArg(arg, 'BYTE')) return false;
  c.error(ERR.syntax);
  return null;
}

/** First and last byte of a bitfield and the shift of its lowest bit within the last byte. */
function fieldWindow(offset: number, bits: number): [number, number, bigint] {
  const lastBit = offset + bits - 1;
  return [Math.floor(offset / 8), Math.floor(lastBit / 8), BigInt(7 - (lastBit & 7))];
}

/** The `bits`-wide integer at bit `offset` (bytes past the end read as 0). */
export function readField(v: Bytes, offset: number, bits: number, signed: boolean): bigint {
  const [first, last, shift] = fieldWindow(offset, bits);
  let acc = 0n;
  for (let i = first; i <= last; i++) acc = (acc << 8n) | BigInt(byteAt(v, i));
  const u = BigInt.asUintN(bits, acc >> shift);
  return signed ? BigInt.asIntN(bits, u) : u;
}

/** Stores the low `bits` bits of `value` at bit `offset` (the buffer is long enough). */
export function writeField(buf: Buffer, offset: number, bits: number, value: bigint): void {
  const [first, last, shift] = fieldWindow(offset, bits);
  let acc = 0n;
  for (let i = first; i <= last; i++) acc = (acc << 8n) | BigInt(buf[i]!);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  acc = (acc & ~mask) | (BigInt.asUintN(bits, value) << shift);
  for (let i = last; i >= first; i--) {
    buf[i] = Number(acc & 0xffn);
    acc >>= 8n;
  }
}
