import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RdbReader, RdbWriter } from '../../src/store/rdb.js';
import { ZSetValue, zsetCodec, zsetLoaders } from '../../src/store/zset.js';

/** The model: [member, score] pairs kept sorted by (score, member). */
type Pair = [string, number];

function cmp(a: Pair, b: Pair): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function modelSet(model: Pair[], m: string, score: number): void {
  const i = model.findIndex((p) => p[0] === m);
  if (i >= 0) model.splice(i, 1);
  model.push([m, score]);
  model.sort(cmp);
}

type Op =
  | { kind: 'add'; member: string; score: number }
  | { kind: 'remove'; member: string }
  | { kind: 'removeRange'; a: number; b: number };

const memberArb = fc.oneof(fc.integer({ min: 0, max: 3000 }).map((i) => `m${i}`), fc.constantFrom('', 'a', 'b', 'zz'));
const scoreArb = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.constantFrom(Infinity, -Infinity, 0.5, -0));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), member: memberArb, score: scoreArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), member: memberArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeRange' as const), a: fc.nat(1500), b: fc.nat(1500) }) },
);

function apply(z: ZSetValue, model: Pair[], op: Op): void {
  if (op.kind === 'add') {
    const node = z.node(op.member);
    if (node === undefined) z.insert(op.member, op.score);
    else z.setScore(node, op.score);
    modelSet(model, op.member, op.score);
  } else if (op.kind === 'remove') {
    const i = model.findIndex((p) => p[0] === op.member);
    expect(z.remove(op.member)).toBe(i >= 0);
    if (i >= 0) model.splice(i, 1);
  } else {
    const lo = Math.min(op.a, op.b);
    const hi = Math.max(op.a, op.b);
    const expected = Math.max(0, Math.min(hi, model.length - 1) - lo + 1);
    expect(lo < model.length ? z.removeRangeByRank(lo, Math.min(hi, model.length - 1)) : 0).toBe(expected);
    if (lo < model.length) model.splice(lo, expected);
  }
}

function checkAgainst(z: ZSetValue, model: Pair[]): void {
  z.verify();
  expect(z.size).toBe(model.length);
  expect([...z].map((n) => [n.key, n.score])).toEqual(model);
  model.forEach(([m, s], i) => {
    expect(z.rank(m)).toBe(i);
    expect(z.rank(m, true)).toBe(model.length - 1 - i);
    expect(z.at(i)!.key).toBe(m);
    expect(z.score(m)).toBe(s);
  });
  expect([...z.range(model.length - 1, model.length, true)].map((n) => n.key)).toEqual(model.map((p) => p[0]).reverse());
}

describe('ZSetValue vs a sorted-array model', () => {
  it('agrees on order, rank, select and removal', () => {
    fc.assert(
      // Up to ~1500 members: enough for leaf and inner splits and merges.
      fc.property(fc.array(opArb, { minLength: 100, maxLength: 2500, size: 'large' }), (ops) => {
        const z = new ZSetValue(1, 'skiplist');
        const model: Pair[] = [];
        for (const op of ops) apply(z, model, op);
        checkAgainst(z, model);
      }),
      { numRuns: 80 },
    );
  });

  it('answers score and lex ranges as the model does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(memberArb, scoreArb), { maxLength: 200 }),
        scoreArb, scoreArb, fc.boolean(), fc.boolean(),
        (pairs, min, max, minex, maxex) => {
          const z = new ZSetValue(2, 'skiplist');
          const model: Pair[] = [];
          for (const [m, s] of pairs) apply(z, model, { kind: 'add', member: m, score: s });
          const inRange = (s: number): boolean => (minex ? s > min : s >= min) && (maxex ? s < max : s <= max);
          const want = model.map((p, i) => [i, p[1]] as const).filter(([, s]) => inRange(s)).map(([i]) => i);
          const got = z.scoreRanks({ min, max, minex, maxex });
          expect(got).toEqual(want.length === 0 ? null : [want[0], want[want.length - 1]]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lex ranges over equal scores', () => {
    const z = new ZSetValue(3, 'skiplist');
    for (const m of ['a', 'b', 'c', 'd', 'e']) z.insert(m, 0);
    const b = (s: string) => ({ inf: 0 as const, value: s.slice(1), ex: s[0] === '(' });
    expect(z.lexRanks({ min: b('[b'), max: b('(d') })).toEqual([1, 2]);
    expect(z.lexRanks({ min: { inf: -1, value: '', ex: true }, max: { inf: 1, value: '', ex: true } })).toEqual([0, 4]);
    expect(z.lexRanks({ min: b('(e'), max: { inf: 1, value: '', ex: true } })).toBeNull();
  });

  it('stays ordered under many members (splits and merges)', () => {
    const z = new ZSetValue(4, 'skiplist');
    const n = 20000;
    for (let i = 0; i < n; i++) z.insert(`k${i}`, (i * 7919) % 10007);
    for (let i = 0; i < n; i += 3) z.remove(`k${i}`);
    let prev: [number, string] | null = null;
    let count = 0;
    for (const x of z) {
      if (prev !== null) expect(prev[0] < x.score || (prev[0] === x.score && prev[1] < x.key)).toBe(true);
      expect(z.rank(x.key)).toBe(count);
      prev = [x.score, x.key];
      count++;
    }
    expect(count).toBe(z.size);
    z.verify();
  });
});

describe('zset codec', () => {
  function roundTrip(z: ZSetValue): ZSetValue {
    const w = new RdbWriter();
    zsetCodec.save(w, z, false);
    const r = new RdbReader(Buffer.from(w.toBuffer()));
    const type = r.byte();
    return zsetLoaders[type]!(r).value as ZSetValue;
  }

  it('round-trips listpack and skiplist encodings with scores exact', () => {
    for (const enc of ['listpack', 'skiplist'] as const) {
      const z = new ZSetValue(5, enc);
      z.insert('a', 1.5);
      z.insert('b', -Infinity);
      z.insert('c', 0.1 + 0.2);
      z.insert('12', 7);
      const back = roundTrip(z);
      expect([...back].map((n) => [n.key, n.score])).toEqual([...z].map((n) => [n.key, n.score]));
      expect(back.encoding).toBe('listpack');
    }
  });

  it('loads a large set as skiplist and copies independently', () => {
    const z = new ZSetValue(6, 'skiplist');
    for (let i = 0; i < 300; i++) z.insert(`m${i}`, i);
    expect(roundTrip(z).encoding).toBe('skiplist');
    const copy = zsetCodec.dup(z) as ZSetValue;
    copy.remove('m1');
    expect(z.size).toBe(300);
    expect(copy.size).toBe(299);
  });
});
