import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

describe('a node', () => {
  const t = useServer();

  it('answers ioredis', async () => {
    const r = t.ioredis();
    expect(await r.ping()).toBe('PONG');
    expect(await r.set('k', 'v')).toBe('OK');
    expect(await r.get('k')).toBe('v');
  });

  it('answers node-redis over RESP3', async () => {
    const r = await t.nodeRedis(3);
    expect(await r.ping()).toBe('PONG');
    expect(await r.get('missing')).toBeNull();
  });

  it('answers inline commands typed by hand', async () => {
    const c = await t.connect();
    c.write('PING\r\necho "hello world"\r\n');
    expect(await c.lines(3)).toBe('+PONG\r\n$11\r\nhello world\r\n');
    c.close();
  });

  it('replies unknown command with Redis text', async () => {
    const c = await t.connect();
    c.write('FOO a b\r\n');
    expect(await c.lines(1)).toBe("-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
    c.close();
  });
});
