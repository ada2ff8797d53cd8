import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Database, type KeyspaceListener } from '../../src/store/database.js';
import { HashValue } from '../../src/store/hash.js';
import { KeyPrefetch, PREFETCH_BATCH_KEYS } from '../../src/store/prefetch.js';
import { SetValue } from '../../src/store/set.js';
import { ZSetValue } from '../../src/store/zset.js';

const listener: KeyspaceListener = { keyWritten: () => undefined, keyExpired: () => undefined, keyCreated: () => undefined };

/** A database with strings, sets, hashes and sorted sets under k0..k(n-1), members m0..m9. */
function database(n: number): Database {
  const db = new Database(0, 11, { nowMs: () => 1_700_000_000_000, expiryPaused: false }, listener);
  for (let i = 0; i < n; i++) {
    const members = Array.from({ length: 10 }, (_, j) => `m${j}`);
    switch (i % 4) {
      case 0:
        db.add(`k${i}`, 'string', `v${i}`);
        break;
      case 1: {
        const s = new SetValue(i);
        for (const m of members) s.add(m, 512);
        db.add(`k${i}`, 'set', s);
        break;
      }
      case 2: {
        const h = new HashValue(i);
        for (const m of members) h.set(m, 'x', { maxEntries: 128, maxValue: 64 });
        db.add(`k${i}`, 'hash', h);
        break;
      }
      default: {
        const z = new ZSetValue(i);
        members.forEach((m, j) => z.insert(m, j));
        db.add(`k${i}`, 'zset', z);
      }
    }
  }
  return db;
}

/** A buffer holding args and the spans of argv[1..3] within it. */
function encode(args: string[]): { buf: Buffer; spans: Int32Array } {
  const spans = new Int32Array(6).fill(-1);
  let text = '';
  args.slice(0, 3).forEach((a, i) => {
    text += '|';
    spans[2 * i] = text.length;
    text += a;
    spans[2 * i + 1] = text.length;
  });
  return { buf: Buffer.from(text, 'latin1'), spans };
}

describe('KeyPrefetch', () => {
  it('takes any batch of keys and members of any type, present or not, and leaves the keyspace as it was', () => {
    const arg = fc.oneof(fc.integer({ min: 0, max: 60 }).map((i) => `k${i}`), fc.integer({ min: 0, max: 12 }).map((j) => `m${j}`), fc.string());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.array(fc.array(arg, { minLength: 1, maxLength: 3 }), { maxLength: 80 }), (n, commands) => {
        const db = database(n);
        const before = [...db.entries()].map((e) => [e.key, e.type]);
        const batch = new KeyPrefetch();
        batch.use(db);
        for (const c of commands.map(encode)) {
          const { buf, spans } = c;
          const before = batch.size;
          // A full batch runs by itself, then takes the command.
          batch.addCommand(buf, spans);
          expect(batch.size).toBe(before === PREFETCH_BATCH_KEYS ? 1 : before + 1);
        }
        batch.run();
        expect(batch.size).toBe(0);
        expect([...db.entries()].map((e) => [e.key, e.type])).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });

  it('mixes keys added as strings and commands from other buffers and databases in one batch', () => {
    const dbs = [database(8), database(12)];
    const batch = new KeyPrefetch();
    for (let i = 0; i < 3 * PREFETCH_BATCH_KEYS; i++) {
      batch.use(dbs[i % 2]!);
      if (i % 3 === 0) batch.addKey(`k${i % 12}`);
      else {
        const c = encode([`k${i % 12}`, `m${i % 10}`, `m${(i + 1) % 10}`]);
        batch.addCommand(c.buf, c.spans);
        expect(batch.size).toBeLessThanOrEqual(PREFETCH_BATCH_KEYS);
      }
    }
    expect(batch.run()).toBe(true);
    expect(batch.size).toBe(0);
    expect(dbs.map((db) => db.size)).toEqual([8, 12]);
  });
});
