import type { CounterRow, KeyState } from '../crdt/key-state.js';
import type { KeyStateItem } from './messages.js';
import { MAX_ITEMS, stateShapeError } from './messages.js';

/**
 * Key states as bytes: the form wire.ts sends. `bin` is
 *
 *   uint items' bytes, uint keys' bytes, the items, the keys, the values
 *
 * with every key, then every string value, as UTF-8 in item order (two
 * native calls a message write and read them; one a string was slower than
 * the msgpack slots this replaces). Per item:
 *
 *   uint db, uint key length, f64 ts, uint origin index, uint g, u8 kind, then
 *     dead:               uint d
 *     live:               value, uint x, uint e, uint rows + 1 (0: none), rows
 *   value by kind & VALUE_MASK: uint length of a string value; bytes; or
 *   (collections) u8 type code and the index of the value in `cx`, a list
 *   msgpackr carries as it is.
 *   A counter row: uint origin index, count p, count n, f64 fp, f64 fn;
 *   a count is u8 0 and a uint, or u8 1 and its decimal text (beyond 2^53).
 *
 * uint: little-endian base-128 up to 2^53; bytes and text: uint byte length
 * and the bytes (UTF-8). String lengths count bytes: chars when the
 * message's strings are all ASCII, measured one by one otherwise.
 *
 * Measured on 1000 SET states against the msgpack slots it replaces:
 * decoding (msgpack and states) 400 -> 240 ns a state, encoding about 10%
 * less; a node still reads the slots (wire.ts).
 */

const KIND_DEAD = 0;
const KIND_TEXT = 1;
const KIND_BYTES = 2;
const KIND_COMPLEX = 3;
const VALUE_MASK = 3;
/** A string merged register-wise (a HyperLogLog PFADD/PFMERGE wrote). */
const KIND_HLL = 4;

const LIVE_KINDS = [KIND_TEXT, KIND_BYTES, KIND_COMPLEX, KIND_TEXT | KIND_HLL, KIND_BYTES | KIND_HLL];

/** Collection types by code (KIND_COMPLEX). */
const TYPE_CODES = ['list', 'set', 'zset', 'hash', 'stream'];

export interface BinStates {
  /** Items in bin. */
  n: number;
  bin: Uint8Array;
  /** Collection values, named by index from bin. */
  cx?: unknown[];
}

class ByteWriter {
  private buf: Buffer;
  private view: DataView;
  at = 0;

  constructor(bytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, bytes));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  byte(v: number): void {
    this.ensure(1);
    this.buf[this.at++] = v;
  }

  uint(v: number): void {
    this.ensure(8);
    while (v >= 128) {
      this.buf[this.at++] = (v % 128) + 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.at++] = v;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.at, v, true);
    this.at += 8;
  }

  /** Only a count beyond 2^53 (its decimal text) is written inline: keys and values go to the text region. */
  text(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }

  bytes(b: Uint8Array): void {
    this.uint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** Encodes items; `originIndex` names an origin by its index in the message's origins. */
export function encodeBin(items: readonly KeyStateItem[], originIndex: (origin: string) => number): BinStates {
  const ascii = encodeTexts(items, originIndex, false);
  return ascii ?? encodeTexts(items, originIndex, true)!;
}

/** encodeBin with string lengths in chars (null if that is not their UTF-8 length) or, `measure`, in bytes. */
function encodeTexts(items: readonly KeyStateItem[], originIndex: (origin: string) => number, measure: boolean): BinStates | null {
  const w = new ByteWriter(32 * items.length);
  const keys: string[] = [];
  const values: string[] = [];
  const cx: unknown[] = [];
  for (const [db, key, st] of items) {
    w.uint(db);
    w.uint(measure ? Buffer.byteLength(key, 'utf8') : key.length);
    keys.push(key);
    w.f64(st.ts);
    w.uint(originIndex(st.o));
    w.uint(st.g);
    if ((st.g & 1) === 1) {
      w.byte(KIND_DEAD);
      w.uint(st.d ?? 0);
      continue;
    }
    const v = st.v;
    const hll = st.h === 1 ? KIND_HLL : 0;
    if (typeof v === 'string') (w.byte(KIND_TEXT | hll), w.uint(measure ? Buffer.byteLength(v, 'utf8') : v.length), values.push(v));
    else if (st.t === 'string') (w.byte(KIND_BYTES | hll), w.bytes(v as Uint8Array));
    else (w.byte(KIND_COMPLEX), w.byte(TYPE_CODES.indexOf(st.t!)), w.uint(cx.length), cx.push(v));
    w.uint(st.x ?? 0);
    w.uint(st.e ?? 0);
    writeRows(w, st.c, originIndex);
  }
  // One string, one length and one write for every key and value: a native call per string cost more than the msgpack slots.
  const keyChars = keyCharsOf(keys);
  for (const v of values) keys.push(v);
  const text = keys.join('');
  const textBytes = Buffer.byteLength(text, 'utf8');
  if (!measure && textBytes !== text.length) return null;
  const keyBytes = measure ? Buffer.byteLength(text.substring(0, keyChars), 'utf8') : keyChars;
  const head = new ByteWriter(16);
  head.uint(w.at);
  head.uint(keyBytes);
  const bin = Buffer.allocUnsafe(head.at + w.at + textBytes);
  head.done().copy(bin, 0);
  w.done().copy(bin, head.at);
  bin.utf8Write(text, head.at + w.at);
  const out: BinStates = { n: items.length, bin };
  if (cx.length > 0) out.cx = cx;
  return out;
}

function keyCharsOf(keys: readonly string[]): number {
  let n = 0;
  for (const k of keys) n += k.length;
  return n;
}

function writeRows(w: ByteWriter, rows: CounterRow[] | undefined, originIndex: (origin: string) => number): void {
  if (rows === undefined) return w.uint(0);
  w.uint(rows.length + 1);
  for (const r of rows) {
    w.uint(originIndex(r[0]));
    writeCount(w, r[1]);
    writeCount(w, r[2]);
    w.f64(r[3]);
    w.f64(r[4]);
  }
}

function writeCount(w: ByteWriter, c: number | string): void {
  if (typeof c === 'number') (w.byte(0), w.uint(c));
  else (w.byte(1), w.text(c));
}

/**
 * Reads bin within its bounds: a read past the end, or a number that is
 * not one, breaks the reader for good (what follows cannot be located).
 */
class ByteReader {
  broken = false;

  constructor(
    private readonly buf: Buffer,
    /** buf's bytes as a DataView (one per message, shared by its readers). */
    private readonly view: DataView,
    public at: number,
    private readonly end: number,
  ) {}

  get done(): boolean {
    return this.at >= this.end;
  }

  private take(n: number): number {
    const start = this.at;
    if (this.broken || n < 0 || start + n > this.end) return this.broke();
    this.at += n;
    return start;
  }

  byte(): number {
    const at = this.take(1);
    return at < 0 ? -1 : this.buf[at]!;
  }

  uint(): number {
    // Most are one byte (lengths, indexes, flags).
    const at = this.at;
    if (at < this.end && this.buf[at]! < 128 && !this.broken) {
      this.at = at + 1;
      return this.buf[at]!;
    }
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      if (b < 0) return -1;
      v += (b % 128) * scale;
      if (b < 128) return v <= Number.MAX_SAFE_INTEGER ? v : this.broke();
      scale *= 128;
    }
    return this.broke();
  }

  f64(): number {
    const at = this.take(8);
    return at < 0 ? -1 : this.view.getFloat64(at, true);
  }

  text(): string {
    const at = this.take(this.uint());
    return at < 0 ? '' : this.buf.utf8Slice(at, this.at);
  }

  /** A copy: a value kept in the keyspace must not pin the message it came in. */
  bytes(): Uint8Array {
    const at = this.take(this.uint());
    return at < 0 ? new Uint8Array(0) : Uint8Array.prototype.slice.call(this.buf, at, this.at);
  }

  /** The next `n` bytes' place (-1 past the end: broken). */
  span(n: number): number {
    return this.take(n);
  }

  /** Marks the reader broken; returns -1, what a failed read returns. */
  broke(): number {
    this.broken = true;
    return -1;
  }
}

/** The keys and the string values of a message, read in item order from their regions of bin. */
class TextRegions {
  /** The keys' region decoded at once when it is all ASCII (then char and byte offsets agree). */
  private readonly keyText: string | null;
  readonly keys: ByteReader;
  readonly values: ByteReader;

  constructor(
    private readonly buf: Buffer,
    view: DataView,
    keysAt: number,
    valuesAt: number,
  ) {
    const text = buf.utf8Slice(keysAt, valuesAt);
    this.keyText = text.length === valuesAt - keysAt ? text : null;
    this.keys = new ByteReader(buf, view, keysAt, valuesAt);
    this.values = new ByteReader(buf, view, valuesAt, buf.length);
  }

  key(bytes: number, base: number): string {
    const at = this.keys.span(bytes);
    if (at < 0) return '';
    return this.keyText !== null ? this.keyText.substring(at - base, at - base + bytes) : this.buf.utf8Slice(at, at + bytes);
  }

  value(bytes: number): string {
    const at = this.values.span(bytes);
    return at < 0 ? '' : this.buf.utf8Slice(at, at + bytes);
  }
}

/** The items of a BinStates form (shape checked by the caller: n, bin, cx); see decodeStates. */
export function decodeBin(w: BinStates, origins: readonly string[], dbCount: number, bad: (reason: string) => void, indexes?: number[]): KeyStateItem[] {
  const out: KeyStateItem[] = [];
  const buf = Buffer.from(w.bin.buffer, w.bin.byteOffset, w.bin.byteLength);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const head = new ByteReader(buf, view, 0, buf.length);
  const itemBytes = head.uint();
  const keyBytes = head.uint();
  const itemsAt = head.at;
  if (head.broken || itemsAt + itemBytes + keyBytes > buf.length) {
    bad('bad state bytes');
    return out;
  }
  const r = new ByteReader(buf, view, itemsAt, itemsAt + itemBytes);
  const texts = new TextRegions(buf, view, itemsAt + itemBytes, itemsAt + itemBytes + keyBytes);
  const cx = w.cx ?? [];
  for (let i = 0; i < w.n && i < MAX_ITEMS; i++) {
    const db = r.uint();
    const key = texts.key(r.uint(), itemsAt + itemBytes);
    const state = readState(r, texts, origins, cx);
    if (r.broken || texts.keys.broken || texts.values.broken) {
      bad(`bad state item: the message's bytes end or break at item ${i}`);
      return out;
    }
    if (db >= dbCount || state === null) {
      bad('bad state item');
      continue;
    }
    const err = stateShapeError(state);
    if (err !== null) bad(`state of ${key}: ${err}`);
    else {
      out.push([db, key, state]);
      indexes?.push(i);
    }
  }
  if (!r.done || !texts.keys.done || !texts.values.done) bad('bad state list: bytes after the last item');
  return out;
}

/** One item's state after its key; null when it names what the message does not have (the reader stays in step). */
function readState(r: ByteReader, texts: TextRegions, origins: readonly string[], cx: readonly unknown[]): KeyState | null {
  const ts = r.f64();
  const o = origins[r.uint()];
  const g = r.uint();
  const kind = r.byte();
  if (kind === KIND_DEAD) {
    const d = r.uint();
    return o === undefined ? null : { ts, o, g, d };
  }
  // An unknown kind leaves the rest of the item (and so of the message) unreadable.
  if (!LIVE_KINDS.includes(kind)) {
    r.broke();
    return null;
  }
  let t: string | undefined = 'string';
  let v: unknown;
  switch (kind & VALUE_MASK) {
    case KIND_TEXT:
      v = texts.value(r.uint());
      break;
    case KIND_BYTES:
      v = r.bytes();
      break;
    default:
      t = TYPE_CODES[r.byte()];
      v = cx[r.uint()];
  }
  const x = r.uint();
  const e = r.uint();
  const c = readRows(r, origins);
  if (o === undefined || t === undefined || v === undefined || c === null) return null;
  const state: KeyState = { ts, o, g, t, v: v as string | Uint8Array, x, e };
  if (c !== undefined) state.c = c;
  if ((kind & KIND_HLL) !== 0) state.h = 1;
  return state;
}

/** Counter rows: undefined when the state has none, null when one names an origin the message does not have. */
function readRows(r: ByteReader, origins: readonly string[]): CounterRow[] | undefined | null {
  const n = r.uint() - 1;
  if (n < 0) return undefined;
  let ok = true;
  const rows: CounterRow[] = [];
  for (let i = 0; i < n && !r.broken; i++) {
    const origin = origins[r.uint()];
    const row: CounterRow = [origin ?? '', readCount(r), readCount(r), r.f64(), r.f64()];
    if (origin === undefined) ok = false;
    rows.push(row);
  }
  return ok ? rows : null;
}

function readCount(r: ByteReader): number | string {
  const tag = r.byte();
  return tag === 0 ? r.uint() : tag === 1 ? r.text() : -1;
}
