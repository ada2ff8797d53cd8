import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { counterValue } from '../../src/crdt/counter-value.js';
import { copyRows, counterIntWire, joinCountersInPlace, mergeKeyState, type CounterRow, type KeyState } from '../../src/crdt/key-state.js';

/**
 * The per-key join of crdt/key-state.ts is a semilattice: commutative,
 * associative, idempotent. States are drawn from small domains so that
 * equal versions (and so every merge branch) occur often.
 */

const origins = ['', 'a', 'b'];

const counterRows = fc
  .subarray(['a', 'b'])
  .chain((os) =>
    fc.tuple(
      ...os.map((o) =>
        fc.tuple(fc.constant(o), fc.nat(5), fc.nat(5), fc.constantFrom(0, 0.5, 1.25), fc.constantFrom(0, 0.5)).map((r): CounterRow => [r[0], r[1], r[2], r[3], r[4]]),
      ),
    ),
  );

const liveState = fc
  .record({ ts: fc.nat(4), o: fc.constantFrom(...origins), g: fc.nat(2).map((n) => n * 2), x: fc.nat(3), e: fc.constantFrom(0, 100, 200), c: fc.option(counterRows, { nil: undefined }) })
  .map((r): KeyState => {
    // One version always carries the same value: the stamp identifies the write.
    const s: KeyState = { ts: r.ts, o: r.o, g: r.g, t: 'string', v: `${r.ts}${r.o}${r.g}`, x: r.x, e: r.e };
    if (r.c !== undefined && r.c.length > 0) s.c = r.c;
    return s;
  });

const deadState = fc
  .record({ ts: fc.nat(4), o: fc.constantFrom(...origins), g: fc.nat(2).map((n) => n * 2 + 1), d: fc.nat(5) })
  .map((r): KeyState => ({ ts: r.ts, o: r.o, g: r.g, d: r.d }));

const state = fc.oneof(liveState, deadState);

/** A canonical text of a state (defaults filled in) for equality. */
function canon(s: KeyState): string {
  return JSON.stringify([s.ts, s.o, s.g, s.t ?? null, s.v ?? null, s.x ?? 0, s.e ?? 0, s.c ?? [], s.d ?? null]);
}

describe('key state merge', () => {
  it('is commutative', () => {
    fc.assert(fc.property(state, state, (a, b) => canon(mergeKeyState(a, b)) === canon(mergeKeyState(b, a))), { numRuns: 3000 });
  });

  it('is associative', () => {
    fc.assert(
      fc.property(state, state, state, (a, b, c) => canon(mergeKeyState(mergeKeyState(a, b), c)) === canon(mergeKeyState(a, mergeKeyState(b, c)))),
      { numRuns: 3000 },
    );
  });

  it('is idempotent', () => {
    fc.assert(fc.property(state, (a) => canon(mergeKeyState(a, a)) === canon(a)), { numRuns: 1000 });
  });

  it('lets a delete remove what it observed but not a later write', () => {
    const written: KeyState = { ts: 5, o: 'a', g: 0, t: 'string', v: 'x', x: 0, e: 0 };
    const deleted: KeyState = { ts: 5, o: 'a', g: 1, d: 9 };
    const later: KeyState = { ts: 6, o: 'b', g: 0, t: 'string', v: 'y', x: 0, e: 0 };
    expect(mergeKeyState(written, deleted)).toBe(deleted);
    expect(mergeKeyState(deleted, later)).toBe(later);
  });

  it('adds up counters of one version and lets PERSIST beat a concurrent EXPIRE', () => {
    const a: KeyState = { ts: 1, o: 'a', g: 0, t: 'string', v: '10', x: 1, e: 0, c: [['a', 3, 0, 0, 0]] };
    const b: KeyState = { ts: 1, o: 'a', g: 0, t: 'string', v: '10', x: 1, e: 500, c: [['b', 4, 1, 0, 0]] };
    const m = mergeKeyState(a, b);
    expect(m.c).toEqual([
      ['a', 3, 0, 0, 0],
      ['b', 4, 1, 0, 0],
    ]);
    expect(m.e).toBe(0);
  });

  it('sums integer counters exactly, across the 2^53 boundary too', () => {
    const big = fc.bigInt({ min: 0n, max: 2n ** 62n });
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), fc.array(fc.tuple(big, big), { maxLength: 4 }), (base, parts) => {
        const rows = parts.map(([p, n], i): CounterRow => [`o${i}`, counterIntWire(p), counterIntWire(n), 0, 0]);
        const expected = parts.reduce((sum, [p, n]) => sum + p - n, base);
        expect(counterValue(base.toString(), rows)).toBe(expected.toString());
      }),
      { numRuns: 2000 },
    );
  });

  it('joins counters in place to the same rows as the pure join', () => {
    // Counts past 2^53 travel as decimal text: some rows carry those.
    const rows = fc.oneof(counterRows, counterRows.map((rs) => rs.map((r): CounterRow => [r[0], r[1] === 0 ? 0 : `${2 ** 53}${r[1]}`, r[2], r[3], r[4]])));
    fc.assert(
      fc.property(rows, rows, (a, b) => {
        const pure = mergeKeyState({ ts: 1, o: 'a', g: 0, t: 'string', v: '0', c: a }, { ts: 1, o: 'a', g: 0, t: 'string', v: '0', c: b }).c ?? [];
        const kept = a.length === 0 ? null : copyRows(a);
        const before = JSON.stringify(kept);
        const joined = joinCountersInPlace(kept, copyRows(b));
        const held = joined ?? kept ?? [];
        expect(JSON.stringify(held.map((r) => r.map(String)))).toBe(JSON.stringify(pure.map((r) => r.map(String))));
        // null exactly when b added nothing; the kept array itself when it already had b's origins.
        expect(joined === null).toBe(JSON.stringify(held) === before || (kept === null && b.length === 0));
        if (kept !== null && joined !== null && b.length === kept.length && b.every((r, i) => r[0] === kept[i]![0])) expect(joined).toBe(kept);
      }),
      { numRuns: 3000 },
    );
  });

  it('copies rows so a kept state does not see later in-place raises', () => {
    const rows: CounterRow[] = [['a', 1, 0, 0, 0]];
    const copy = copyRows(rows);
    joinCountersInPlace(rows, [['a', 5, 2, 0.5, 0]]);
    expect(rows).toEqual([['a', 5, 2, 0.5, 0]]);
    expect(copy).toEqual([['a', 1, 0, 0, 0]]);
  });
});
