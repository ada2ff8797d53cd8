import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RdbReader, RdbWriter } from '../../src/store/rdb.js';
import {
  difference,
  intersect,
  isIntsetMember,
  setCodec,
  setEncoding,
  setLoaders,
  SetValue,
  union,
} from '../../src/store/set.js';
import { fullScan, seededRng } from '../helpers/collections.js';

type Op = { kind: 'add' | 'remove' | 'has'; member: string };

/** Small integers (intset-encodable), a few non-integers, and a few near-integers. */
const memberArb = fc.oneof(
  fc.integer({ min: -40, max: 300 }).map(String),
  fc.constantFrom('a', 'b', 'foo', '01', '+1', ' 1', '-0', '9223372036854775808', '-9223372036854775808'),
);
const opArb: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const, 'has' as const), member: memberArb });

/** Applies op to the set and to a JS Set; false on any disagreement. */
function apply(s: SetValue, model: Set<string>, op: Op, max: number): boolean {
  if (op.kind === 'add') {
    const expected = !model.has(op.member);
    model.add(op.member);
    return s.add(op.member, max) === expected;
  }
  if (op.kind === 'remove') {
    const expected = model.has(op.member);
    model.delete(op.member);
    return s.remove(op.member) === expected;
  }
  return s.has(op.member) === model.has(op.member);
}

describe('SetValue against a JS Set model', () => {
  it('agrees on add / remove / has / size / members for any sequence', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), fc.integer({ min: 0, max: 64 }), (ops, max) => {
        const s = new SetValue(7);
        const model = new Set<string>();
        for (const op of ops) if (!apply(s, model, op, max)) return false;
        return s.size === model.size && [...s.members()].sort().join(',') === [...model].sort().join(',');
      }),
    );
  });

  it('reports intset while every member is an integer and the size stayed within the limit, one way', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), fc.integer({ min: 0, max: 40 }), (ops, max) => {
        const s = new SetValue(3);
        const model = new Set<string>();
        let converted = false;
        for (const op of ops) {
          apply(s, model, op, max);
          if (op.kind === 'add' && (!isIntsetMember(op.member) || model.size > max)) converted = true;
          if (s.encoding !== (converted ? 'hashtable' : 'intset')) return false;
        }
        return setEncoding(s) === s.encoding;
      }),
    );
  });

  it('iterates an intset in ascending numeric order', () => {
    const s = SetValue.of(1, ['10', '-5', '9223372036854775807', '2', '-9223372036854775808'], 512);
    expect(s.encoding).toBe('intset');
    expect(s.members()).toEqual(['-9223372036854775808', '-5', '2', '10', '9223372036854775807']);
  });

  it('random members are members; randomDistinct returns min(count, size) distinct members', () => {
    fc.assert(
      fc.property(fc.uniqueArray(memberArb, { maxLength: 120 }), fc.nat(150), fc.nat(), (members, count, seed) => {
        const s = SetValue.of(seed, members, 16);
        const rand = seededRng(seed);
        const model = new Set(members);
        const one = s.random(rand);
        if (members.length === 0 ? one !== undefined : !model.has(one!)) return false;
        const picked = s.randomDistinct(count, rand);
        return picked.length === Math.min(count, members.length) && new Set(picked).size === picked.length && picked.every((m) => model.has(m));
      }),
    );
  });

  it('random draws reach every member of a large sparse set (after mass removal)', () => {
    const s = SetValue.of(5, Array.from({ length: 5000 }, (_, i) => `m${i}`), 0);
    for (let i = 0; i < 4990; i++) s.remove(`m${i}`);
    const rand = seededRng(9);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(s.random(rand)!);
    expect(seen.size).toBe(10);
  });
});

describe('SSCAN guarantee', () => {
  it('returns every member present for the whole scan, while others are added and removed', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 400 }),
        fc.array(opArb, { maxLength: 300 }),
        (initial, churn) => {
          const s = SetValue.of(11, initial.map((n) => `x${n}`), 0); // hashtable: a real cursor
          const stable = new Set(initial.filter((_, i) => i % 2 === 0).map((n) => `x${n}`));
          const seen = fullScan((cursor, visit) => s.scan(cursor, visit), (step) => {
            const op = churn[step % Math.max(1, churn.length)];
            if (op === undefined) return;
            if (stable.has(op.member)) return;
            if (op.kind === 'add') s.add(op.member, 0);
            else s.remove(op.member);
            // remove some non-stable initial members too, forcing shrinks
            const victim = `x${initial[(step * 2 + 1) % initial.length]}`;
            if (!stable.has(victim)) s.remove(victim);
          });
          return [...stable].every((m) => seen.has(m));
        },
      ),
    );
  });

  it('returns an intset whole with cursor 0', () => {
    const s = SetValue.of(1, ['3', '1', '2'], 512);
    const seen: string[] = [];
    expect(s.scan(0, (m) => seen.push(m))).toBe(0);
    expect(seen).toEqual(['1', '2', '3']);
  });
});

describe('set algebra', () => {
  const setsArb = fc.array(fc.option(fc.uniqueArray(memberArb, { maxLength: 40 }), { nil: null }), { minLength: 1, maxLength: 4 });
  const build = (xs: (string[] | null)[]) => xs.map((m) => (m === null ? null : SetValue.of(2, m, 8)));

  it('union, intersection and difference agree with the JS Set model', () => {
    fc.assert(
      fc.property(setsArb, (raw) => {
        const sets = build(raw);
        const models = raw.map((m) => new Set(m ?? []));
        const expUnion = new Set(models.flatMap((m) => [...m]));
        const expInter = [...models[0]!].filter((m) => models.every((s) => s.has(m)));
        const expDiff = [...models[0]!].filter((m) => models.slice(1).every((s) => !s.has(m)));
        const present = sets.filter((s): s is SetValue => s !== null);
        const inter = present.length < sets.length ? [] : intersect(present);
        const sorted = (a: Iterable<string>) => [...a].sort().join(',');
        return (
          sorted(union(sets, 1, 8).members()) === sorted(expUnion) &&
          sorted(inter) === sorted(expInter) &&
          sorted(difference(sets, 1, 8).members()) === sorted(expDiff)
        );
      }),
    );
  });

  it('intersect stops at the limit; a set diffed with itself is empty', () => {
    const a = SetValue.of(1, ['1', '2', '3', '4'], 8);
    const b = SetValue.of(1, ['2', '3', '4', '5'], 8);
    expect(intersect([a, b], 2)).toHaveLength(2);
    expect(difference([a, b, a], 1, 8).size).toBe(0);
  });
});

describe('RDB codec', () => {
  function roundTrip(s: SetValue): SetValue {
    const w = new RdbWriter();
    setCodec.save(w, s, false);
    const r = new RdbReader(Buffer.from(w.toBuffer()));
    const type = r.byte();
    return setLoaders[type]!(r).value as SetValue;
  }

  it('round-trips intset and hashtable sets with their encodings', () => {
    fc.assert(
      fc.property(fc.uniqueArray(memberArb, { minLength: 1, maxLength: 80 }), (members) => {
        const s = SetValue.of(4, members, 512);
        const back = roundTrip(s);
        return back.encoding === s.encoding && [...back.members()].sort().join(',') === [...s.members()].sort().join(',');
      }),
    );
  });

  it('dup is independent of the original', () => {
    const s = SetValue.of(4, ['a', 'b'], 512);
    const d = setCodec.dup(s) as SetValue;
    d.add('c', 512);
    expect(s.has('c')).toBe(false);
    expect(d.size).toBe(3);
  });
});
