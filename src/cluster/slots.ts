/** Redis Cluster key space: 16384 hash slots, CRC16-XMODEM of the key (or of its {hash tag}). */

export const SLOT_COUNT = 16384;

/** CRC16-XMODEM (poly 0x1021, init 0), the variant Redis Cluster uses, by table. */
const CRC16_TABLE = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
}

/** CRC16 of the latin1 bytes of s[from, to). */
export function crc16(s: string, from = 0, to = s.length): number {
  let crc = 0;
  for (let i = from; i < to; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff]!;
  return crc;
}

/**
 * The slot of a key (keys are latin1 strings: one char per byte). When the
 * key holds a non-empty {...} section, only its content is hashed, so that
 * related keys can be forced into one slot (Redis's keyHashSlot).
 */
export function keyHashSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(key, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(key) & (SLOT_COUNT - 1);
}

/** Parses a slot argument; null unless an integer in [0, 16383]. */
export function parseSlot(text: string): number | null {
  if (!/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return n >= 0 && n < SLOT_COUNT ? n : null;
}

/** A slot set as a bitmap (Redis's 2048-byte slots field): what gossip carries. */
export class SlotBitmap {
  readonly bits: Uint8Array;
  count = 0;

  constructor(bits?: Uint8Array) {
    this.bits = new Uint8Array(SLOT_COUNT / 8);
    if (bits !== undefined) {
      this.bits.set(bits.subarray(0, SLOT_COUNT / 8));
      for (let s = 0; s < SLOT_COUNT; s++) if (this.has(s)) this.count++;
    }
  }

  has(slot: number): boolean {
    return (this.bits[slot >> 3]! & (1 << (slot & 7))) !== 0;
  }

  add(slot: number): boolean {
    if (this.has(slot)) return false;
    this.bits[slot >> 3]! |= 1 << (slot & 7);
    this.count++;
    return true;
  }

  delete(slot: number): boolean {
    if (!this.has(slot)) return false;
    this.bits[slot >> 3]! &= ~(1 << (slot & 7));
    this.count--;
    return true;
  }

  clear(): void {
    this.bits.fill(0);
    this.count = 0;
  }

  /** The set as [start, end] ranges in slot order. */
  ranges(): [number, number][] {
    const out: [number, number][] = [];
    let start = -1;
    for (let s = 0; s <= SLOT_COUNT; s++) {
      const inSet = s < SLOT_COUNT && this.has(s);
      if (inSet && start === -1) start = s;
      else if (!inSet && start !== -1) {
        out.push([start, s - 1]);
        start = -1;
      }
    }
    return out;
  }
}
