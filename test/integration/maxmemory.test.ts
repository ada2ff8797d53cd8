import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * maxmemory: eviction by policy with "evicted" keyspace events, and -OOM for
 * commands that may grow memory when nothing can be evicted. A limit of one
 * byte is always exceeded, so the outcome does not depend on the heap size.
 */

let t: TestServer;

beforeAll(async () => {
  t = await startServer();
});

afterAll(async () => {
  await t?.stop();
});

describe('maxmemory', () => {
  it('evicts every key under allkeys-lru and publishes evicted events', async () => {
    const r = t.ioredis();
    await r.flushall();
    await r.config('SET', 'notify-keyspace-events', 'Ee');
    await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const sub = t.ioredis();
    const got: string[] = [];
    sub.on('pmessage', (_p: string, channel: string, key: string) => got.push(`${channel} ${key}`));
    await sub.psubscribe('__keyevent@*__:evicted');
    await r.mset('a', '1', 'b', '2', 'c', '3');
    await r.config('SET', 'maxmemory', '1');
    await eventually('three evictions', async () => (got.length >= 3 ? null : `${got.length}`));
    expect(got.sort()).toEqual(['__keyevent@0__:evicted a', '__keyevent@0__:evicted b', '__keyevent@0__:evicted c']);
    expect(await r.dbsize()).toBe(0);
    const info = await r.info('stats');
    expect(info).toMatch(/evicted_keys:[1-9]/);
    await r.config('SET', 'maxmemory', '0');
  });

  it('a write goes on while eviction is still under way, -OOM only once nothing is left to evict', async () => {
    const r = t.ioredis();
    await r.flushall();
    await r.config('SET', 'maxmemory-policy', 'allkeys-random');
    // Far more keys than one check evicts (1000, and as many per cron tick in the background):
    // the limit is still exceeded after the next checks.
    for (let i = 0; i < 20; i++) await r.mset(...Array.from({ length: 2500 }, (_, j) => [`k${i}:${j}`, 'v']).flat());
    try {
      await r.config('SET', 'maxmemory', '1');
      expect(await r.set('w1', 'v')).toBe('OK');
      expect(await r.set('w2', 'v')).toBe('OK');
      // Each refused or accepted write evicts up to 1000 more: -OOM comes once nothing is left.
      let refused = '';
      for (let i = 0; i < 100 && refused === ''; i++) await r.set(`w${i + 3}`, 'v').catch((err: Error) => (refused = err.message));
      expect(refused).toBe("OOM command not allowed when used memory > 'maxmemory'.");
      expect(await r.dbsize()).toBe(0);
    } finally {
      await r.config('SET', 'maxmemory', '0');
    }
    expect(await r.set('w3', 'v')).toBe('OK');
  });

  it('volatile-ttl evicts only keys with a TTL, then refuses writes with -OOM', async () => {
    const r = t.ioredis();
    await r.flushall();
    await r.config('SET', 'maxmemory-policy', 'volatile-ttl');
    await r.set('keep', 'v');
    await r.set('soon', 'v', 'EX', 100);
    await r.config('SET', 'maxmemory', '1');
    expect(await r.exists('soon')).toBe(0);
    expect(await r.get('keep')).toBe('v');
    await expect(r.set('more', 'v')).rejects.toThrow("OOM command not allowed when used memory > 'maxmemory'.");
    await r.config('SET', 'maxmemory', '0');
    expect(await r.set('more', 'v')).toBe('OK');
  });

  it('noeviction refuses writes, queued ones abort EXEC, reads still work', async () => {
    const r = t.ioredis();
    await r.flushall();
    await r.set('k', 'v');
    await r.config('SET', 'maxmemory-policy', 'noeviction');
    await r.config('SET', 'maxmemory', '1');
    await expect(r.lpush('l', 'x')).rejects.toThrow(/^OOM/);
    expect(await r.get('k')).toBe('v');
    expect(await r.del('k')).toBe(1);
    const tx = r.multi();
    tx.set('x', '1');
    await expect(tx.exec()).rejects.toThrow(/EXECABORT/);
    await r.config('SET', 'maxmemory', '0');
  });
});
