import * as net from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

/** MIGRATE between two real nodes (Redis's tests/unit/dump.tcl MIGRATE cases, without timing). */

const HOST = '127.0.0.1';

describe('MIGRATE', () => {
  let src: TestServer;
  let dst: TestServer;
  let a: Redis;
  let b: Redis;
  const events: string[] = [];

  beforeAll(async () => {
    src = await startServer();
    dst = await startServer();
    src.server.observeWrites((db, key, event) => events.push(`${db.id}:${event}:${key}`));
    a = src.ioredis();
    b = dst.ioredis();
  });

  afterAll(async () => {
    await src.stop();
    await dst.stop();
  });

  beforeEach(async () => {
    await a.flushall();
    await b.flushall();
    events.length = 0;
  });

  const migrate = (...args: (string | number)[]): Promise<unknown> =>
    a.call('MIGRATE', HOST, dst.port, ...args);

  it('moves one key and signals its deletion as DEL does', async () => {
    await a.set('key', 'value');
    expect(await migrate('key', 0, 5000)).toBe('OK');
    expect(await a.exists('key')).toBe(0);
    expect(await b.get('key')).toBe('value');
    expect(events).toContain('0:del:key');
  });

  it('moves a list intact', async () => {
    const values = Array.from({ length: 500 }, (_, i) => `v${i}`);
    await a.rpush('list', ...values);
    expect(await migrate('list', 0, 5000)).toBe('OK');
    expect(await b.lrange('list', 0, -1)).toEqual(values);
  });

  it('moves several keys with KEYS, skipping missing ones', async () => {
    await a.mset('k1', '1', 'k2', '2', 'k3', '3');
    expect(await migrate('', 0, 5000, 'KEYS', 'nokey-1', 'k1', 'nokey-2', 'k2', 'k3')).toBe('OK');
    expect(await a.exists('k1', 'k2', 'k3')).toBe(0);
    expect(await b.mget('k1', 'k2', 'k3')).toEqual(['1', '2', '3']);
  });

  it('replies NOKEY when no key exists', async () => {
    expect(await migrate('missing', 0, 5000)).toBe('NOKEY');
    expect(await migrate('', 0, 5000, 'KEYS', 'nokey-1', 'nokey-2')).toBe('NOKEY');
  });

  it('keeps the local key with COPY', async () => {
    await a.sadd('set', 'x', 'y');
    expect(await migrate('set', 0, 5000, 'COPY')).toBe('OK');
    expect((await a.smembers('set')).sort()).toEqual(['x', 'y']);
    expect((await b.smembers('set')).sort()).toEqual(['x', 'y']);
  });

  it('reports the target\'s BUSYKEY and overwrites only with REPLACE', async () => {
    await a.set('key', 'new');
    await b.set('key', 'old');
    await expect(migrate('key', 0, 5000)).rejects.toThrow(
      'ERR Target instance replied with error: BUSYKEY Target key name already exists.',
    );
    expect(await a.get('key')).toBe('new');
    expect(await migrate('key', 0, 5000, 'REPLACE')).toBe('OK');
    expect(await b.get('key')).toBe('new');
    expect(await a.exists('key')).toBe(0);
  });

  it('deletes only the keys the target acknowledged', async () => {
    await a.mset('a1', '1', 'a2', '2', 'a3', '3');
    await b.set('a2', 'taken');
    await expect(migrate('', 0, 5000, 'KEYS', 'a1', 'a2', 'a3')).rejects.toThrow('BUSYKEY');
    expect(await a.exists('a1')).toBe(0);
    expect(await a.get('a2')).toBe('2');
    expect(await a.exists('a3')).toBe(0);
    expect(await b.mget('a1', 'a2', 'a3')).toEqual(['1', 'taken', '3']);
  });

  it('carries the remaining TTL', async () => {
    await a.set('ttl', 'v', 'PX', 100_000);
    expect(await migrate('ttl', 0, 5000)).toBe('OK');
    const pttl = await b.pttl('ttl');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(100_000);
    await a.set('forever', 'v');
    expect(await migrate('forever', 0, 5000)).toBe('OK');
    expect(await b.pttl('forever')).toBe(-1);
  });

  it('restores into the destination db, sending SELECT only when it changes', async () => {
    const b5 = dst.ioredis({ db: 5 });
    const b6 = dst.ioredis({ db: 6 });
    const selects = async (): Promise<number> => {
      const m = /cmdstat_select:calls=(\d+)/.exec(await b.info('commandstats'));
      return m ? Number(m[1]) : 0;
    };
    await Promise.all([b5.ping(), b6.ping()]); // their own SELECTs are done before counting
    const before = await selects();
    await a.mset('d1', '1', 'd2', '2', 'd3', '3');
    expect(await migrate('d1', 5, 5000)).toBe('OK');
    expect(await migrate('d2', 5, 5000)).toBe('OK');
    expect(await migrate('d3', 6, 5000)).toBe('OK');
    expect(await b5.mget('d1', 'd2')).toEqual(['1', '2']);
    expect(await b6.get('d3')).toBe('3');
    expect(await b.exists('d1', 'd2', 'd3')).toBe(0);
    // One connection, kept between the calls: d2 goes to the db already selected.
    expect((await selects()) - before).toBe(2);
  });

  it('answers a pipelined command after MIGRATE, which it sees completed', async () => {
    await a.set('p', 'v');
    const results = await a
      .pipeline()
      .call('MIGRATE', HOST, String(dst.port), 'p', '0', '5000')
      .exists('p')
      .set('after', '1')
      .exec();
    expect(results).toEqual([[null, 'OK'], [null, 0], [null, 'OK']]);
    expect(await b.get('p')).toBe('v');
  });

  it('serializes concurrent migrations to the same target', async () => {
    const clients = [src.ioredis(), src.ioredis(), src.ioredis()];
    for (let i = 0; i < 30; i++) await a.set(`c${i}`, `${i}`);
    const runs = Array.from({ length: 30 }, (_, i) =>
      clients[i % 3]!.call('MIGRATE', HOST, dst.port, `c${i}`, i % 2, 5000),
    );
    expect(await Promise.all(runs)).toEqual(Array(30).fill('OK'));
    expect(await a.dbsize()).toBe(0);
    const b1 = dst.ioredis({ db: 1 });
    expect((await b.dbsize()) + (await b1.dbsize())).toBe(30);
  });

  it('validates its arguments as Redis does', async () => {
    await expect(migrate('NotEmpty', 0, 5000, 'KEYS', 'a', 'b')).rejects.toThrow(
      'ERR When using MIGRATE KEYS option, the key argument must be set to the empty string',
    );
    await expect(migrate('k', 0, 5000, 'AUTH')).rejects.toThrow('ERR syntax error');
    await expect(migrate('k', 0, 5000, 'AUTH2', 'user')).rejects.toThrow('ERR syntax error');
    await expect(migrate('k', 0, 5000, 'FOO')).rejects.toThrow('ERR syntax error');
    await expect(migrate('k', 0, 'soon')).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(migrate('k', 'x', 5000)).rejects.toThrow('ERR value is not an integer or out of range');
    await expect(a.call('MIGRATE', HOST, dst.port, 'k', 0)).rejects.toThrow(
      "ERR wrong number of arguments for 'migrate' command",
    );
  });

  it('finds its keys like migrateGetKeys', async () => {
    expect(await a.call('COMMAND', 'GETKEYS', 'MIGRATE', HOST, '1', 'k', '0', '5000')).toEqual(['k']);
    expect(
      await a.call('COMMAND', 'GETKEYS', 'MIGRATE', HOST, '1', '', '0', '5000', 'AUTH2', 'KEYS', '123', 'KEYS', 'x', 'y'),
    ).toEqual(['x', 'y']);
    const info = (await a.call('COMMAND', 'INFO', 'migrate')) as unknown[][];
    expect(info[0]![2]).toContain('movablekeys');
  });

  it('reports a target that refuses the connection', async () => {
    const gone = await startServer();
    const port = gone.port;
    await gone.stop();
    await a.set('key', 'v');
    await expect(a.call('MIGRATE', HOST, port, 'key', 0, 1000)).rejects.toThrow(
      'IOERR error or timeout connecting to the client',
    );
    expect(await a.get('key')).toBe('v');
  });

  it('reports a target that never answers', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, HOST, () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    await a.set('key', 'v');
    try {
      await expect(a.call('MIGRATE', HOST, port, 'key', 0, 200)).rejects.toThrow(
        'IOERR error or timeout reading to target instance',
      );
      expect(await a.get('key')).toBe('v');
    } finally {
      silent.close();
    }
  });

  it('reports a target that closes the connection', async () => {
    const rude = net.createServer((s) => s.destroy());
    await new Promise<void>((r) => rude.listen(0, HOST, () => r()));
    const port = (rude.address() as net.AddressInfo).port;
    await a.set('key', 'v');
    try {
      await expect(a.call('MIGRATE', HOST, port, 'key', 0, 5000)).rejects.toThrow(/^IOERR error or timeout (reading|writing) to target instance$/);
      expect(await a.get('key')).toBe('v');
    } finally {
      rude.close();
    }
  });

  it('redacts AUTH arguments in SLOWLOG', async () => {
    await a.config('SET', 'slowlog-log-slower-than', '0');
    await a.slowlog('RESET');
    await migrate('nokey', 9, 5000, 'AUTH2', 'user', 'password');
    await a.config('SET', 'slowlog-log-slower-than', '10000');
    const log = (await a.slowlog('GET')) as unknown[][];
    const args = log.map((e) => (e[3] as string[]).join(' '));
    expect(args.some((s) => s.endsWith('nokey 9 5000 AUTH2 (redacted) (redacted)'))).toBe(true);
  });

  it('refuses to run inside MULTI rather than break EXEC\'s reply', async () => {
    await a.set('key', 'v');
    const results = await a.multi().call('MIGRATE', HOST, String(dst.port), 'key', '0', '5000').get('key').exec();
    expect(results![0]![0]).toBeInstanceOf(Error);
    expect(results![1]).toEqual([null, 'v']);
  });

  it('RESTORE-ASKING restores like RESTORE', async () => {
    await a.set('orig', 'value');
    const payload = await a.dumpBuffer('orig');
    expect(await a.call('RESTORE-ASKING', 'copy', '0', payload)).toBe('OK');
    expect(await a.get('copy')).toBe('value');
    await expect(a.call('RESTORE-ASKING', 'copy', '0', payload)).rejects.toThrow('BUSYKEY Target key name already exists.');
    const info = (await a.call('COMMAND', 'INFO', 'restore-asking')) as unknown[][];
    expect(info[0]![2]).toEqual(['write', 'denyoom', 'asking']);
  });
});

describe('MIGRATE to a target with requirepass', () => {
  let src: TestServer;
  let dst: TestServer;

  beforeAll(async () => {
    src = await startServer();
    dst = await startServer({ requirepass: 'secret' });
  });

  afterAll(async () => {
    await src.stop();
    await dst.stop();
  });

  it('authenticates with AUTH and AUTH2, and reports a wrong password', async () => {
    const a = src.ioredis();
    const b = new (await import('ioredis')).Redis({ port: dst.port, host: HOST, password: 'secret' });
    try {
      await a.set('list', 'v');
      await expect(a.call('MIGRATE', HOST, dst.port, 'list', 0, 5000)).rejects.toThrow(
        'ERR Target instance replied with error: NOAUTH Authentication required.',
      );
      await expect(a.call('MIGRATE', HOST, dst.port, 'list', 0, 5000, 'AUTH', 'wrong')).rejects.toThrow(
        'ERR Target instance replied with error: WRONGPASS',
      );
      expect(await a.get('list')).toBe('v');
      expect(await a.call('MIGRATE', HOST, dst.port, 'list', 0, 5000, 'AUTH', 'secret')).toBe('OK');
      expect(await b.get('list')).toBe('v');
      await a.set('other', 'w');
      expect(await a.call('MIGRATE', HOST, dst.port, 'other', 0, 5000, 'AUTH2', 'default', 'secret')).toBe('OK');
      expect(await b.get('other')).toBe('w');
    } finally {
      b.disconnect();
    }
  });
});
