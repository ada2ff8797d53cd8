/**
 * Stream IDs (t_stream.c's streamID): two unsigned 64-bit halves, ms and
 * seq, held as one 128-bit bigint `ms << 64 | seq` so that ordering is a
 * plain comparison.
 */

export type StreamId = bigint;

export const U64_MAX = (1n << 64n) - 1n;
export const ID_ZERO: StreamId = 0n;
export const ID_MAX: StreamId = (1n << 128n) - 1n;

export function makeId(ms: bigint, seq: bigint): StreamId {
  return (ms << 64n) | seq;
}

export function idMs(id: StreamId): bigint {
  return id >> 64n;
}

export function idSeq(id: StreamId): bigint {
  return id & U64_MAX;
}

/** "ms-seq", as every reply shows an ID. */
export function formatId(id: StreamId): string {
  return `${id >> 64n}-${id & U64_MAX}`;
}

/** The 16-byte big-endian form (streamEncodeID): rax keys, RDB node keys and PEL entries. */
export function encodeId(id: StreamId): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(id >> 64n, 0);
  b.writeBigUInt64BE(id & U64_MAX, 8);
  return b;
}

export function decodeId(b: Buffer, offset = 0): StreamId {
  return makeId(b.readBigUInt64BE(offset), b.readBigUInt64BE(offset + 8));
}

/** string2ull: decimal digits only, within uint64. */
function parseU64(s: string): bigint | null {
  if (s.length === 0 || s.length > 20 || !/^[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  return v > U64_MAX ? null : v;
}

/** A parsed ID argument: the ID and whether its sequence was given ("ms-*" and "ms" leave it open). */
export interface ParsedId {
  id: StreamId;
  seqGiven: boolean;
}

/**
 * streamGenericParseIDOrReply without the reply: "-" and "+" (unless
 * strict), "ms" (seq = missingSeq), "ms-seq", and with `allowSeqStar`
 * "ms-*" (XADD). Null when invalid.
 */
export function parseStreamId(s: string, missingSeq: bigint, strict: boolean, allowSeqStar = false): ParsedId | null {
  if (s.length > 127) return null;
  if (s === '-' || s === '+') {
    if (strict) return null;
    return { id: s === '-' ? ID_ZERO : ID_MAX, seqGiven: true };
  }
  const dash = s.indexOf('-');
  const ms = parseU64(dash < 0 ? s : s.slice(0, dash));
  if (ms === null) return null;
  if (dash < 0) return { id: makeId(ms, missingSeq), seqGiven: true };
  const rest = s.slice(dash + 1);
  if (allowSeqStar && rest === '*') return { id: makeId(ms, 0n), seqGiven: false };
  const seq = parseU64(rest);
  return seq === null ? null : { id: makeId(ms, seq), seqGiven: true };
}
