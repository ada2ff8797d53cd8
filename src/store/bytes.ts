import type { Bytes } from './entry.js';

/**
 * Byte helpers for string values. A value is latin1 text (immutable, the
 * common case) or a Buffer once a command mutates it in place (SETRANGE,
 * SETBIT, BITFIELD, APPEND on a mutable value). Buffers created here have
 * spare capacity behind their end, like an sds string: the backing
 * ArrayBuffer is ours alone and every byte past the value's end is zero, so
 * growing is a new view over the same memory, not a copy.
 */

/** Backing stores allocated here with spare, zeroed capacity. */
const growable = new WeakSet<ArrayBufferLike>();

/** Growth policy of sdsMakeRoomFor: double below 1MB, then +1MB. */
const MAX_PREALLOC = 1024 * 1024;

/** A zeroed, growable buffer of `len` bytes with room for `capacity`. */
export function newBytes(len: number, capacity = len): Buffer {
  const cap = Math.max(len, capacity, 1);
  const whole = Buffer.alloc(cap);
  growable.add(whole.buffer);
  return len === cap ? whole : whole.subarray(0, len);
}

/** True when `b` is a growable buffer from newBytes (and starts its backing store). */
function ownsBacking(b: Buffer): boolean {
  return b.byteOffset === 0 && growable.has(b.buffer);
}

/**
 * A mutable Buffer with the contents of `v` (or nothing), at least `minLen`
 * bytes long, zero-padded. Reuses `v` itself when it is ours and has room;
 * otherwise copies into a new growable buffer.
 */
export function writableBytes(v: Bytes | undefined, minLen: number): Buffer {
  const oldLen = v === undefined ? 0 : v.length;
  const len = Math.max(oldLen, minLen);
  if (v !== undefined && typeof v !== 'string' && ownsBacking(v)) {
    if (len === oldLen) return v;
    if (len <= v.buffer.byteLength) return Buffer.from(v.buffer as ArrayBuffer, 0, len);
  }
  const grow = len > oldLen && oldLen > 0;
  const out = newBytes(len, grow ? (len < MAX_PREALLOC ? len * 2 : len + MAX_PREALLOC) : len);
  if (typeof v === 'string') out.latin1Write(v, 0);
  else if (v !== undefined) v.copy(out, 0);
  return out;
}

/** Up to this length appended text stays text; beyond, it becomes growable bytes. */
const APPEND_TEXT_LIMIT = 1024 * 1024;

/**
 * APPEND: `v` followed by `tail`. Short text stays text (V8 concatenates
 * lazily); longer values grow in place like an sds string.
 */
export function appendBytes(v: Bytes, tail: string): Bytes {
  const oldLen = v.length;
  if (typeof v === 'string' && oldLen + tail.length <= APPEND_TEXT_LIMIT) return v + tail;
  const out = writableBytes(v, oldLen + tail.length);
  out.latin1Write(tail, oldLen);
  return out;
}

/** Bytes [start, end) of `v` as a Uint8Array view (text is copied, a Buffer is not). */
export function byteView(v: Bytes, start = 0, end = v.length): Buffer {
  if (typeof v !== 'string') return v.subarray(start, end);
  return Buffer.from(start === 0 && end === v.length ? v : v.slice(start, end), 'latin1');
}

/** Byte i of `v` (0 past the end). */
export function byteAt(v: Bytes, i: number): number {
  if (i >= v.length) return 0;
  return typeof v === 'string' ? v.charCodeAt(i) : v[i]!;
}

/** Latin1 text of `v` (what integer and float parsing read). */
export function bytesText(v: Bytes): string {
  return typeof v === 'string' ? v : v.latin1Slice(0, v.length);
}

/** An independent copy (COPY, and any value stored under a second key). */
export function cloneBytes(v: Bytes): Bytes {
  if (typeof v === 'string') return v;
  const out = newBytes(v.length);
  v.copy(out, 0);
  return out;
}
