import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

/** DUMP of RPUSH l a b 12 -5 x*70, taken from real Redis 7.0.15 (a quicklist of one listpack, LZF-compressed). */
const REDIS_LIST_PAYLOAD = Buffer.from(
  '120102c31b405b135b00000005008161028162020c01dffb02e04678e03c000148ff0a00db99677cb385702f',
  'hex',
);
const ELEMENTS = ['a', 'b', '12', '-5', 'x'.repeat(70)];

describe('lists: COPY, DUMP/RESTORE and OBJECT', () => {
  const t = useServer();

  it('restores a payload dumped by real Redis and dumps it back byte for byte', async () => {
    const r = t.ioredis();
    expect(await r.restore('l', 0, REDIS_LIST_PAYLOAD)).toBe('OK');
    expect(await r.lrange('l', 0, -1)).toEqual(ELEMENTS);
    expect(await r.dumpBuffer('l')).toEqual(REDIS_LIST_PAYLOAD);
    expect(await r.object('ENCODING', 'l')).toBe('quicklist');
  });

  it('round-trips a list spanning several nodes, and COPY makes an independent list', async () => {
    const r = t.ioredis();
    const values = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    await r.rpush('big', ...values);
    const payload = await r.dumpBuffer('big');
    expect(await r.restore('big:restored', 0, payload)).toBe('OK');
    expect(await r.lrange('big:restored', 0, -1)).toEqual(values);
    expect(await r.copy('big', 'big:copy')).toBe(1);
    await r.lpop('big:copy');
    expect(await r.llen('big')).toBe(1000);
    expect(await r.llen('big:copy')).toBe(999);
  });

  it('rejects a corrupted list payload with Redis\'s error', async () => {
    const r = t.ioredis();
    const bad = Buffer.from(REDIS_LIST_PAYLOAD);
    bad[5] = (bad[5]! + 1) & 0xff;
    await expect(r.restore('bad', 0, bad)).rejects.toThrow('ERR DUMP payload version or checksum are wrong');
  });
});
