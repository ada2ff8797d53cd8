/**
 * The list value: a chunked deque (Redis's quicklist without compression).
 *
 * A doubly linked list of chunks of up to CHUNK_MAX elements (and about
 * CHUNK_BYTES). Push and pop at either end are O(1) (amortized over a
 * chunk), an index walk skips whole chunks from the nearer end, and range
 * deletes drop whole chunks at once, so LTRIM/LRANGE/DEL of huge lists never
 * shift millions of elements. A chunk holds strings until a range is read
 * from it, then is packed into one buffer of RESP bulk strings
 * (list-chunk.ts, list-packed.ts) that LRANGE copies into the reply whole.
 *
 * All element storage lives behind these methods; elements come and go as
 * latin1 strings.
 */

import { bulkBytes } from '../protocol/resp-bytes.js';
import { RDB_TYPE, RdbFormatError, readListpack, readZiplist, writeListpack, type RdbReader } from './rdb.js';
import { Chunk, CHUNK_BYTES, CHUNK_MAX, Needle, StringChunk } from './list-chunk.js';
import { PackedChunk } from './list-packed.js';
import type { LoadedValue, RdbLoader, TypeCodec } from './values.js';

export { CHUNK_MAX } from './list-chunk.js';

/** A position: a chunk and an offset inside it. */
interface Position {
  chunk: Chunk;
  offset: number;
}

/** Walks a list one element at a time from a given index, towards the tail or the head. */
export class ListCursor {
  constructor(
    private chunk: Chunk | null,
    private offset: number,
    private readonly reverse: boolean,
  ) {}

  /** The next element, or undefined at the end. */
  next(): string | undefined {
    const chunk = this.chunk;
    if (chunk === null) return undefined;
    const v = chunk.get(this.offset);
    if (this.reverse) {
      if (--this.offset < 0) {
        this.chunk = chunk.prev;
        this.offset = this.chunk === null ? 0 : this.chunk.count - 1;
      }
    } else if (++this.offset >= chunk.count) {
      this.chunk = chunk.next;
      this.offset = 0;
    }
    return v;
  }
}

export class QuickList {
  private head: Chunk | null = null;
  private tail: Chunk | null = null;
  length = 0;

  static from(values: Iterable<string>): QuickList {
    const l = new QuickList();
    for (const v of values) l.pushTail(v);
    return l;
  }

  pushHead(v: string): void {
    const h = this.head;
    const size = bulkBytes(v.length);
    if (h !== null && h.fits(size)) h.pushHead(v, size);
    else {
      this.linkBefore(h, new StringChunk([v]));
      if (h !== null && h !== this.tail) h.trim();
    }
    this.length++;
  }

  pushTail(v: string): void {
    const t = this.tail;
    const size = bulkBytes(v.length);
    if (t !== null && t.fits(size)) t.pushTail(v, size);
    else {
      this.linkAfter(t, new StringChunk([v]));
      if (t !== null && t !== this.head) t.trim();
    }
    this.length++;
  }

  popHead(): string | undefined {
    const h = this.head;
    if (h === null) return undefined;
    const v = h.popHead();
    this.length--;
    if (h.count === 0) this.unlink(h);
    return v;
  }

  popTail(): string | undefined {
    const t = this.tail;
    if (t === null) return undefined;
    const v = t.popTail();
    this.length--;
    if (t.count === 0) this.unlink(t);
    return v;
  }

  /** Element at a 0-based index (no negative indexes here), or undefined when out of range. */
  get(index: number): string | undefined {
    const p = this.locate(index);
    return p === null ? undefined : p.chunk.get(p.offset);
  }

  /** Replaces the element at index; false when out of range. */
  set(index: number, v: string): boolean {
    const p = this.locate(index);
    if (p === null) return false;
    p.chunk.splice(p.offset, 1, [v]);
    return true;
  }

  /** Inserts v so that it ends up at `index` (0..length). */
  insertAt(index: number, v: string): void {
    if (index <= 0) return this.pushHead(v);
    if (index >= this.length) return this.pushTail(v);
    const p = this.locate(index)!;
    let { chunk, offset } = p;
    if (!chunk.fits(bulkBytes(v.length)) && chunk.count > 1) {
      const half = chunk.count >> 1;
      this.linkAfter(chunk, chunk.splitAt(half));
      if (offset > half) {
        offset -= half;
        chunk = chunk.next!;
      }
    }
    chunk.splice(offset, 0, [v]);
    this.length++;
  }

  /** The elements from head to tail. */
  *[Symbol.iterator](): IterableIterator<string> {
    for (let c = this.head; c !== null; c = c.next) for (let i = 0; i < c.count; i++) yield c.get(i);
  }

  /** A cursor starting at index (0..length-1), walking towards the tail or (reverse) the head. */
  cursor(index: number, reverse = false): ListCursor {
    const p = this.locate(index);
    return p === null ? new ListCursor(null, 0, reverse) : new ListCursor(p.chunk, p.offset, reverse);
  }

  /**
   * Elements start..start+count-1 (within range) as RESP bulk strings, one
   * view per chunk they span, in order (LRANGE copies them into the reply).
   */
  encodedRange(start: number, count: number, visit: (bulks: Buffer) => void): void {
    const p = this.locate(start);
    if (p === null) return;
    let chunk: Chunk | null = p.chunk;
    let offset = p.offset;
    while (count > 0 && chunk !== null) {
      const packed = this.packed(chunk);
      const take = Math.min(count, packed.count - offset);
      visit(packed.encoded(offset, take));
      count -= take;
      chunk = packed.next;
      offset = 0;
    }
  }

  /** Index of the first element equal to v, scanning from the head; -1 if none. */
  indexOf(v: string): number {
    const needle = new Needle(v);
    let base = 0;
    for (let c = this.head; c !== null; c = c.next) {
      const i = c.indexOf(needle);
      if (i >= 0) return base + i;
      base += c.count;
    }
    return -1;
  }

  /** Removes `count` elements starting at index `start` (both already within range). */
  removeRange(start: number, count: number): void {
    if (count <= 0) return;
    if (start === 0 && count >= this.length) return this.clear();
    const p = this.locate(start);
    if (p === null) return;
    let chunk: Chunk | null = p.chunk;
    let offset = p.offset;
    let last: Chunk | null = chunk.prev;
    while (count > 0 && chunk !== null) {
      const next: Chunk | null = chunk.next;
      const take = Math.min(count, chunk.count - offset);
      this.length -= take;
      count -= take;
      if (take === chunk.count) this.unlink(chunk);
      else {
        chunk.splice(offset, take, NO_VALUES);
        last = chunk;
      }
      chunk = next;
      offset = 0;
    }
    if (last !== null && last.count < CHUNK_MAX / 4) this.mergeWithNext(last);
  }

  /**
   * Removes up to `limit` elements equal to v (0 = all), scanning from the
   * head or (fromTail) the tail. Returns how many were removed.
   */
  removeMatching(v: string, limit: number, fromTail: boolean): number {
    const needle = new Needle(v);
    let removed = 0;
    let c = fromTail ? this.tail : this.head;
    while (c !== null && (limit === 0 || removed < limit)) {
      const following = fromTail ? c.prev : c.next;
      removed += c.removeMatching(needle, limit === 0 ? Infinity : limit - removed, fromTail);
      if (c.count === 0) this.unlink(c);
      c = following;
    }
    this.length -= removed;
    return removed;
  }

  clear(): void {
    this.head = this.tail = null;
    this.length = 0;
  }

  toArray(): string[] {
    const out: string[] = [];
    for (let c = this.head; c !== null; c = c.next) c.collect(out);
    return out;
  }

  /** An independent copy (COPY, DEBUG). */
  clone(): QuickList {
    const l = new QuickList();
    for (let c = this.head; c !== null; c = c.next) l.linkAfter(l.tail, c.clone());
    l.length = this.length;
    return l;
  }

  /**
   * Checks the structure (for tests; O(n)): links both ways, head and tail,
   * no empty chunk, at most CHUNK_MAX elements a chunk, each chunk's own
   * bookkeeping, and the length. Throws on the first violation.
   */
  verify(): void {
    let n = 0;
    let prev: Chunk | null = null;
    for (let c = this.head; c !== null; prev = c, c = c.next) {
      if (c.prev !== prev) throw new Error('list: broken prev link');
      if (c.count === 0 || c.count > CHUNK_MAX) throw new Error(`list: a chunk of ${c.count} elements`);
      c.verify();
      n += c.count;
    }
    if (this.tail !== prev) throw new Error('list: tail is not the last chunk');
    if (n !== this.length) throw new Error('list: length differs from the elements');
  }

  /** Number of chunks (tests and MEMORY/DEBUG introspection). */
  get chunkCount(): number {
    let n = 0;
    for (let c = this.head; c !== null; c = c.next) n++;
    return n;
  }

  /** Finds index (0..length-1), walking whole chunks from the nearer end. */
  private locate(index: number): Position | null {
    if (index < 0 || index >= this.length) return null;
    if (index < this.length >> 1) {
      let c = this.head!;
      while (index >= c.count) {
        index -= c.count;
        c = c.next!;
      }
      return { chunk: c, offset: index };
    }
    let back = this.length - 1 - index;
    let c = this.tail!;
    while (back >= c.count) {
      back -= c.count;
      c = c.prev!;
    }
    return { chunk: c, offset: c.count - 1 - back };
  }

  private mergeWithNext(c: Chunk): void {
    const n = c.next;
    if (n === null || c.count + n.count > CHUNK_MAX || c.bytes + n.bytes > CHUNK_BYTES) return;
    if (c instanceof StringChunk && n instanceof StringChunk) {
      c.absorb(n);
      this.unlink(n);
      return;
    }
    const into = this.packed(c);
    const from = this.packed(n);
    into.absorb(from);
    this.unlink(from);
  }

  /** The chunk in packed form: a string chunk is packed and takes its place in the list. */
  private packed(c: Chunk): PackedChunk {
    if (c instanceof PackedChunk) return c;
    const p = PackedChunk.from((c as StringChunk).items, c.bytes);
    this.linkAfter(c, p);
    this.unlink(c);
    return p;
  }

  private linkBefore(at: Chunk | null, c: Chunk): void {
    if (at === null) {
      this.head = this.tail = c;
      return;
    }
    c.next = at;
    c.prev = at.prev;
    if (at.prev !== null) at.prev.next = c;
    else this.head = c;
    at.prev = c;
  }

  private linkAfter(at: Chunk | null, c: Chunk): void {
    if (at === null) {
      this.linkBefore(this.head, c);
      return;
    }
    c.prev = at;
    c.next = at.next;
    if (at.next !== null) at.next.prev = c;
    else this.tail = c;
    at.next = c;
  }

  private unlink(c: Chunk): void {
    if (c.prev !== null) c.prev.next = c.next;
    else this.head = c.next;
    if (c.next !== null) c.next.prev = c.prev;
    else this.tail = c.prev;
    c.prev = c.next = null;
  }
}

const NO_VALUES: readonly string[] = [];

/**
 * OBJECT ENCODING of a list. Redis 7.0 stores every list as a quicklist
 * (of listpack nodes) and reports "quicklist" whatever its size; the small
 * "listpack" encoding arrived in 7.2.
 */
export function listEncoding(_list: QuickList): 'quicklist' {
  return 'quicklist';
}

/** Redis's LIST_HEAD / LIST_TAIL. */
export const enum End {
  Head,
  Tail,
}

export function push(l: QuickList, v: string, end: End): void {
  if (end === End.Head) l.pushHead(v);
  else l.pushTail(v);
}

export function pop(l: QuickList, end: End): string | undefined {
  return end === End.Head ? l.popHead() : l.popTail();
}

// ---- COPY, DUMP/RESTORE and RDB (see values.ts) ----------------------------

/** quicklist node containers (QUICKLIST_NODE_CONTAINER_PLAIN / _PACKED). */
const CONTAINER_PLAIN = 1;
const CONTAINER_PACKED = 2;

/** What COPY, OBJECT and DUMP need of lists: saved as Redis 7.0 does, a quicklist of listpack nodes. */
export const listCodec: TypeCodec = {
  encoding: (value) => listEncoding(value as QuickList),
  refcount: () => 1,
  dup: (value) => (value as QuickList).clone(),
  save(w, value, compress) {
    const items = (value as QuickList).toArray();
    const nodes = Math.ceil(items.length / CHUNK_MAX);
    w.byte(RDB_TYPE.LIST_QUICKLIST_2);
    w.length(nodes);
    for (let i = 0; i < items.length; i += CHUNK_MAX) {
      w.length(CONTAINER_PACKED);
      w.string(writeListpack(items.slice(i, i + CHUNK_MAX)), compress);
    }
  },
};

/** A list loaded from RDB elements; Redis refuses to load an empty list. */
function loadedList(elements: Iterable<string>): LoadedValue {
  const l = new QuickList();
  for (const e of elements) l.pushTail(e);
  if (l.length === 0) throw new RdbFormatError('empty list');
  return { type: 'list', value: l };
}

function* quicklistElements(r: RdbReader, nodeReader: (blob: Buffer) => string[], plainAllowed: boolean): Generator<string> {
  const nodes = r.length();
  for (let i = 0; i < nodes; i++) {
    const container = plainAllowed ? r.length() : CONTAINER_PACKED;
    if (container !== CONTAINER_PACKED && container !== CONTAINER_PLAIN) throw new RdbFormatError('bad quicklist container');
    const blob = r.string();
    if (container === CONTAINER_PLAIN) yield blob.latin1Slice(0, blob.length);
    else yield* nodeReader(blob);
  }
}

/** RDB loaders of every list encoding Redis has written (plain, ziplist, quicklist of ziplists, quicklist 2). */
export const listLoaders: Record<number, RdbLoader> = {
  [RDB_TYPE.LIST]: (r) => {
    const len = r.length();
    const out: string[] = [];
    for (let i = 0; i < len; i++) out.push(r.text());
    return loadedList(out);
  },
  [RDB_TYPE.LIST_ZIPLIST]: (r) => loadedList(readZiplist(r.string())),
  [RDB_TYPE.LIST_QUICKLIST]: (r) => loadedList(quicklistElements(r, readZiplist, false)),
  [RDB_TYPE.LIST_QUICKLIST_2]: (r) => loadedList(quicklistElements(r, readListpack, true)),
};
