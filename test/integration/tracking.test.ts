import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Client-side caching (CLIENT TRACKING) against a real node: exact RESP
 * bytes over raw sockets (pushes and their order relative to replies
 * matter), plus ioredis as a RESP2 redirect subscriber and node-redis's own
 * RESP3 client-side cache.
 */

let t: TestServer;
/** Never tracks: INFO, CONFIG and the cleanup FLUSHALL go through it. */
let admin: Redis;
/** Whatever a test opened; closed after it, so tracking state never leaks into the next test. */
const opened: { close(): void }[] = [];

beforeAll(async () => {
  t = await startServer();
  admin = new Redis({ port: t.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
});

afterAll(async () => {
  admin?.disconnect();
  await t?.stop();
});

beforeEach(() => {
  for (const db of t.server.keyspace.all()) db.clear();
});

afterEach(async () => {
  for (const c of opened.splice(0)) c.close();
  await eventually('test clients gone', async () => (t.server.clients.size <= 1 ? null : `${t.server.clients.size} clients`));
  // Forgets the keys tests left in the tracking table (tracking_total_keys starts at 0).
  await admin.flushall();
});

/** ioredis 6 speaks RESP3 unless told otherwise. */
function io(protocol: 2 | 3 = 3): Redis {
  const r = new Redis({ port: t.port, host: '127.0.0.1', maxRetriesPerRequest: 0, protocol });
  opened.push({ close: () => r.disconnect() });
  return r;
}

async function nodeRedis(options: { resp: 2 | 3; cache?: boolean }) {
  const c = createClient({
    socket: { port: t.port, host: '127.0.0.1', reconnectStrategy: false },
    RESP: options.resp,
    ...(options.cache === true ? { clientSideCache: { ttl: 0, maxEntries: 0 } } : {}),
  });
  c.on('error', () => undefined);
  await c.connect();
  opened.push({ close: () => c.destroy() });
  return c;
}

function frame(args: (string | number)[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${String(a).length}\r\n${a}\r\n`).join('')}`;
}

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const keysArray = (keys: string[] | null): string => (keys === null ? '*-1\r\n' : `*${keys.length}\r\n${keys.map(bulk).join('')}`);
/** RESP3 `>2 invalidate [keys]` (null: everything, after a flush). */
const push = (keys: string[] | null): string => `>2\r\n${bulk('invalidate')}${keys === null ? '_\r\n' : keysArray(keys)}`;
/** RESP2 redirect target's pub/sub message: the payload is an array, not a bulk. */
const message = (keys: string[] | null): string => `*3\r\n${bulk('message')}${bulk('__redis__:invalidate')}${keysArray(keys)}`;

/** Waits for exactly `expected` (returns early on a mismatch so a failure shows what arrived). */
async function expectOutput(c: RawClient, expected: string): Promise<void> {
  const got = await c.until((s) => s.length >= expected.length || !expected.startsWith(s));
  expect(got).toBe(expected);
}

async function send(c: RawClient, expected: string, ...args: (string | number)[]): Promise<void> {
  c.write(frame(args));
  await expectOutput(c, expected);
}

async function connect(resp: 2 | 3 = 2): Promise<RawClient> {
  const c = await RawClient.connect(t.port);
  opened.push(c);
  if (resp === 3) {
    c.write(frame(['HELLO', 3]));
    await c.until((s) => s.endsWith(`${bulk('modules')}*0\r\n`));
  }
  return c;
}

async function clientId(c: RawClient): Promise<number> {
  c.write(frame(['CLIENT', 'ID']));
  return Number((await c.until((s) => s.endsWith('\r\n'))).slice(1, -2));
}

/** A RESP2 connection subscribed to __redis__:invalidate, and its id. */
async function redirectTarget(): Promise<[RawClient, number]> {
  const r = await connect();
  const id = await clientId(r);
  await send(r, `*3\r\n${bulk('subscribe')}${bulk('__redis__:invalidate')}:1\r\n`, 'SUBSCRIBE', '__redis__:invalidate');
  return [r, id];
}

async function info(field: string): Promise<number> {
  const text = await admin.info();
  return Number(new RegExp(`\r\n${field}:(\\d+)\r\n`).exec(text)![1]);
}

describe('default mode', () => {
  it('a RESP3 reader is told once when a key it read changes', async () => {
    const reader = await connect(3);
    const writer = await connect();
    await send(reader, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
    await send(writer, '+OK\r\n', 'SET', 'k', '1');
    await send(reader, bulk('1'), 'GET', 'k');
    await send(writer, '+OK\r\n', 'SET', 'k', '2');
    await expectOutput(reader, push(['k']));
    // Forgotten after the invalidation: no second message until it is read again.
    await send(writer, '+OK\r\n', 'SET', 'k', '3');
    await send(writer, '+OK\r\n', 'SET', 'other', '1');
    await send(reader, '+PONG\r\n', 'PING');
  });

  it("the client's own write is reported after its reply, and after a whole EXEC", async () => {
    const c = await connect(3);
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
    await send(c, '+OK\r\n', 'MSET', 'a', '1', 'b', '2');
    await send(c, '*2\r\n$1\r\n1\r\n$1\r\n2\r\n', 'MGET', 'a', 'b');
    await send(c, `:2\r\n${push(['a'])}`, 'INCR', 'a');
    await send(c, bulk('2'), 'GET', 'a');
    await send(c, '+OK\r\n', 'MULTI');
    await send(c, '+QUEUED\r\n', 'INCR', 'a');
    await send(c, '+QUEUED\r\n', 'DEL', 'b');
    await send(c, `*2\r\n:3\r\n:1\r\n${push(['a'])}${push(['b'])}`, 'EXEC');
  });

  it('reads inside MULTI are tracked per queued command', async () => {
    const c = await connect(3);
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
    await send(c, '+OK\r\n', 'MULTI');
    await send(c, '+QUEUED\r\n', 'GET', 'x');
    await send(c, '+QUEUED\r\n', 'HGET', 'h', 'f');
    await send(c, '*2\r\n_\r\n_\r\n', 'EXEC');
    await send(writer, ':1\r\n', 'HSET', 'h', 'f', 'v');
    await expectOutput(c, push(['h']));
    await send(writer, '+OK\r\n', 'SET', 'x', 'v');
    await expectOutput(c, push(['x']));
  });

  it('flushes invalidate everything once, with a null', async () => {
    const c = await connect(3);
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
    await send(c, '_\r\n', 'GET', 'k');
    expect(await info('tracking_total_keys')).toBe(1);
    await send(c, `+OK\r\n${push(null)}`, 'FLUSHALL');
    expect(await info('tracking_total_keys')).toBe(0);
    await send(c, '+OK\r\n', 'MULTI');
    await send(c, '+QUEUED\r\n', 'FLUSHDB');
    await send(c, `*1\r\n+OK\r\n${push(null)}`, 'EXEC');
    await send(c, '+PONG\r\n', 'PING');
  });

  it('NOLOOP skips the client’s own writes', async () => {
    const c = await connect(3);
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'NOLOOP');
    await send(c, '*2\r\n_\r\n_\r\n', 'MGET', 'mine', 'theirs');
    await send(c, '+OK\r\n', 'SET', 'mine', '1');
    await send(writer, '+OK\r\n', 'SET', 'theirs', '1');
    await expectOutput(c, push(['theirs']));
  });

  it('keeps remembered keys across HELLO and still delivers under CLIENT REPLY OFF', async () => {
    const c = await connect();
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
    await send(c, '$-1\r\n', 'GET', 'k');
    c.write(frame(['HELLO', 3]));
    await c.until((s) => s.endsWith('*0\r\n'));
    c.write(frame(['CLIENT', 'REPLY', 'OFF']));
    await send(writer, '+OK\r\n', 'SET', 'k', '1');
    await expectOutput(c, push(['k']));
    await send(c, '+OK\r\n', 'CLIENT', 'REPLY', 'ON');
  });

  it('a served BLMOVE replies before the invalidation of its destination', async () => {
    const c = await connect(3);
    const pusher = await connect();
    await send(pusher, ':1\r\n', 'RPUSH', 'dst', 'a');
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
    await send(c, `*1\r\n${bulk('a')}`, 'LRANGE', 'dst', 0, -1);
    c.write(frame(['BLMOVE', 'src', 'dst', 'LEFT', 'LEFT', 0]));
    await eventually('the client blocks', async () => ((await info('blocked_clients')) === 1 ? null : 'not blocked'));
    await send(pusher, ':1\r\n', 'RPUSH', 'src', 'foo');
    await expectOutput(c, `${bulk('foo')}${push(['dst'])}`);
  });
});

describe('redirection', () => {
  it('a RESP2 tracker redirects to a subscribed connection as __redis__:invalidate messages', async () => {
    const [target, id] = await redirectTarget();
    const c = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'REDIRECT', id);
    await send(c, ':' + id + '\r\n', 'CLIENT', 'GETREDIR');
    await send(c, '*2\r\n$-1\r\n$-1\r\n', 'MGET', 'a', 'b');
    await send(c, ':1\r\n', 'INCR', 'a');
    await expectOutput(target, message(['a']));
    await send(c, '+OK\r\n', 'FLUSHDB');
    await expectOutput(target, message(null));
  });

  it('ioredis over RESP2 receives the invalidation array as a subscriber', async () => {
    const sub = io(2);
    const id = (await sub.client('ID')) as number;
    const got: unknown[] = [];
    // messageBuffer hands over the payload as parsed ('message' would stringify the array).
    sub.on('messageBuffer', (channel: Buffer, payload: Buffer[]) => got.push([String(channel), payload.map(String)]));
    await sub.subscribe('__redis__:invalidate');
    const reader = io();
    expect(await reader.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id))).toBe('OK');
    await reader.get('cached');
    await io().set('cached', 'v');
    await eventually('the invalidation arrives', async () => (got.length > 0 ? null : 'none yet'));
    expect(got).toEqual([['__redis__:invalidate', ['cached']]]);
  });

  it('a vanished redirect target breaks the redirection: a RESP3 push, flag R, broken_redirect', async () => {
    const [target, id] = await redirectTarget();
    const c = await connect(3);
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'REDIRECT', id);
    await send(c, '_\r\n', 'GET', 'k');
    target.write(frame(['QUIT']));
    await target.closedByServer();
    await eventually('the target is gone', async () => (t.server.clients.get(id) === undefined ? null : 'still there'));
    await send(writer, '+OK\r\n', 'SET', 'k', '1');
    await expectOutput(c, `>2\r\n${bulk('tracking-redir-broken')}:${id}\r\n`);
    c.write(frame(['CLIENT', 'INFO']));
    expect(await c.until((s) => s.endsWith('\n\r\n'))).toMatch(new RegExp(` flags=tR .* redir=${id} resp=3 `));
    await send(c, `%3\r\n${bulk('flags')}~2\r\n${bulk('on')}${bulk('broken_redirect')}${bulk('redirect')}:${id}\r\n${bulk('prefixes')}*0\r\n`, 'CLIENT', 'TRACKINGINFO');
  });
});

describe('BCAST', () => {
  it('batches the changed keys per prefix, sorted, and honours NOLOOP', async () => {
    const [target, id] = await redirectTarget();
    const c = await connect();
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'BCAST', 'REDIRECT', id, 'PREFIX', 'a:', 'PREFIX', 'b:', 'NOLOOP');
    await send(writer, '+OK\r\n', 'MULTI');
    for (const k of ['b:2', 'a:2', 'c:1', 'a:1']) await send(writer, '+QUEUED\r\n', 'SET', k, 'v');
    await send(writer, '*4\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n', 'EXEC');
    await expectOutput(target, message(['a:1', 'a:2']) + message(['b:2']));
    await send(c, '+OK\r\n', 'SET', 'a:mine', 'v');
    await send(writer, '+OK\r\n', 'SET', 'b:theirs', 'v');
    await expectOutput(target, message(['b:theirs']));
    expect(await info('tracking_total_prefixes')).toBe(2);
    c.close();
    await eventually('prefixes dropped with the client', async () => ((await info('tracking_total_prefixes')) === 0 ? null : 'still there'));
  });

  it('a RESP3 BCAST client without prefixes hears of every key, including expired ones', async () => {
    const c = await connect(3);
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'BCAST');
    await send(writer, '+OK\r\n', 'MSET', 'x', '1', 'y', '2');
    await expectOutput(c, push(['x', 'y']));
    await send(writer, '+OK\r\n', 'SET', 'z', 'v', 'PX', '1');
    await expectOutput(c, push(['z']));
    // The expiry (active or lazy, whichever comes first) is reported too.
    await eventually('z expires', async () => {
      writer.write(frame(['EXISTS', 'z']));
      return (await writer.until((s) => s.endsWith('\r\n'))) === ':0\r\n' ? null : 'still there';
    });
    await expectOutput(c, push(['z']));
  });

  it('switching from default to BCAST drops the pending default-mode keys', async () => {
    const c = await connect(3);
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
    await send(c, '_\r\n', 'GET', 'k1');
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'OFF');
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'k2');
    await send(writer, '+OK\r\n', 'SET', 'k1', 'v');
    await send(writer, '+OK\r\n', 'SET', 'k2', 'v');
    await expectOutput(c, push(['k2']));
  });
});

describe('OPTIN / OPTOUT', () => {
  it('OPTIN tracks only after CLIENT CACHING YES, for one command', async () => {
    const c = await connect(3);
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'OPTIN');
    await send(writer, '+OK\r\n', 'MSET', 'ignored', '1', 'cached', '2', 'ignored2', '3');
    await send(c, bulk('1'), 'GET', 'ignored');
    await send(c, '+OK\r\n', 'CLIENT', 'CACHING', 'YES');
    await send(c, bulk('2'), 'GET', 'cached');
    await send(c, bulk('3'), 'GET', 'ignored2');
    expect(await info('tracking_total_keys')).toBe(1);
    await send(writer, '+OK\r\n', 'MSET', 'ignored', '1', 'cached', '1', 'ignored2', '1');
    await expectOutput(c, push(['cached']));
  });

  it('OPTOUT tracks everything but the command after CLIENT CACHING NO; CACHING lasts over a transaction', async () => {
    const c = await connect(3);
    const writer = await connect();
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'OPTOUT');
    await send(c, '+OK\r\n', 'CLIENT', 'CACHING', 'NO');
    await send(c, '+OK\r\n', 'MULTI');
    await send(c, '+QUEUED\r\n', 'GET', 'skipped');
    await send(c, '*1\r\n_\r\n', 'EXEC');
    await send(c, '_\r\n', 'GET', 'tracked');
    await send(writer, '+OK\r\n', 'MSET', 'skipped', '1', 'tracked', '1');
    await expectOutput(c, push(['tracked']));
  });
});

describe('replies and errors', () => {
  it("CLIENT TRACKING's errors are Redis's", async () => {
    const r = io();
    const fails = (text: string, ...args: string[]) => expect(r.call('CLIENT', 'TRACKING', ...args)).rejects.toThrow(text);
    await fails('ERR syntax error', 'maybe');
    await fails('ERR syntax error', 'on', 'bogus');
    await fails('ERR syntax error', 'on', 'prefix');
    await fails('ERR value is not an integer or out of range', 'on', 'redirect', 'x');
    await fails('ERR The client ID you want redirect to does not exist', 'on', 'redirect', '999999');
    const id = String(await r.client('ID'));
    await fails('ERR A client can only redirect to a single other client', 'on', 'redirect', id, 'redirect', id);
    await fails('ERR PREFIX option requires BCAST mode to be enabled', 'on', 'prefix', 'a');
    await fails('ERR OPTIN and OPTOUT are not compatible with BCAST', 'on', 'bcast', 'optin');
    await fails("ERR You can't specify both OPTIN mode and OPTOUT mode", 'on', 'optin', 'optout');
    await fails("ERR Prefix 'FOOBAR' overlaps with another provided prefix 'FOO'. Prefixes for a single client must not overlap.", 'on', 'bcast', 'prefix', 'FOOBAR', 'prefix', 'FOO');
    expect(await r.call('CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'FOO', 'prefix', 'BAR')).toBe('OK');
    await fails("ERR Prefix 'FO' overlaps with an existing prefix 'FOO'. Prefixes for a single client must not overlap.", 'on', 'bcast', 'prefix', 'FO');
    await fails("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.", 'on');
    expect(await r.call('CLIENT', 'TRACKING', 'off')).toBe('OK');
    expect(await r.call('CLIENT', 'TRACKING', 'on', 'optin')).toBe('OK');
    await fails("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.", 'on', 'optout');
  });

  it("CLIENT CACHING's errors are Redis's", async () => {
    const r = io();
    const fails = (text: string, arg: string) => expect(r.call('CLIENT', 'CACHING', arg)).rejects.toThrow(text);
    await fails('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled', 'yes');
    await r.call('CLIENT', 'TRACKING', 'on');
    await fails('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.', 'yes');
    await fails('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.', 'no');
    await fails('ERR syntax error', 'maybe');
    await expect(r.call('CLIENT', 'CACHING')).rejects.toThrow("ERR wrong number of arguments for 'client|caching' command");
  });

  it('TRACKINGINFO, GETREDIR, CLIENT LIST and INFO describe the state', async () => {
    const r = await nodeRedis({ resp: 2 });
    expect(await r.sendCommand(['CLIENT', 'TRACKINGINFO'])).toEqual(['flags', ['off'], 'redirect', -1, 'prefixes', []]);
    expect(await r.sendCommand(['CLIENT', 'GETREDIR'])).toBe(-1);
    await r.sendCommand(['CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'foo', 'PREFIX', 'bar', 'NOLOOP']);
    expect(await r.sendCommand(['CLIENT', 'TRACKINGINFO'])).toEqual(['flags', ['on', 'bcast', 'noloop'], 'redirect', 0, 'prefixes', ['bar', 'foo']]);
    expect(await r.sendCommand(['CLIENT', 'GETREDIR'])).toBe(0);
    expect(await r.sendCommand(['CLIENT', 'INFO'])).toMatch(/ flags=tB .* redir=0 resp=2 /);
    expect(await info('tracking_clients')).toBe(1);
    expect(await info('tracking_total_prefixes')).toBe(2);
    await r.sendCommand(['CLIENT', 'TRACKING', 'OFF']);
    await r.sendCommand(['CLIENT', 'TRACKING', 'ON', 'OPTIN']);
    await r.sendCommand(['CLIENT', 'CACHING', 'YES']);
    expect(await r.sendCommand(['CLIENT', 'TRACKINGINFO'])).toEqual(['flags', ['on', 'optin', 'caching-yes'], 'redirect', 0, 'prefixes', []]);
    expect(await info('tracking_total_prefixes')).toBe(0);
  });

  it('RESET turns tracking off', async () => {
    const c = await connect(3);
    await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON', 'BCAST');
    await send(c, '+RESET\r\n', 'RESET');
    await send(c, `*6\r\n${bulk('flags')}*1\r\n${bulk('off')}${bulk('redirect')}:-1\r\n${bulk('prefixes')}*0\r\n`, 'CLIENT', 'TRACKINGINFO');
    expect(await info('tracking_clients')).toBe(0);
  });

  it('CLIENT HELP lists the tracking subcommands', async () => {
    const help = (await io().call('CLIENT', 'HELP')) as string[];
    expect(help[1]).toBe('CACHING (YES|NO)');
    expect(help).toContain('TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]');
    expect(help).toContain('TRACKINGINFO');
  });
});

describe('the tracking table limit', () => {
  it('over tracking-table-max-keys, random keys are invalidated before the next command runs', async () => {
    const c = await connect(3);
    try {
      await send(c, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
      await send(c, '*3\r\n_\r\n_\r\n_\r\n', 'MGET', 'k1', 'k2', 'k3');
      expect(await info('tracking_total_items')).toBe(3);
      await admin.config('SET', 'tracking-table-max-keys', '1');
      c.write(frame(['PING']));
      // Two of the three keys are dropped (by this command's check or the cron, whichever ran first), then PONG.
      const out = await c.until((s) => s.endsWith('+PONG\r\n'));
      const dropped = [...out.matchAll(/\$2\r\n(k\d)\r\n/g)].map((m) => m[1]);
      expect(new Set(dropped).size).toBe(2);
      expect(out).toBe(`${push([dropped[0]!])}${push([dropped[1]!])}+PONG\r\n`);
      expect(await info('tracking_total_keys')).toBe(1);
    } finally {
      await admin.config('SET', 'tracking-table-max-keys', '1000000');
    }
  });
});

describe('node-redis client-side cache', () => {
  it('serves from its cache until the server invalidates the key', async () => {
    const client = await nodeRedis({ resp: 3, cache: true });
    const writer = io();
    await writer.set('csc', 'one');
    expect(await client.get('csc')).toBe('one');
    expect(await client.get('csc')).toBe('one');
    expect(client.clientSideCache!.stats().hitCount).toBe(1);
    await writer.set('csc', 'two');
    await eventually('the cache drops csc', async () => ((await client.get('csc')) === 'two' ? null : 'stale value'));
    expect(await info('tracking_clients')).toBe(1);
});
});
