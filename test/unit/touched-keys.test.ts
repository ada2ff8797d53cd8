import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TouchedKeys } from '../../src/persistence/touched-keys.js';
import type { Database } from '../../src/store/database.js';

const dbs = [{ id: 0 }, { id: 1 }] as unknown as Database[];

function listed(t: TouchedKeys): string[] {
  const out: string[] = [];
  t.forEach((db, key) => out.push(`${db.id}:${key}`));
  return out;
}

describe('TouchedKeys', () => {
  it('lists every written key, first writes in order, and never more entries than the writes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.constantFrom('a', 'b', 'c', 'd')), { maxLength: 200 }), (writes) => {
        const t = new TouchedKeys();
        for (const [db, key] of writes) t.add(dbs[db]!, key);
        const got = listed(t);
        const firsts = [...new Set(writes.map(([db, key]) => `${db}:${key}`))];
        // Repeats other than back-to-back ones may stay listed; every key is there, first writes in order.
        expect([...new Set(got)]).toEqual(firsts);
        expect(got.length).toBeLessThanOrEqual(writes.length);
        for (let i = 1; i < got.length; i++) expect(got[i]).not.toBe(got[i - 1]);
      }),
    );
  });

  it('stays bounded by the distinct keys when a few keys are written in turn', () => {
    const t = new TouchedKeys();
    for (let i = 0; i < 300_000; i++) t.add(dbs[0]!, i % 2 === 0 ? 'x' : 'y');
    expect(t.size).toBeLessThanOrEqual(65_536);
    expect([...new Set(listed(t))]).toEqual(['0:x', '0:y']);
    t.clear();
    expect(t.size).toBe(0);
    for (let i = 0; i < 200_000; i++) t.add(dbs[1]!, `k${i}`);
    expect(t.size).toBe(200_000);
  });
});
