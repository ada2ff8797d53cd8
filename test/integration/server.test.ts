import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { infoField } from '../../src/commands/info.js';
import { RawClient } from '../helpers/raw.js';
import { useServer } from '../helpers/fixture.js';
import { startServer } from '../helpers/server.js';
import type { StreamSocket } from '../../src/runtime/index.js';

describe('server commands', () => {
  const t = useServer();

  it('INFO default, sections, all and everything', async () => {
    const r = t.ioredis();
    await r.set('k', 'v');
    await r.call('nosuchcommand').catch(() => undefined);
    const info = (await r.info()) as string;
    expect(infoField(info, 'redis_version')).toBe('7.0.15');
    expect(Number(infoField(info, 'tcp_port'))).toBe(t.port);
    expect(infoField(info, 'role')).toBe('master');
    expect(infoField(info, 'connected_slaves')).toBe('0');
    expect(infoField(info, 'db0')).toMatch(/^keys=1,expires=0,avg_ttl=\d+$/);
    expect(infoField(info, 'errorstat_ERR')).toMatch(/^count=\d+$/);
    expect(info).not.toContain('cmdstat_');
    for (const f of ['uptime_in_seconds', 'connected_clients', 'used_memory', 'used_memory_human', 'rdb_changes_since_last_save',
      'total_commands_processed', 'instantaneous_ops_per_sec', 'expired_keys', 'keyspace_hits', 'used_cpu_user']) {
      expect(infoField(info, f), f).toBeDefined();
    }
    const all = (await r.info('all')) as string;
    expect(infoField(all, 'cmdstat_set')).toMatch(/^calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$/);
    expect((await r.info('everything')) as string).toContain('# Commandstats');
    const cpu = (await r.info('cpu')) as string;
    expect(cpu.startsWith('# CPU\r\n')).toBe(true);
    expect(cpu).not.toContain('used_memory');
    const two = (await r.call('info', 'CPU', 'commandSTATS')) as string;
    expect(two).toContain('# CPU');
    expect(two).toContain('# Commandstats');
    const cpuDefault = (await r.call('info', 'cpu', 'default')) as string;
    expect(cpuDefault.match(/used_cpu_user_children/g)!.length).toBe(1);
  });

  it('INFO is a verbatim string in RESP3', async () => {
    const c = await t.connect(3);
    c.write('INFO cluster\r\n');
    expect(await c.lines(3)).toBe('=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n');
    c.close();
  });

  it('CONFIG GET patterns, several args, aliases, hidden options', async () => {
    const r = t.ioredis();
    const res = (await r.config('GET', 'maxmemory', 'maxmemory*', 'bind', '*of')) as string[];
    const keys = res.filter((_, i) => i % 2 === 0);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of ['maxmemory', 'maxmemory-policy', 'maxmemory-clients', 'bind', 'replicaof', 'slaveof']) expect(keys).toContain(k);
    const all = (await r.config('GET', '*')) as string[];
    expect(all).not.toContain('key-load-delay');
    expect(await r.config('GET', 'key-load-delay')).toEqual(['key-load-delay', '0']);
    expect(await r.config('GET', 'nonexistent')).toEqual([]);
  });

  it('CONFIG SET is atomic with Redis error texts', async () => {
    const r = t.ioredis();
    expect(await r.call('config', 'set', 'maxmemory', '10mb', 'hz', '20')).toBe('OK');
    expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '10485760']);
    await expect(r.call('config', 'set', 'maxmemory', '1', 'maxmemory-clients', '200%')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100",
    );
    expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '10485760']);
    await expect(r.call('config', 'set', 'nope', '1')).rejects.toThrow("ERR Unknown option or number of arguments for CONFIG SET - 'nope'");
    await expect(r.call('config', 'set', 'daemonize', 'yes')).rejects.toThrow('immutable');
    await expect(r.call('config', 'set', 'dir', '/tmp')).rejects.toThrow('protected');
    await expect(r.call('config', 'set', 'hz', '1', 'hz', '2')).rejects.toThrow('duplicate parameter');
    await expect(r.call('config', 'set', 'hz', 'x')).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer");
    await expect(r.call('config', 'set', 'hz')).rejects.toThrow("ERR wrong number of arguments for 'config|set' command");
    await expect(r.call('config', 'set', 'hz', '1', 'maxmemory')).rejects.toThrow('ERR syntax error');
    expect(await r.call('config', 'set', 'latency-tracking-info-percentiles', '0.0 50.0 100.0')).toBe('OK');
    expect(await r.config('GET', 'latency-tracking-info-percentiles')).toEqual(['latency-tracking-info-percentiles', '0 50 100']);
    expect(await r.call('config', 'set', 'maxmemory', '0', 'hz', '10')).toBe('OK');
  });

  it('CONFIG SET accepts every value CONFIG GET returns', async () => {
    const r = t.ioredis();
    const all = (await r.config('GET', '*')) as string[];
    for (let i = 0; i < all.length; i += 2) {
      const res = await r.call('config', 'set', all[i]!, all[i + 1]!).catch((e: Error) => e.message);
      if (res !== 'OK') expect(res).toMatch(/immutable|protected/);
    }
  });

  it('CONFIG RESETSTAT, REWRITE without a file, HELP', async () => {
    const r = t.ioredis();
    await r.call('bogus').catch(() => undefined);
    expect(await r.call('config', 'resetstat')).toBe('OK');
    const info = (await r.info('all')) as string;
    expect(info).not.toContain('errorstat_ERR');
    expect(infoField(info, 'total_error_replies')).toBe('0');
    await expect(r.call('config', 'rewrite')).rejects.toThrow('ERR The server is running without a config file');
    expect(((await r.call('config', 'help')) as string[])[0]).toBe('CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
  });

  it('CONFIG REWRITE writes the running values into the config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-conf-'));
    const file = join(dir, 'redis.conf');
    writeFileSync(file, '# my config\nhz 10\nmaxmemory-policy noeviction\n');
    t.server.config.file = file;
    try {
      const r = t.ioredis();
      await r.call('config', 'set', 'hz', '15', 'maxmemory-samples', '7');
      expect(await r.call('config', 'rewrite')).toBe('OK');
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('# my config\nhz 15\nmaxmemory-policy noeviction\n');
      expect(text).toContain('maxmemory-samples 7');
      await r.call('config', 'set', 'hz', '10');
    } finally {
      t.server.config.file = '';
    }
  });

  it('TIME and LASTSAVE', async () => {
    const r = t.ioredis();
    const [sec, usec] = (await r.time()) as unknown as [string, string];
    expect(Number(sec)).toBeGreaterThan(1_600_000_000);
    expect(Number(usec)).toBeLessThan(1_000_000);
    expect(await r.lastsave()).toBe(t.server.lastSaveSec);
  });

  it('SLOWLOG GET / LEN / RESET / HELP', async () => {
    const r = t.ioredis();
    await r.config('SET', 'slowlog-log-slower-than', '0');
    await r.call('slowlog', 'reset');
    await r.ping();
    await r.call('client', 'setname', 'slow');
    await r.set('a', 'b');
    const entries = (await r.call('slowlog', 'get', '1')) as unknown[][];
    expect(entries).toHaveLength(1);
    expect(entries[0]![3]).toEqual(['set', 'a', 'b']);
    expect(entries[0]![5]).toBe('slow');
    expect(await r.call('slowlog', 'len')).toBeGreaterThan(1);
    expect(((await r.call('slowlog', 'get', '-1')) as unknown[]).length).toBeGreaterThan(1);
    await expect(r.call('slowlog', 'get', '-2')).rejects.toThrow('ERR count should be greater than or equal to -1');
    await r.config('SET', 'slowlog-log-slower-than', '10000');
    expect(await r.call('slowlog', 'reset')).toBe('OK');
    expect(await r.call('slowlog', 'len')).toBe(0);
    expect(((await r.call('slowlog', 'help')) as string[])[0]).toContain('SLOWLOG <subcommand>');
  });

  it('MONITOR streams commands run by other clients', async () => {
    const m = await t.connect();
    m.write('MONITOR\r\n');
    expect(await m.lines(1)).toBe('+OK\r\n');
    const r = t.ioredis();
    await r.set('foo', 'bar');
    const line = await m.until((s) => s.includes('"foo"'));
    const setLine = line.split('\r\n').find((l) => l.includes('"foo"'));
    expect(setLine).toMatch(/^\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "set" "foo" "bar"$/);
    m.close();
  });

  it('MEMORY USAGE / DOCTOR / STATS / HELP', async () => {
    const r = t.ioredis();
    await r.set('mem', 'x'.repeat(100));
    expect(await r.call('memory', 'usage', 'mem')).toBeGreaterThan(100);
    expect(await r.call('memory', 'usage', 'mem', 'samples', '0')).toBeGreaterThan(100);
    expect(await r.call('memory', 'usage', 'missing')).toBeNull();
    await expect(r.call('memory', 'usage', 'mem', 'bogus')).rejects.toThrow('ERR syntax error');
    expect(await r.call('memory', 'doctor')).toMatch(/^Hi Sam/);
    const stats = (await r.call('memory', 'stats')) as unknown[];
    expect(stats).toContain('keys.count');
    expect(((await r.call('memory', 'help')) as string[])[0]).toContain('MEMORY <subcommand>');
  });

  it('DEBUG SLEEP / SET-ACTIVE-EXPIRE / OBJECT / CHANGE-REPL-ID / PROTOCOL', async () => {
    const r = t.ioredis();
    expect(await r.call('debug', 'sleep', '0')).toBe('OK');
    expect(await r.call('debug', 'set-active-expire', '0')).toBe('OK');
    expect(t.server.activeExpireEnabled).toBe(false);
    await r.call('debug', 'set-active-expire', '1');
    await r.set('obj', '12345');
    expect(await r.call('debug', 'object', 'obj')).toMatch(/^Value at:\S+ refcount:1 encoding:int serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$/);
    await expect(r.call('debug', 'object', 'nokey')).rejects.toThrow('ERR no such key');
    const before = t.server.replId;
    expect(await r.call('debug', 'change-repl-id')).toBe('OK');
    expect(t.server.replId).not.toBe(before);
    expect(await r.call('debug', 'protocol', 'bignum')).toBe('1234567999999999999999999999999999999');
    await expect(r.call('debug', 'protocol', 'bogus')).rejects.toThrow('ERR Wrong protocol type name');
    await expect(r.call('debug', 'bogus')).rejects.toThrow("ERR unknown subcommand or wrong number of arguments for 'bogus'. Try DEBUG HELP.");
  });

  it('SHUTDOWN argument errors and ABORT', async () => {
    const r = t.ioredis();
    await expect(r.call('shutdown', 'bogus')).rejects.toThrow('ERR syntax error');
    await expect(r.call('shutdown', 'save', 'nosave')).rejects.toThrow('ERR syntax error');
    await expect(r.call('shutdown', 'abort')).rejects.toThrow('ERR No shutdown in progress.');
  });
});

describe('SHUTDOWN', () => {
  it('calls the registered shutdown handler', async () => {
    const t = await startServer();
    let called = false;
    t.server.onShutdown(() => {
      called = true;
      void t.server.stop();
    });
    const c = await RawClient.connect(t.port);
    c.write('SHUTDOWN NOSAVE\r\n');
    await c.closedByServer();
    expect(called).toBe(true);
    await t.stop();
  });

  it('enforces maxclients', async () => {
    const t = await startServer({ maxclients: '1' });
    const a = await RawClient.connect(t.port);
    a.write('PING\r\n');
    await a.lines(1);
    const b = await RawClient.connect(t.port);
    expect(await b.closedByServer()).toBe('-ERR max number of clients reached\r\n');
    a.close();
    await t.stop();
  });
});

describe('a handler that throws', () => {
  const t = useServer();

  it('gets the client an error reply and leaves the node serving everyone', async () => {
    const cmd = t.server.commands.lookupTop('echo')!;
    const original = cmd.handler;
    cmd.handler = () => {
      throw new Error('simulated bug');
    };
    try {
      const r = t.ioredis();
      await expect(r.echo('x')).rejects.toThrow("ERR internal error running 'echo' command");
      expect(await r.ping()).toBe('PONG');
      expect(await t.ioredis().set('k', 'v')).toBe('OK');
    } finally {
      cmd.handler = original;
    }
  });
});

/** A socket as the transport hands one over, from `remoteAddress`, recording what the server writes. */
function fakeSocket(remoteAddress: string): { socket: StreamSocket; written: string[]; ended: () => boolean } {
  const written: string[] = [];
  let ended = false;
  const socket: StreamSocket = {
    remoteAddress,
    remotePort: 40000,
    writableLength: 0,
    write: (d) => (written.push(String(d)), true),
    end: () => void (ended = true),
    destroy: () => void (ended = true),
    pause: () => undefined,
    resume: () => undefined,
    on() {
      return this;
    },
  };
  return { socket, written, ended: () => ended };
}

describe('protected-mode', () => {
  const open = useServer();
  const guarded = useServer({ config: { requirepass: 'pw' } });

  it('refuses clients from outside the loopback interface while no password is set, as Redis 7.0', () => {
    const outside = fakeSocket('10.1.2.3');
    open.server.accept(outside.socket);
    expect(outside.written.join('')).toMatch(/^-DENIED Redis is running in protected mode because protected mode is enabled and no password is set/);
    expect(outside.ended()).toBe(true);
    const local = fakeSocket('::ffff:127.0.0.5');
    open.server.accept(local.socket);
    expect(local.written).toEqual([]);
    expect(local.ended()).toBe(false);
  });

  it('serves outside clients with a password set, or with protected-mode no', async () => {
    const outside = fakeSocket('10.1.2.3');
    guarded.server.accept(outside.socket);
    expect(outside.ended()).toBe(false);
    await open.io.call('config', 'set', 'protected-mode', 'no');
    const again = fakeSocket('10.1.2.3');
    open.server.accept(again.socket);
    expect(again.ended()).toBe(false);
    await open.io.call('config', 'set', 'protected-mode', 'yes');
  });
});
