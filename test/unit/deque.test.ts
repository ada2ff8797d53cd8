import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Deque } from '../../src/crdt/deque.js';

/** The list CRDT's ring buffer behaves as an array under any sequence of operations. */
describe('Deque', () => {
  it('matches an array', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('front' as const), v: fc.nat(99) }),
      fc.record({ k: fc.constant('back' as const), v: fc.nat(99) }),
      fc.record({ k: fc.constant('popFront' as const) }),
      fc.record({ k: fc.constant('popBack' as const) }),
      fc.record({ k: fc.constant('insert' as const), at: fc.nat(), v: fc.nat(99) }),
      fc.record({ k: fc.constant('remove' as const), at: fc.nat(), n: fc.nat(4) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const d = new Deque<number>();
        const a: number[] = [];
        for (const o of ops) {
          if (o.k === 'front') (d.pushFront(o.v), a.unshift(o.v));
          else if (o.k === 'back') (d.pushBack(o.v), a.push(o.v));
          else if (o.k === 'popFront' && a.length > 0) expect(d.popFront()).toBe(a.shift());
          else if (o.k === 'popBack' && a.length > 0) expect(d.popBack()).toBe(a.pop());
          else if (o.k === 'insert') {
            const at = o.at % (a.length + 1);
            d.insert(at, o.v);
            a.splice(at, 0, o.v);
          } else if (o.k === 'remove' && a.length > 0) {
            const at = o.at % a.length;
            const n = Math.min(o.n, a.length - at);
            expect(d.remove(at, n)).toEqual(a.splice(at, n));
          }
          expect(d.size).toBe(a.length);
        }
        expect(d.toArray()).toEqual(a);
      }),
      { numRuns: 500 },
    );
  });
});
