import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

describe('expiry commands', () => {
  const t = useServer({ event: (_db, key, event) => `${key}:${event}` });
  const { events } = t;
  let r: Redis;
  beforeAll(() => {
    r = t.ioredis();
  });

  it('pipelined commands see whole milliseconds (PTTL/PEXPIRETIME are integers)', async () => {
    // Every command after the first of a batch once read a fractional clock.
    const cmds = [['PING'], ['SET', 'px', 'v', 'PX', '100000'], ['PTTL', 'px'], ['PEXPIRETIME', 'px']];
    const text = cmds.map((c) => `*${c.length}\r\n${c.map((a) => `$${a.length}\r\n${a}\r\n`).join('')}`).join('');
    const raw = await t.raw(text, (s) => s.split('\r\n').length > 4);
    expect(raw).toMatch(/^\+PONG\r\n\+OK\r\n:\d+\r\n:\d+\r\n$/);
  });

  it('EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT set a TTL and emit expire', async () => {
    await r.set('k', 'v');
    expect(await r.expire('k', 100)).toBe(1);
    expect(await r.ttl('k')).toBe(100);
    expect(await r.pexpire('k', 50_000)).toBe(1);
    const pttl = await r.pttl('k');
    expect(pttl).toBeGreaterThan(49_000);
    expect(pttl).toBeLessThanOrEqual(50_000);
    const atSec = Math.floor(Date.now() / 1000) + 1000;
    expect(await r.expireat('k', atSec)).toBe(1);
    expect(await r.expiretime('k')).toBe(atSec);
    expect(await r.pexpiretime('k')).toBe(atSec * 1000);
    const atMs = Date.now() + 123_456;
    expect(await r.pexpireat('k', atMs)).toBe(1);
    expect(await r.pexpiretime('k')).toBe(atMs);
    expect(await r.expiretime('k')).toBe(Math.floor((atMs + 500) / 1000));
    expect(await r.expire('missing', 100)).toBe(0);
    expect(events.filter((e) => e.endsWith(':expire'))).toHaveLength(4);
  });

  it('a time in the past deletes the key with a del event', async () => {
    for (const [cmd, arg] of [['expire', '-1'], ['pexpire', '0'], ['expireat', '1'], ['pexpireat', '1000']] as const) {
      await r.set('k', 'v');
      events.length = 0;
      expect(await r.call(cmd, 'k', arg)).toBe(1);
      expect(await r.exists('k')).toBe(0);
      expect(events).toEqual(['k:del']);
    }
    await r.set('foo', 'bar');
    expect(await r.pexpireat('foo', '-9223372036854770000')).toBe(1);
    expect(await r.ttl('foo')).toBe(-2);
  });

  it('TTL family: -2 missing, -1 persistent', async () => {
    expect([await r.ttl('x'), await r.pttl('x'), await r.expiretime('x'), await r.pexpiretime('x')]).toEqual([-2, -2, -2, -2]);
    await r.set('x', 'v');
    expect([await r.ttl('x'), await r.pttl('x'), await r.expiretime('x'), await r.pexpiretime('x')]).toEqual([-1, -1, -1, -1]);
  });

  it('TTL rounds to the nearest second', async () => {
    await r.set('k', 'v');
    await r.pexpire('k', 1600);
    expect(await r.ttl('k')).toBe(2);
  });

  it('PERSIST removes a TTL', async () => {
    await r.set('k', 'v');
    expect(await r.persist('k')).toBe(0);
    expect(await r.persist('missing')).toBe(0);
    await r.expire('k', 100);
    expect(await r.persist('k')).toBe(1);
    expect(await r.ttl('k')).toBe(-1);
    expect(events).toContain('k:persist');
  });

  it('NX / XX / GT / LT', async () => {
    await r.set('k', 'v');
    expect(await r.call('expire', 'k', '100', 'XX')).toBe(0);
    expect(await r.call('expire', 'k', '100', 'GT')).toBe(0);
    expect(await r.call('expire', 'k', '100', 'LT')).toBe(1);
    expect(await r.call('expire', 'k', '200', 'NX')).toBe(0);
    expect(await r.call('expire', 'k', '200', 'xx')).toBe(1);
    expect(await r.call('expire', 'k', '100', 'gt')).toBe(0);
    expect(await r.call('expire', 'k', '300', 'GT')).toBe(1);
    expect(await r.call('expire', 'k', '400', 'LT')).toBe(0);
    expect(await r.call('expire', 'k', '50', 'LT', 'XX')).toBe(1);
    expect(await r.ttl('k')).toBe(50);
    await r.persist('k');
    expect(await r.call('expire', 'k', '50', 'NX')).toBe(1);
  });

  it('option errors', async () => {
    await r.set('k', 'v');
    const incompatible = 'ERR NX and XX, GT or LT options at the same time are not compatible';
    await expect(r.call('expire', 'k', '1', 'NX', 'XX')).rejects.toThrow(incompatible);
    await expect(r.call('expire', 'k', '1', 'NX', 'GT')).rejects.toThrow(incompatible);
    await expect(r.call('expire', 'k', '1', 'LT', 'NX')).rejects.toThrow(incompatible);
    await expect(r.call('expire', 'k', '1', 'GT', 'LT')).rejects.toThrow('ERR GT and LT options at the same time are not compatible');
    await expect(r.call('expire', 'k', '1', 'AB')).rejects.toThrow('ERR Unsupported option AB');
    await expect(r.call('expire', 'k', '')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(r.call('expire', 'k')).rejects.toThrow("ERR wrong number of arguments for 'expire' command");
  });

  it('int64 overflow checks', async () => {
    await r.set('foo', 'bar');
    const err = (cmd: string): string => `ERR invalid expire time in '${cmd}' command`;
    for (const v of ['9223370399119966', '9223372036854776', '10000000000000000', '18446744073709561', '-9223372036854776']) {
      await expect(r.call('expire', 'foo', v)).rejects.toThrow(err('expire'));
    }
    await expect(r.call('expireat', 'foo', '9223372036854776')).rejects.toThrow(err('expireat'));
    await expect(r.call('pexpire', 'foo', '9223372036854770000')).rejects.toThrow(err('pexpire'));
    expect(await r.ttl('foo')).toBe(-1);
    expect(await r.call('pexpireat', 'foo', '9223372036854770000')).toBe(1);
    await expect(r.call('pexpire', 'foo', '9223372036854775808')).rejects.toThrow('ERR value is not an integer or out of range');
  });

  it('a key whose time passed is gone for every command, and the cycle reclaims it', async () => {
    await r.set('k', 'v');
    const db = t.server.keyspace.db(0);
    db.setExpire(db.lookup('k')!, 1);
    expect(await r.ttl('k')).toBe(-2);
    expect(await r.expire('k', 100)).toBe(0);
    expect(events).toContain('k:expired');
    await r.set('j', 'v');
    db.setExpire(db.lookup('j')!, 1);
    t.server.activeExpireCycle(100);
    expect(db.size).toBe(0);
  });

  it('replies the same over RESP3 (node-redis)', async () => {
    const c = await t.nodeRedis(3);
    await c.set('k', 'v');
    expect(await c.sendCommand(['EXPIRE', 'k', '10'])).toBe(1);
    expect(await c.sendCommand(['TTL', 'k'])).toBe(10);
    expect(await c.sendCommand(['PERSIST', 'k'])).toBe(1);
    expect(await c.sendCommand(['PTTL', 'k'])).toBe(-1);
  });
});
