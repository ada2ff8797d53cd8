import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

describe('COMMAND', () => {
  const t = useServer();

  it('COMMAND INFO has Redis 7.0 shape', async () => {
    const r = t.ioredis();
    const [get] = (await r.call('command', 'info', 'get')) as unknown[][];
    expect(get!.slice(0, 8)).toEqual(['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast'], []]);
    expect(get![8]).toEqual([['flags', ['RO', 'access'], 'begin_search', ['type', 'index', 'spec', ['index', 1]],
      'find_keys', ['type', 'range', 'spec', ['lastkey', 0, 'keystep', 1, 'limit', 0]]]]);
    expect(get![9]).toEqual([]);
    const [config] = (await r.call('command', 'info', 'config')) as unknown[][];
    const subs = config![9] as unknown[][];
    expect(subs.map((s) => s[0])).toContain('config|get');
    expect(await r.call('command', 'info', 'get|key', 'config|get|key', 'nope')).toEqual([null, null, null]);
    const [cg] = (await r.call('command', 'info', 'config|get')) as unknown[][];
    expect(cg![0]).toBe('config|get');
  });

  it('COMMAND, COUNT and LIST agree with the table', async () => {
    const r = t.ioredis();
    const all = (await r.call('command')) as unknown[][];
    expect(await r.call('command', 'count')).toBe(all.length);
    const list = (await r.call('command', 'list')) as string[];
    expect(list).toContain('client|list');
    expect(list).toContain('get');
    expect(await r.call('command', 'list', 'filterby', 'pattern', 'get')).toEqual(['get']);
    expect(await r.call('command', 'list', 'filterby', 'pattern', 'config|*re*')).toEqual(expect.arrayContaining(['config|resetstat', 'config|rewrite']));
    expect(await r.call('command', 'list', 'filterby', 'aclcat', 'connection')).toContain('client|id');
    expect(await r.call('command', 'list', 'filterby', 'aclcat', 'nonexisting')).toEqual([]);
    expect(await r.call('command', 'list', 'filterby', 'module', 'x')).toEqual([]);
    await expect(r.call('command', 'list', 'bad')).rejects.toThrow('ERR syntax error');
    await expect(r.call('command', 'list', 'filterby', 'bad', 'x')).rejects.toThrow('ERR syntax error');
  });

  it('COMMAND DOCS derives arguments from the syntax', async () => {
    const r = t.ioredis();
    const docs = (await r.call('command', 'docs', 'get', 'nope')) as unknown[];
    expect(docs[0]).toBe('get');
    expect(docs[1]).toEqual(['summary', 'Returns the string value of a key.', 'since', '1.0.0', 'group', 'string', 'complexity', 'O(1)',
      'arguments', [['name', 'key', 'type', 'key', 'key_spec_index', 0]]]);
    const cl = (await r.call('command', 'docs', 'client')) as unknown[];
    const fields = cl[1] as unknown[];
    expect(fields).toContain('subcommands');
    const quit = ((await r.call('command', 'docs', 'quit')) as unknown[])[1] as unknown[];
    expect(quit).toEqual(expect.arrayContaining(['doc_flags', ['deprecated'], 'deprecated_since', '7.2.0']));
  });

  it('COMMAND GETKEYS / GETKEYSANDFLAGS and their errors', async () => {
    const r = t.ioredis();
    expect(await r.call('command', 'getkeys', 'get', 'key')).toEqual(['key']);
    expect(await r.call('command', 'getkeys', 'memory', 'usage', 'key')).toEqual(['key']);
    expect(await r.call('command', 'getkeysandflags', 'get', 'k')).toEqual([['k', ['RO', 'access']]]);
    // SET's flags vary with its arguments: it only reads the old value with GET.
    expect(await r.call('command', 'getkeysandflags', 'set', 'k', 'v')).toEqual([['k', ['OW', 'update']]]);
    expect(await r.call('command', 'getkeysandflags', 'set', 'k', 'v', 'get')).toEqual([['k', ['RW', 'access', 'update']]]);
    await expect(r.call('command', 'getkeys', 'nope', 'x')).rejects.toThrow('ERR Invalid command specified');
    await expect(r.call('command', 'getkeys', 'ping', 'x')).rejects.toThrow('ERR The command has no key arguments');
    await expect(r.call('command', 'getkeys', 'get')).rejects.toThrow('ERR Invalid number of arguments specified for command');
  });

  it('MEMORY USAGE grows with every collection type, sampled or counted whole', async () => {
    const r = t.ioredis();
    const members = Array.from({ length: 20_000 }, (_, i) => `member:${i}`);
    await r.rpush('mu:list', ...members);
    await r.sadd('mu:set', ...members);
    await r.hset('mu:hash', ...members.flatMap((m) => [m, 'v']));
    await r.zadd('mu:zset', ...members.flatMap((m, i) => [i, m]));
    await r.rpush('mu:small', 'a');
    for (const key of ['mu:list', 'mu:set', 'mu:hash', 'mu:zset']) {
      const sampled = Number(await r.call('memory', 'usage', key));
      const whole = Number(await r.call('memory', 'usage', key, 'samples', '0'));
      // At least the member bytes themselves, for the default 5 samples and for all of them.
      expect(sampled).toBeGreaterThan(20_000 * 'member:1000'.length);
      expect(whole).toBeGreaterThan(20_000 * 'member:1000'.length);
    }
    expect(Number(await r.call('memory', 'usage', 'mu:small'))).toBeLessThan(1000);
    expect(await r.call('memory', 'usage', 'mu:none')).toBeNull();
  });

  it('used_memory drops at once when a key is deleted, as Redis\'s does', async () => {
    const r = t.ioredis();
    const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);
    const value = 'x'.repeat(1000);
    await r.sadd('um:set', ...Array.from({ length: 20_000 }, (_, i) => `member-${i}-${value.slice(0, 100)}`));
    const beforeUnlink = await used();
    expect(await r.unlink('um:set')).toBe(1);
    expect(await used()).toBeLessThan(beforeUnlink - 1_000_000);
  });

  it('used_memory drops at once when a key expires, as when it is deleted', async () => {
    const r = t.ioredis();
    const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await r.info('memory'))![1]);
    await r.sadd('um:exp', ...Array.from({ length: 20_000 }, (_, i) => `member-${i}-${'y'.repeat(100)}`));
    const beforeExpiry = await used();
    await r.pexpire('um:exp', 1);
    // Expired when next looked at (lazily), whatever the active cycle did meanwhile.
    while ((await r.pttl('um:exp')) !== -2);
    expect(await r.exists('um:exp')).toBe(0);
    expect(await used()).toBeLessThan(beforeExpiry - 1_000_000);
  });

  it('COMMAND HELP and RESP3 sets', async () => {
    const r = t.ioredis();
    expect(((await r.call('command', 'help')) as string[])[0]).toBe('COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    const c = await t.connect(3);
    c.write('COMMAND INFO ping\r\n');
    const out = await c.until((s) => s.includes('@connection'));
    expect(out.startsWith('*1\r\n*10\r\n$4\r\nping\r\n:-1\r\n~1\r\n+fast\r\n')).toBe(true);
    c.close();
  });
});
