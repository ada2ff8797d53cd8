import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Pub/sub, keyspace notifications and KSUB on one node, with ioredis
 * (RESP2), node-redis (RESP2 and RESP3) and raw sockets for exact bytes.
 */

let t: TestServer;

beforeAll(async () => {
  t = await startServer();
});

afterAll(async () => {
  await t?.stop();
});

async function raw(): Promise<RawClient> {
  return RawClient.connect(t.port);
}

describe('SUBSCRIBE / PUBLISH', () => {
  it('delivers to channel and pattern subscribers with ioredis', async () => {
    const sub = t.ioredis();
    const pub = t.ioredis();
    const got: string[] = [];
    sub.on('message', (ch: string, m: string) => got.push(`message ${ch} ${m}`));
    sub.on('pmessage', (p: string, ch: string, m: string) => got.push(`pmessage ${p} ${ch} ${m}`));
    expect(await sub.subscribe('a.b', 'c')).toBe(2);
    expect(await sub.psubscribe('a.*')).toBe(3);
    expect(await pub.publish('a.b', 'hello')).toBe(2);
    expect(await pub.publish('nobody', 'x')).toBe(0);
    await eventually('two deliveries', async () => (got.length >= 2 ? null : `${got.length}`));
    expect(got).toEqual(['message a.b hello', 'pmessage a.* a.b hello']);
    expect(await pub.pubsub('CHANNELS', 'a*')).toEqual(['a.b']);
    expect(await pub.pubsub('NUMSUB', 'a.b', 'zz')).toEqual(['a.b', 1, 'zz', 0]);
    expect(await pub.pubsub('NUMPAT')).toBe(1);
    // Named: ioredis resolves an argument-less UNSUBSCRIBE only when the count reaches 0, which a pattern prevents (as with Redis).
    await sub.unsubscribe('a.b', 'c');
    await sub.punsubscribe('a.*');
    expect(await pub.pubsub('NUMPAT')).toBe(0);
  });

  it('refuses other commands in RESP2 subscribed mode and allows PING', async () => {
    const c = await raw();
    c.write('SUBSCRIBE ch\r\n');
    await c.lines(6);
    c.write('GET x\r\n');
    expect(await c.lines(1)).toBe(
      "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
    );
    c.write('PING\r\n');
    expect(await c.lines(5)).toBe('*2\r\n$4\r\npong\r\n$0\r\n\r\n');
    c.write('RESET\r\n');
    expect(await c.lines(1)).toBe('+RESET\r\n');
    c.write('GET x\r\n');
    expect(await c.lines(1)).toBe('$-1\r\n');
    c.close();
  });

  it('sends RESP3 pushes and lets a RESP3 subscriber run any command', async () => {
    const c = await raw();
    c.write('HELLO 3\r\n');
    await c.until((text) => text.includes('modules'));
    c.write('SUBSCRIBE ch\r\n');
    expect(await c.lines(6)).toBe('>3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n');
    c.write('SET k v\r\n');
    expect(await c.lines(1)).toBe('+OK\r\n');
    await t.ioredis().publish('ch', 'hi');
    expect(await c.lines(7)).toBe('>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n');
    c.close();
  });

  it('node-redis RESP3 subscribes and receives', async () => {
    const sub = await t.nodeRedis(3);
    const got: string[] = [];
    await sub.pSubscribe('n*', (message, channel) => got.push(`${channel}:${message}`));
    await t.ioredis().publish('news', 'x');
    await eventually('delivery', async () => (got.length === 1 ? null : `${got.length}`));
    expect(got).toEqual(['news:x']);
  });

  it('unsubscribing from nothing still replies', async () => {
    const c = await raw();
    c.write('UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\n');
    expect(await c.lines(10)).toBe('*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n');
    c.close();
  });
});

describe('keyspace notifications', () => {
  it('publish keyspace and keyevent messages for the enabled classes', async () => {
    const admin = t.ioredis();
    await admin.config('SET', 'notify-keyspace-events', 'KEl');
    expect(await admin.config('GET', 'notify-keyspace-events')).toEqual(['notify-keyspace-events', 'lKE']);
    const sub = t.ioredis();
    const got: string[] = [];
    sub.on('pmessage', (_p: string, ch: string, m: string) => got.push(`${ch} ${m}`));
    await sub.psubscribe('__key*@0__:*');
    await admin.set('s', '1'); // string class: not enabled
    await admin.rpush('l', 'a');
    await eventually('two events', async () => (got.length >= 2 ? null : `${got.length}`));
    expect(got).toEqual(['__keyspace@0__:l rpush', '__keyevent@0__:rpush l']);
    await admin.config('SET', 'notify-keyspace-events', '');
  });

  it('refuses unknown classes', async () => {
    await expect(t.ioredis().config('SET', 'notify-keyspace-events', 'KEq')).rejects.toThrow(/Invalid event class/);
  });
});

describe('KSUB', () => {
  it('delivers kmessage for matching keys in RESP2 and RESP3', async () => {
    const v2 = await raw();
    const v3 = await raw();
    v3.write('HELLO 3\r\n');
    await v3.until((text) => text.includes('modules'));
    v2.write('KSUB ord:*\r\n');
    v3.write('KSUB ord:*\r\n');
    expect(await v2.lines(6)).toBe('*3\r\n$4\r\nksub\r\n$5\r\nord:*\r\n:1\r\n');
    expect(await v3.lines(6)).toBe('>3\r\n$4\r\nksub\r\n$5\r\nord:*\r\n:1\r\n');
    const w = t.ioredis();
    await w.lpush('ord:1', 'a');
    await w.set('misc', 'b');
    const event = (head: string) => `${head}4\r\n$8\r\nkmessage\r\n$5\r\nord:*\r\n$5\r\nord:1\r\n$5\r\nlpush\r\n`;
    expect(await v2.lines(9)).toBe(event('*'));
    expect(await v3.lines(9)).toBe(event('>'));
    v2.write('KUNSUB\r\n');
    expect(await v2.lines(6)).toBe('*3\r\n$6\r\nkunsub\r\n$5\r\nord:*\r\n:0\r\n');
    v2.close();
    v3.close();
  });
});

describe('client-output-buffer-limit pubsub', () => {
  it('disconnects a subscriber that never reads while PUBLISH keeps working for others', async () => {
    const admin = t.ioredis();
    await admin.config('SET', 'client-output-buffer-limit', 'pubsub 1mb 0 0');
    expect((await admin.config('GET', 'client-output-buffer-limit'))[1]).toBe('normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0');
    const stuck = await raw();
    stuck.write('CLIENT SETNAME stuck\r\nSUBSCRIBE flood\r\n');
    await stuck.lines(7);
    stuck.pause();
    const reader = t.ioredis();
    let readerGot = 0;
    reader.on('message', () => readerGot++);
    await reader.subscribe('flood');
    const payload = 'x'.repeat(64 * 1024);
    let published = 0;
    // Publish until the stuck client is gone: its unread output passes 1mb once the kernel buffers fill.
    await eventually('stuck subscriber closed', async () => {
      for (let i = 0; i < 20; i++, published++) await admin.publish('flood', payload);
      const list = String(await admin.client('LIST'));
      return list.includes('name=stuck') ? 'still connected' : null;
    });
    await eventually('reader got every message', async () => (readerGot >= published ? null : `${readerGot}/${published}`));
    expect(await admin.publish('flood', 'after')).toBe(1);
    await admin.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    stuck.close();
  });
});
