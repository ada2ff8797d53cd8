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
  it('lists every written key exactly once, in first-write order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 40 }).map((n) => `k${n}`)), { maxLength: 300 }), (writes) => {
        const t = new TouchedKeys();
        for (const [db, key] of writes) t.add(dbs[db]!, key);
        expect(listed(t)).toEqual([...new Set(writes.map(([db, key]) => `${db}:${key}`))]);
        t.clear();
        expect(t.size).toBe(0);
      }),
    );
  });

  it('lists two keys written in turn many times once each (each listed key becomes a whole-value record)', () => {
    const t = new TouchedKeys();
    for (let i = 0; i < 60_000; i++) t.add(dbs[0]!, i % 2 === 0 ? 'h1' : 'h2');
    expect(listed(t)).toEqual(['0:h1', '0:h2']);
    for (let i = 0; i < 1000; i++) t.add(dbs[1]!, `k${i}`);
    t.add(dbs[1]!, 'k3');
    expect(t.size).toBe(1002);
  });
});
