import { bulkBytes, writeBulkText } from '../protocol/resp-bytes.js';
import { Chunk, CHUNK_BYTES, type Needle } from './list-chunk.js';

/** Smallest buffer a chunk allocates (small lists are the common case). */
const MIN_CAPACITY = 32;
/** Unused room (or an eighth of the size, if more) a chunk keeps once trimmed: no longer at an end of its list, or after removals. */
const TRIM_SLACK_BYTES = 64;
/** Needles up to this length are compared in JavaScript: a native compare costs more. */
const SHORT_COMPARE_BYTES = 32;

/**
 * A chunk packed as Redis packs a quicklist node into a listpack: its
 * elements back to back as RESP bulk strings ($<len>\r\n<bytes>\r\n) in one
 * buffer. A range of elements goes into a reply as one copy, and the chunk
 * is a few objects to the GC instead of one string per element.
 *
 * Free room is kept at both ends of the buffer, so pushes and pops at
 * either end are amortized O(1); a change in the middle moves the bytes
 * after it (bounded by CHUNK_BYTES, as in a listpack).
 */
export class PackedChunk extends Chunk {
  private constructor(
    private buf: Buffer,
    /** Byte offset of each element's entry in buf, in list order. */
    private starts: number[],
    /** Where the last entry ends (the first entry's start when empty). */
    private end: number,
  ) {
    super();
  }

  /** The elements packed (bytes: their bulkBytes() sum, known to the caller). */
  static from(items: readonly string[], bytes: number): PackedChunk {
    const c = new PackedChunk(Buffer.allocUnsafeSlow(bytes), [], 0);
    let p = 0;
    for (const v of items) {
      c.starts.push(p);
      p = writeBulkText(c.buf, p, v);
    }
    c.end = p;
    return c;
  }

  get count(): number {
    return this.starts.length;
  }

  /** Bytes the elements take (without the free room). */
  get bytes(): number {
    return this.end - this.first;
  }

  pushHead(v: string, size: number): void {
    if (this.first < size) this.grow(size, true);
    const at = this.first - size;
    writeBulkText(this.buf, at, v);
    this.starts.unshift(at);
  }

  pushTail(v: string, size: number): void {
    if (this.end + size > this.buf.length) this.grow(size, false);
    this.starts.push(this.end);
    this.end = writeBulkText(this.buf, this.end, v);
  }

  popHead(): string {
    const v = this.get(0);
    this.starts.shift();
    return v;
  }

  popTail(): string {
    const at = this.starts.pop()!;
    const v = this.text(at, this.end);
    this.end = at;
    return v;
  }

  get(i: number): string {
    return this.text(this.starts[i]!, this.entryEnd(i));
  }

  /** The entries of elements i..i+n-1, as RESP bulk strings (a view: copy it before the chunk changes). */
  encoded(i: number, n: number): Buffer {
    return this.buf.subarray(this.starts[i]!, this.entryEnd(i + n - 1));
  }

  splice(i: number, remove: number, values: readonly string[]): void {
    const from = i < this.count ? this.starts[i]! : this.end;
    const to = i + remove < this.count ? this.starts[i + remove]! : this.end;
    let added = 0;
    for (const v of values) added += bulkBytes(v.length);
    const delta = added - (to - from);
    if (this.end + delta > this.buf.length) this.relocate(this.bytes + delta, 0);
    // Offsets from here on are in the (possibly new) buffer; from and to only gave the removed length.
    const at = i < this.count ? this.starts[i]! : this.end;
    const tailFrom = at + (to - from);
    this.buf.copyWithin(at + added, tailFrom, this.end);
    const placed: number[] = [];
    let p = at;
    for (const v of values) {
      placed.push(p);
      p = writeBulkText(this.buf, p, v);
    }
    this.end += delta;
    this.starts.splice(i, remove, ...placed);
    for (let k = i + values.length; k < this.starts.length; k++) this.starts[k]! += delta;
    // What removals freed goes back, as a listpack shrinks (LREM, LTRIM on a long-lived list).
    if (delta < 0) this.trim();
  }

  splitAt(i: number): PackedChunk {
    const from = this.starts[i]!;
    const size = this.end - from;
    const buf = Buffer.allocUnsafeSlow(size);
    this.buf.copy(buf, 0, from, this.end);
    const starts = this.starts.splice(i);
    for (let k = 0; k < starts.length; k++) starts[k]! -= from;
    this.end = from;
    return new PackedChunk(buf, starts, size);
  }

  /** Appends every element of `other` (which the caller then drops). */
  absorb(other: PackedChunk): void {
    const size = other.bytes;
    if (this.end + size > this.buf.length) this.relocate(this.bytes + size, 0);
    const shift = this.end - other.first;
    other.buf.copy(this.buf, this.end, other.first, other.end);
    for (const s of other.starts) this.starts.push(s + shift);
    this.end += size;
  }

  indexOf(needle: Needle): number {
    const bytes = needle.bytes;
    for (let i = 0; i < this.starts.length; i++) if (this.matches(i, bytes)) return i;
    return -1;
  }

  removeMatching(needle: Needle, limit: number, fromTail: boolean): number {
    const bytes = needle.bytes;
    const hits: number[] = [];
    for (let i = 0; i < this.starts.length; i++) if (this.matches(i, bytes)) hits.push(i);
    if (hits.length > limit) {
      if (fromTail) hits.splice(0, hits.length - limit);
      else hits.length = limit;
    }
    if (hits.length > 0) this.compact(hits);
    return hits.length;
  }

  collect(out: string[]): void {
    for (let i = 0; i < this.starts.length; i++) out.push(this.get(i));
  }

  clone(): PackedChunk {
    const size = this.bytes;
    const buf = Buffer.allocUnsafeSlow(size);
    this.buf.copy(buf, 0, this.first, this.end);
    return new PackedChunk(buf, this.starts.map((s) => s - this.first), size);
  }

  trim(): void {
    if (this.buf.length - this.bytes > Math.max(TRIM_SLACK_BYTES, this.bytes >> 3)) this.relocate(this.bytes, 0);
  }

  verify(): void {
    if (this.end > this.buf.length || this.first < 0) throw new Error('list chunk: entries outside the buffer');
    for (let i = 0; i < this.starts.length; i++) {
      const at = this.starts[i]!;
      const end = this.entryEnd(i);
      if (this.buf[at] !== 0x24) throw new Error('list chunk: an entry does not start with $');
      let p = at + 1;
      while (p < end && this.buf[p] !== 13) p++;
      const len = Number(this.buf.latin1Slice(at + 1, p));
      if (String(len) !== this.buf.latin1Slice(at + 1, p) || p + 2 + len + 2 !== end) throw new Error('list chunk: an entry length does not match its bytes');
      if (this.buf[p + 1] !== 10 || this.buf[end - 2] !== 13 || this.buf[end - 1] !== 10) throw new Error('list chunk: an entry is not CRLF-framed');
    }
  }

  private get first(): number {
    return this.starts.length > 0 ? this.starts[0]! : this.end;
  }

  /** Where entry i ends: the next entry's start. */
  private entryEnd(i: number): number {
    return i + 1 < this.starts.length ? this.starts[i + 1]! : this.end;
  }

  /** Where the bytes of the entry starting at `start` begin: after its $<len>\r\n header. */
  private dataAt(start: number): number {
    const buf = this.buf;
    let p = start + 1;
    while (buf[p] !== 13) p++;
    return p + 2;
  }

  /** The text of the entry in [start, end): its bytes between the header and the final CRLF. */
  private text(start: number, end: number): string {
    return this.buf.latin1Slice(this.dataAt(start), end - 2);
  }

  private matches(i: number, needle: Buffer): boolean {
    const buf = this.buf;
    const end = this.entryEnd(i) - 2;
    const p = this.dataAt(this.starts[i]!);
    const len = needle.length;
    if (end - p !== len) return false;
    if (len > SHORT_COMPARE_BYTES) return buf.compare(needle, 0, len, p, end) === 0;
    for (let k = 0; k < len; k++) if (buf[p + k] !== needle[k]) return false;
    return true;
  }

  /** Makes room for `size` more bytes at the head or the tail: a new buffer, the free room split between both ends. */
  private grow(size: number, atHead: boolean): void {
    const need = this.bytes + size;
    const capacity = need >= CHUNK_BYTES ? need : Math.min(CHUNK_BYTES, Math.max(MIN_CAPACITY, 2 * need));
    const free = capacity - need;
    this.relocate(capacity, atHead ? size + (free >> 1) : free >> 1);
  }

  /** Moves the entries into a new buffer of `capacity` bytes, starting at offset `at`. */
  private relocate(capacity: number, at: number): void {
    const buf = Buffer.allocUnsafeSlow(capacity);
    const first = this.first;
    this.buf.copy(buf, at, first, this.end);
    const shift = at - first;
    for (let k = 0; k < this.starts.length; k++) this.starts[k]! += shift;
    this.end += shift;
    this.buf = buf;
  }

  /** Drops the elements at the (ascending) indexes in `drop`, moving the rest down in place. */
  private compact(drop: readonly number[]): void {
    const buf = this.buf;
    const kept: number[] = [];
    let w = this.first;
    let d = 0;
    for (let i = 0; i < this.starts.length; i++) {
      if (d < drop.length && drop[d] === i) {
        d++;
        continue;
      }
      const s = this.starts[i]!;
      const e = this.entryEnd(i);
      if (w !== s) buf.copyWithin(w, s, e);
      kept.push(w);
      w += e - s;
    }
    this.starts = kept;
    this.end = w;
    this.trim();
  }
}
