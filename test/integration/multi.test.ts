import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

describe('transactions (MULTI/EXEC/DISCARD/WATCH/UNWATCH)', () => {
  const t = useServer();
  let r: Redis;
  let other: Redis;

  beforeAll(() => {
    r = t.ioredis();
    other = t.ioredis();
  });
  beforeEach(async () => {
    await other.call('flushall');
    await other.call('debug', 'set-active-expire', '1');
  });

  /** WATCH key on r, run `change` on another client, then return r's EXEC reply for MULTI PING. */
  async function execAfter(key: string, change: () => Promise<unknown>): Promise<unknown> {
    expect(await r.call('watch', key)).toBe('OK');
    await change();
    return r.multi().ping().exec();
  }

  /** Makes `key` hold a string that is already past its TTL and not yet deleted (active expiry off). */
  async function staleKey(key: string, db = 0): Promise<void> {
    await other.call('debug', 'set-active-expire', '0');
    const d = t.server.keyspace.db(db);
    const client = t.ioredis({ db });
    await client.call('set', key, 'stale');
    d.setExpire(d.keys.get(key)!, 1);
    client.disconnect();
  }

  it('queues commands and replies with one array (ioredis)', async () => {
    const res = await r.multi().set('a', '1').incr('a').get('a').exec();
    expect(res).toEqual([[null, 'OK'], [null, 2], [null, '2']]);
  });

  it('queues with +QUEUED and an empty MULTI replies an empty array', async () => {
    const c = await t.connect();
    c.write('MULTI\r\nSET k v\r\nGET k\r\nEXEC\r\nMULTI\r\nEXEC\r\n');
    expect(await c.lines(9)).toBe('+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\nv\r\n+OK\r\n*0\r\n');
    c.close();
  });

  it('node-redis multi in RESP2 and RESP3', async () => {
    for (const resp of [2, 3] as const) {
      const n = await t.nodeRedis(resp);
      expect(await n.multi().set('n', String(resp)).get('n').exec()).toEqual(['OK', String(resp)]);
    }
  });

  it('a command rejected while queueing aborts EXEC with EXECABORT', async () => {
    const c = await t.connect();
    c.write('MULTI\r\nSET x 1\r\nNOSUCHCMD\r\nGET\r\nSET y 2\r\nEXEC\r\nEXISTS x y\r\n');
    const text = await c.lines(7);
    expect(text).toBe(
      '+OK\r\n+QUEUED\r\n' +
        "-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n" +
        "-ERR wrong number of arguments for 'get' command\r\n" +
        '+QUEUED\r\n' +
        '-EXECABORT Transaction discarded because of previous errors.\r\n' +
        ':0\r\n',
    );
    c.close();
    await expect(r.multi().set('x', '1').call('nosuchcmd').exec()).rejects.toThrow('EXECABORT');
    expect(await r.call('ping')).toBe('PONG');
  });

  it('runtime errors inside EXEC do not abort the other commands', async () => {
    await r.call('sadd', 'aset', 'm');
    const res = await r.multi().set('s', '1').incr('aset').incr('s').exec();
    expect(res![0]).toEqual([null, 'OK']);
    expect((res![1]![0] as Error).message).toMatch(/^WRONGTYPE/);
    expect(res![2]).toEqual([null, 2]);
  });

  it('EXEC, DISCARD without MULTI; nested MULTI; WATCH inside MULTI (these do not abort)', async () => {
    await expect(r.call('exec')).rejects.toThrow('ERR EXEC without MULTI');
    await expect(r.call('discard')).rejects.toThrow('ERR DISCARD without MULTI');
    const c = await t.connect();
    c.write('MULTI\r\nMULTI\r\nWATCH k\r\nPING\r\nEXEC\r\n');
    expect(await c.lines(6)).toBe(
      '+OK\r\n-ERR MULTI calls can not be nested\r\n-ERR WATCH inside MULTI is not allowed\r\n+QUEUED\r\n*1\r\n+PONG\r\n',
    );
    c.close();
  });

  it('no_multi commands are refused inside MULTI and abort it', async () => {
    const c = await t.connect();
    c.write('MULTI\r\nSHUTDOWN\r\nEXEC\r\n');
    expect(await c.lines(3)).toBe(
      '+OK\r\n-ERR Command not allowed inside a transaction\r\n-EXECABORT Transaction discarded because of previous errors.\r\n',
    );
    c.close();
  });

  it('DISCARD drops the queue and the watches', async () => {
    await r.call('set', 'd', '1');
    await r.call('watch', 'd');
    await r.call('multi');
    expect(await r.call('del', 'd')).toBe('QUEUED');
    expect(await r.call('discard')).toBe('OK');
    expect(await r.call('get', 'd')).toBe('1');
    expect(t.server.transactions.watchedKeyCount).toBe(0);
  });

  it('EXEC succeeds when the watched keys did not change', async () => {
    await r.call('set', 'w', '1');
    expect(await execAfter('w', () => other.call('get', 'w'))).toEqual([[null, 'PONG']]);
  });

  const writers: [string, (key: string) => Promise<unknown>][] = [
    ['SET', (k) => other.call('set', k, 'changed')],
    ['DEL', (k) => other.call('del', k)],
    ['EXPIRE in the past', (k) => other.call('expire', k, '-1')],
    ['EXPIRE', (k) => other.call('expire', k, '100')],
    ['FLUSHDB', () => other.call('flushdb')],
    ['FLUSHALL', () => other.call('flushall')],
    ['SWAPDB', () => other.call('swapdb', '0', '1')],
    ['RENAME from', (k) => other.call('rename', k, `${k}-new`)],
    ['RENAME to', async (k) => (await other.call('set', 'src', 'v'), other.call('rename', 'src', k))],
  ];
  for (const [name, change] of writers) {
    it(`a watched key written by ${name} from another client makes EXEC reply null`, async () => {
      await other.call('set', 'wk', '1');
      expect(await execAfter('wk', () => change('wk'))).toBeNull();
      // The failed EXEC unwatched everything: the next transaction runs.
      expect(await r.multi().ping().exec()).toEqual([[null, 'PONG']]);
    });
  }

  it('SWAPDB touches a watched key that exists only in the other db', async () => {
    const db1 = t.ioredis({ db: 1 });
    await db1.call('set', 'only1', 'v');
    expect(await execAfter('only1', () => other.call('swapdb', '0', '1'))).toBeNull();
    expect(await execAfter('nowhere', () => other.call('swapdb', '0', '1'))).toEqual([[null, 'PONG']]);
  });

  it('FLUSHDB of a missing watched key, and writes to another db, do not abort', async () => {
    expect(await execAfter('missing', () => other.call('flushdb'))).toEqual([[null, 'PONG']]);
    const db1 = t.ioredis({ db: 1 });
    expect(await execAfter('same', () => db1.call('set', 'same', 'x'))).toEqual([[null, 'PONG']]);
  });

  it('a key already expired when watched: its deletion (by expiry, DEL or FLUSHDB) does not abort', async () => {
    await staleKey('st');
    expect(await execAfter('st', () => other.call('exists', 'st'))).toEqual([[null, 'PONG']]);
    await staleKey('st');
    expect(await execAfter('st', () => other.call('flushdb'))).toEqual([[null, 'PONG']]);
    await staleKey('st');
    expect(await execAfter('st', () => other.call('set', 'st', 'new'))).toBeNull();
  });

  it('a watched key that expires before EXEC makes EXEC reply null', async () => {
    await other.call('debug', 'set-active-expire', '0');
    await other.call('set', 'ttl', 'v');
    const d = t.server.keyspace.db(0);
    expect(await execAfter('ttl', async () => d.setExpire(d.keys.get('ttl')!, 1))).toBeNull();
  });

  it('UNWATCH forgets the watches and the dirty flag', async () => {
    await r.call('watch', 'u');
    await other.call('set', 'u', '1');
    expect(await r.call('unwatch')).toBe('OK');
    expect(await r.multi().ping().exec()).toEqual([[null, 'PONG']]);
    expect(await r.call('unwatch')).toBe('OK');
  });

  it('node-redis WATCH: a concurrent write fails EXEC with WatchError (RESP2 and RESP3)', async () => {
    for (const resp of [2, 3] as const) {
      const n = await t.nodeRedis(resp);
      await n.watch('nw');
      await other.call('set', 'nw', String(resp));
      await expect(n.multi().get('nw').exec()).rejects.toThrow(/watch/i);
      await n.watch('nw');
      expect(await n.multi().get('nw').exec()).toEqual([String(resp)]);
    }
  });

  it('an aborted EXEC replies *-1 in RESP2 and _ in RESP3', async () => {
    for (const [hello, nil] of [['HELLO 2', '*-1\r\n'], ['HELLO 3', '_\r\n']] as const) {
      const c = await t.connect();
      c.write(`${hello}\r\n`);
      await c.until((s) => s.includes('modules'));
      c.write('WATCH nil\r\n');
      await c.lines(1);
      await other.call('set', 'nil', 'x');
      c.write('MULTI\r\nPING\r\nEXEC\r\n');
      expect(await c.lines(3)).toBe(`+OK\r\n+QUEUED\r\n${nil}`);
      c.close();
    }
  });

  it('time is frozen for the queued commands of one EXEC', async () => {
    const res = await r.multi().set('frozen', 'v', 'PX', '5').call('debug', 'sleep', '0.02').get('frozen').exec();
    expect(res![2]).toEqual([null, 'v']);
  });

  it('RESET and disconnect discard the transaction and unwatch', async () => {
    const c = await t.connect();
    c.write('WATCH a b\r\nMULTI\r\nSET a 1\r\nRESET\r\nEXEC\r\n');
    expect(await c.lines(5)).toBe('+OK\r\n+OK\r\n+QUEUED\r\n+RESET\r\n-ERR EXEC without MULTI\r\n');
    expect(t.server.transactions.watchedKeyCount).toBe(0);
    c.write('WATCH a b c\r\nMULTI\r\n');
    await c.lines(2);
    expect(t.server.transactions.watchedKeyCount).toBe(3);
    c.close();
    await other.call('ping');
    await expect.poll(() => t.server.transactions.watchedKeyCount).toBe(0);
    expect(await other.call('get', 'a')).toBeNull();
  });

  it('CLIENT LIST shows the queued count as multi=', async () => {
    expect(await r.call('client', 'info')).toMatch(/ multi=-1 /);
    const res = await r.multi().ping().ping().call('client', 'info').exec();
    expect(res![2]![1]).toMatch(/ multi=3 /);
  });

  it('EXEC is not counted as failed for its queued commands errors (commandstats)', async () => {
    await r.call('config', 'resetstat');
    await r.multi().set('a', 'b').call('auth', 'nopass').exec();
    const stats = (await r.call('info', 'commandstats')) as string;
    expect(stats).toMatch(/cmdstat_exec:calls=1,.*rejected_calls=0,failed_calls=0/);
    expect(stats).toMatch(/cmdstat_auth:calls=1,.*rejected_calls=0,failed_calls=1/);
  });
});
