/**
 * CRC-64/Jones as Redis computes it (crc64.c): reflected polynomial
 * 0xad93d23594c935a9, initial value 0, no final xor. It checksums DUMP
 * payloads and RDB files. crc64(Buffer.from('123456789')) is
 * 0xe9c6d914c4b8d9ca.
 *
 * Computed on two 32-bit halves with a 256-entry table so that no BigInt
 * arithmetic happens per byte.
 */
const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);

(function buildTable(): void {
  // The polynomial reflected (bit-reversed): 0x95ac9329ac4bc9b5.
  const polyHi = 0x95ac9329;
  const polyLo = 0xac4bc9b5;
  for (let i = 0; i < 256; i++) {
    let hi = 0;
    let lo = i;
    for (let bit = 0; bit < 8; bit++) {
      const lsb = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (lsb) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    TABLE_LO[i] = lo;
    TABLE_HI[i] = hi;
  }
})();

/** Running CRC state: continue a checksum across chunks with crc64Update. */
export interface Crc64State {
  hi: number;
  lo: number;
}

export function crc64Init(): Crc64State {
  return { hi: 0, lo: 0 };
}

/** Feeds bytes [start, end) of data into the checksum state. */
export function crc64Update(state: Crc64State, data: Uint8Array, start = 0, end = data.length): Crc64State {
  let hi = state.hi;
  let lo = state.lo;
  for (let i = start; i < end; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx]!) >>> 0;
    hi = ((hi >>> 8) ^ TABLE_HI[idx]!) >>> 0;
  }
  state.hi = hi;
  state.lo = lo;
  return state;
}

/** The CRC64 of bytes [start, end) as an unsigned 64-bit bigint. */
export function crc64(data: Uint8Array, start = 0, end = data.length): bigint {
  const s = crc64Update(crc64Init(), data, start, end);
  return (BigInt(s.hi) << 32n) | BigInt(s.lo);
}

/** The CRC64 of bytes [start, end) as 8 little-endian bytes (how DUMP and RDB files store it). */
export function crc64Bytes(data: Uint8Array, start = 0, end = data.length): Buffer {
  const s = crc64Update(crc64Init(), data, start, end);
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32LE(s.lo, 0);
  out.writeUInt32LE(s.hi, 4);
  return out;
}
