import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_MAX, QuickList } from '../../src/store/list.js';

/** One operation on both the deque and a plain array model. */
type Op =
  | { t: 'pushHead' | 'pushTail'; v: string }
  | { t: 'popHead' | 'popTail' }
  | { t: 'set' | 'insert'; i: number; v: string }
  | { t: 'removeRange'; i: number; n: number }
  | { t: 'removeMatching'; v: string; limit: number; fromTail: boolean }
  | { t: 'bulk'; n: number }
  | { t: 'range'; i: number; n: number };

// Lengths at each digit-count boundary of the bulk header; long values reach
// the chunk byte limit (a lone element larger than it gets a chunk of its own).
const value = fc.constantFrom(
  'a', 'b', 'c', '', 'x'.repeat(20), '\xff\x00', '\r\n$3\r\n', 'y'.repeat(300), 'z'.repeat(9000),
  'q'.repeat(9), 'w'.repeat(10), 'e'.repeat(99), 'r'.repeat(100), 't'.repeat(9999), '\r'.repeat(10000), '\xff'.repeat(20000),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constantFrom('pushHead' as const, 'pushTail' as const), v: value }),
  fc.record({ t: fc.constantFrom('popHead' as const, 'popTail' as const) }),
  fc.record({ t: fc.constantFrom('set' as const, 'insert' as const), i: fc.nat(600), v: value }),
  fc.record({ t: fc.constant('removeRange' as const), i: fc.nat(600), n: fc.nat(300) }),
  fc.record({ t: fc.constant('removeMatching' as const), v: value, limit: fc.nat(5), fromTail: fc.boolean() }),
  fc.record({ t: fc.constant('bulk' as const), n: fc.nat(400) }),
  // Reading a range packs the chunks it covers: later operations then run on packed chunks.
  fc.record({ t: fc.constant('range' as const), i: fc.nat(600), n: fc.nat(300) }),
);

/** Applies op to both; returns what each answered (must be equal). */
function apply(l: QuickList, m: string[], o: Op): [unknown, unknown] {
  switch (o.t) {
    case 'pushHead':
      l.pushHead(o.v);
      return [l.length, m.unshift(o.v)];
    case 'pushTail':
      l.pushTail(o.v);
      return [l.length, m.push(o.v)];
    case 'popHead':
      return [l.popHead(), m.shift()];
    case 'popTail':
      return [l.popTail(), m.pop()];
    case 'set': {
      const ok = o.i < m.length;
      if (ok) m[o.i] = o.v;
      return [l.set(o.i, o.v), ok];
    }
    case 'insert': {
      const i = Math.min(o.i, m.length);
      l.insertAt(i, o.v);
      m.splice(i, 0, o.v);
      return [l.length, m.length];
    }
    case 'removeRange': {
      if (o.i >= m.length) return [0, 0];
      const n = Math.min(o.n, m.length - o.i);
      l.removeRange(o.i, n);
      m.splice(o.i, n);
      return [l.length, m.length];
    }
    case 'removeMatching':
      return [l.removeMatching(o.v, o.limit, o.fromTail), removeModel(m, o.v, o.limit, o.fromTail)];
    case 'range': {
      if (o.i >= m.length || o.n === 0) return [0, 0];
      const n = Math.min(o.n, m.length - o.i);
      return [encodedRange(l, o.i, n), bulks(m, o.i, n)];
    }
    case 'bulk':
      for (let k = 0; k < o.n; k++) {
        l.pushTail(String(k % 7));
        m.push(String(k % 7));
      }
      return [l.length, m.length];
  }
}

function removeModel(m: string[], v: string, limit: number, fromTail: boolean): number {
  let removed = 0;
  if (fromTail) {
    for (let i = m.length - 1; i >= 0 && (limit === 0 || removed < limit); i--) {
      if (m[i] === v) {
        m.splice(i, 1);
        removed++;
      }
    }
  } else {
    for (let i = 0; i < m.length && (limit === 0 || removed < limit); ) {
      if (m[i] === v) {
        m.splice(i, 1);
        removed++;
      } else i++;
    }
  }
  return removed;
}

/** What encodedRange gives for m's elements start..start+count-1: RESP bulk strings. */
function bulks(m: string[], start: number, count: number): string {
  return m
    .slice(start, start + count)
    .map((v) => `$${v.length}\r\n${v}\r\n`)
    .join('');
}

function encodedRange(l: QuickList, start: number, count: number): string {
  const parts: Buffer[] = [];
  l.encodedRange(start, count, (b) => parts.push(Buffer.from(b)));
  return Buffer.concat(parts).toString('latin1');
}

/** Ranges as LRANGE reads them (packing every chunk they cover). */
function checkEncoded(l: QuickList, m: string[]): void {
  expect(encodedRange(l, 0, m.length)).toBe(bulks(m, 0, m.length));
  if (m.length > 2) expect(encodedRange(l, 1, m.length - 2)).toBe(bulks(m, 1, m.length - 2));
}

function checkSame(l: QuickList, m: string[]): void {
  expect(l.length).toBe(m.length);
  expect(l.toArray()).toEqual(m);
  for (let i = 0; i < m.length; i += Math.max(1, m.length >> 4)) expect(l.get(i)).toBe(m[i]);
  expect(l.get(m.length)).toBeUndefined();
  if (m.length > 0) {
    const back = l.cursor(m.length - 1, true);
    const rev: string[] = [];
    for (let v = back.next(); v !== undefined; v = back.next()) rev.push(v);
    expect(rev).toEqual([...m].reverse());
  }
}

describe('QuickList (chunked deque) against an array model', () => {
  it('agrees with a JS array on every operation sequence', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
        const l = new QuickList();
        const m: string[] = [];
        for (const o of ops) {
          const [got, want] = apply(l, m, o);
          expect(got).toEqual(want);
          l.verify();
        }
        // Read as it is (chunks left as the operations made them), then once every chunk is packed.
        for (let round = 0; round < 2; round++) {
          checkSame(l, m);
          const copy = l.clone();
          copy.verify();
          checkSame(copy, m);
          expect(l.indexOf('a')).toBe(m.indexOf('a'));
          expect(l.indexOf('y'.repeat(300))).toBe(m.indexOf('y'.repeat(300)));
          checkEncoded(l, m);
          l.verify();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with the model when ranges are read between all operations (so most of them change packed chunks)', () => {
    // Pops move a packed chunk's first entry off offset 0; sets and inserts then grow it in the middle.
    const packedOp: fc.Arbitrary<Op> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ t: fc.constantFrom('pushHead' as const, 'pushTail' as const), v: value }) },
      { weight: 3, arbitrary: fc.record({ t: fc.constantFrom('popHead' as const, 'popTail' as const) }) },
      { weight: 4, arbitrary: fc.record({ t: fc.constantFrom('set' as const, 'insert' as const), i: fc.nat(200), v: value }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('removeRange' as const), i: fc.nat(300), n: fc.nat(100) }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('removeMatching' as const), v: value, limit: fc.nat(5), fromTail: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ t: fc.constant('bulk' as const), n: fc.nat(200) }) },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(packedOp, fc.nat(300), fc.nat(300)), { maxLength: 150 }), (steps) => {
        const l = new QuickList();
        const m: string[] = [];
        for (const [o, i, n] of steps) {
          const [got, want] = apply(l, m, o);
          expect(got).toEqual(want);
          if (i < m.length && n > 0) {
            const k = Math.min(n, m.length - i);
            expect(encodedRange(l, i, k)).toBe(bulks(m, i, k));
          }
          l.verify();
        }
        checkSame(l, m);
        checkEncoded(l, m);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps chunks bounded and drops whole chunks on large trims', () => {
    const l = QuickList.from(Array.from({ length: 100_000 }, (_, i) => String(i)));
    expect(l.chunkCount).toBeLessThanOrEqual(Math.ceil(100_000 / CHUNK_MAX) + 1);
    l.removeRange(10, 99_980);
    expect(l.toArray()).toEqual([...Array.from({ length: 10 }, (_, i) => String(i)), '99990', '99991', '99992', '99993', '99994', '99995', '99996', '99997', '99998', '99999']);
    expect(l.chunkCount).toBeLessThanOrEqual(2);
  });

  it('a packed chunk that lost its first entries grows in the middle correctly', () => {
    const l = QuickList.from(['aaa', 'bbb', 'ccc', 'ddd']);
    expect(encodedRange(l, 0, 4)).toBe(bulks(['aaa', 'bbb', 'ccc', 'ddd'], 0, 4));
    expect(l.popHead()).toBe('aaa');
    l.set(1, 'X'.repeat(10));
    l.insertAt(1, 'y'.repeat(12));
    l.verify();
    expect(l.toArray()).toEqual(['bbb', 'y'.repeat(12), 'X'.repeat(10), 'ddd']);
    expect(encodedRange(l, 0, 4)).toBe(bulks(l.toArray(), 0, 4));
  });

  it('a packed chunk filled by pushes to exactly CHUNK_BYTES keeps every entry', () => {
    // bulkBytes(8176) = 8185: one more 1-byte element (7 bytes) fills the chunk to 8192 exactly.
    for (const atHead of [false, true]) {
      const big = 'b'.repeat(8176);
      const l = QuickList.from([big]);
      encodedRange(l, 0, 1);
      if (atHead) l.pushHead('a');
      else l.pushTail('a');
      l.verify();
      expect(l.chunkCount).toBe(1);
      const want = atHead ? ['a', big] : [big, 'a'];
      expect(l.toArray()).toEqual(want);
      expect(encodedRange(l, 0, 2)).toBe(bulks(want, 0, 2));
    }
  });

  it('cursors walk from any index in both directions', () => {
    const m = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    const l = QuickList.from(m);
    const cur = l.cursor(500);
    expect([cur.next(), cur.next()]).toEqual(['v500', 'v501']);
    const back = l.cursor(1, true);
    expect([back.next(), back.next(), back.next()]).toEqual(['v1', 'v0', undefined]);
  });
});
