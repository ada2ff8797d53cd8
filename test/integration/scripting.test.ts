import type { Redis } from 'ioredis';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

/** Resolves with the reply or the error message, so replies and errors compare alike. */
async function settle(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('EVAL and SCRIPT', () => {
  const t = useServer();
  let r: Redis;

  beforeAll(() => {
    r = t.ioredis();
  });
  beforeEach(async () => {
    await r.call('flushall');
    await r.call('script', 'flush');
  });

  it('converts Lua values to replies as Redis does', async () => {
    expect(await r.eval("return {1, 2.9, 'x', true, false, {ok='fine'}, {3}}", 0)).toEqual([1, 2, 'x', 1, null, 'fine', [3]]);
    expect(await settle(r.eval("return {err='My Error'}", 0))).toBe('My Error');
    expect(await r.eval('return tostring(10/2)', 0)).toBe('5');
  });

  it('runs commands through the command table, with KEYS and ARGV', async () => {
    expect(await r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, 'k', 'v')).toBe('OK');
    expect(await r.eval("return redis.call('get', KEYS[1])", 1, 'k')).toBe('v');
    expect(await r.eval("return redis.call('incrby', 'n', 5) + 1", 0)).toBe(6);
    expect(await settle(r.eval("return redis.call('nosuch')", 0))).toMatch(/^ERR Unknown Redis command called from script script: [0-9a-f]{40}, on @user_script:1\.$/);
    expect(await settle(r.eval("return redis.pcall('lpush', 'k', 'x')", 0))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(await r.eval("local e = redis.pcall('lpush', 'k', 'x') return e.err", 0)).toMatch(/^WRONGTYPE/);
    expect(await settle(r.eval("return redis.call('eval', 'return 1', 0)", 0))).toMatch(/^ERR This Redis command is not allowed from script/);
  });

  it('refuses writes from EVAL_RO and no-writes scripts', async () => {
    expect(await settle(r.call('eval_ro', "return redis.call('set', 'a', 1)", '0'))).toMatch(/^ERR Write commands are not allowed from read-only scripts\./);
    expect(await settle(r.eval("#!lua flags=no-writes\nreturn redis.call('set', 'a', 1)", 0))).toMatch(/^ERR Write commands are not allowed/);
    expect(await settle(r.call('eval_ro', '#!lua\nreturn 1', '0'))).toBe('ERR Can not execute a script with write flag using *_ro command.');
  });

  it('protects globals', async () => {
    expect(await settle(r.eval('return a', 0))).toMatch(/Script attempted to access nonexistent global variable 'a'/);
    expect(await settle(r.eval('a = 1', 0))).toMatch(/Attempt to modify a readonly table/);
    expect(await settle(r.eval('redis.call = nil', 0))).toMatch(/Attempt to modify a readonly table/);
    expect(await settle(r.eval('setmetatable(_G, {})', 0))).toMatch(/Attempt to modify a readonly table/);
  });

  it('caches scripts by sha1 (SCRIPT LOAD/EXISTS/FLUSH, EVALSHA)', async () => {
    const sha = (await r.call('script', 'load', 'return 7')) as string;
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await r.evalsha(sha, 0)).toBe(7);
    expect(await r.call('script', 'exists', sha, 'ffffffffffffffffffffffffffffffffffffffff')).toEqual([1, 0]);
    expect(await r.call('script', 'flush')).toBe('OK');
    expect(await settle(r.evalsha(sha, 0))).toBe('NOSCRIPT No matching script. Please use EVAL.');
  });

  it('ships cjson, cmsgpack, bit and struct', async () => {
    expect(await r.eval("return cjson.encode(cjson.decode('[1,\"a\",{\"b\":true}]'))", 0)).toBe('[1,"a",{"b":true}]');
    expect(await r.eval("local s = cmsgpack.pack({1, 'x', 0.1}); local t = cmsgpack.unpack(s); return {t[1], t[2], #s}", 0)).toEqual([1, 'x', 13]);
    expect(await r.eval('return {bit.band(6, 3), bit.bor(1, 2), bit.tohex(255, 4)}', 0)).toEqual([2, 3, '00ff']);
    expect(await r.eval("return {struct.unpack('>I2', struct.pack('>I2', 258))}", 0)).toEqual([258, 3]);
  });

  it('writes from scripts take the write path: WATCH sees them', async () => {
    const w = t.ioredis();
    await w.call('watch', 'k');
    await r.eval("redis.call('set', 'k', 'v')", 0);
    expect(await w.multi().ping().exec()).toBeNull();
  });

  it('a busy script answers BUSY to others until SCRIPT KILL', async () => {
    await r.call('config', 'set', 'busy-reply-threshold', '10');
    const runner = t.ioredis();
    const looping = settle(runner.eval('while true do end', 0));
    let reply: unknown;
    do reply = await settle(r.ping());
    while (reply === 'PONG');
    expect(reply).toBe('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.');
    expect(await r.call('script', 'kill')).toBe('OK');
    expect(await looping).toMatch(/^ERR Script killed by user with SCRIPT KILL\.\.\./);
    expect(await r.ping()).toBe('PONG');
    expect(await settle(r.call('script', 'kill'))).toBe('NOTBUSY No scripts in execution right now.');
  });

  it('a busy script that wrote cannot be killed', async () => {
    await r.call('config', 'set', 'busy-reply-threshold', '10');
    const runner = t.ioredis();
    const looping = settle(runner.eval("redis.call('set', 'x', 1) local n = 0 while n < 3e6 do n = n + 1 end return n", 0));
    let reply: unknown;
    do reply = await settle(r.call('script', 'kill'));
    while (reply === 'NOTBUSY No scripts in execution right now.');
    expect(reply).toMatch(/^UNKILLABLE Sorry the script already executed write commands/);
    expect(await looping).toBe(3000000);
  });
});

describe('FUNCTION and FCALL', () => {
  const t = useServer();
  let r: Redis;
  const lib = "#!lua name=mylib\nredis.register_function('hello', function(keys, args) return 'hi ' .. args[1] end)\n" +
    "redis.register_function{function_name='ro', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";

  beforeAll(() => {
    r = t.ioredis();
  });
  beforeEach(async () => {
    await r.call('function', 'flush');
  });

  it('loads libraries and calls their functions', async () => {
    expect(await r.call('function', 'load', lib)).toBe('mylib');
    expect(await r.call('fcall', 'HELLO', '0', 'you')).toBe('hi you');
    await r.set('k', 'v');
    expect(await r.call('fcall_ro', 'ro', '1', 'k')).toBe('v');
    expect(await settle(r.call('fcall_ro', 'hello', '0', 'x'))).toBe('ERR Can not execute a script with write flag using *_ro command.');
    expect(await settle(r.call('function', 'load', lib))).toBe("ERR Library 'mylib' already exists");
    expect(await r.call('function', 'load', 'replace', lib)).toBe('mylib');
  });

  it('lists, dumps, restores and deletes libraries', async () => {
    await r.call('function', 'load', lib);
    expect(await r.call('function', 'list')).toEqual([
      ['library_name', 'mylib', 'engine', 'LUA', 'functions', [
        ['name', 'hello', 'description', null, 'flags', []],
        ['name', 'ro', 'description', null, 'flags', ['no-writes']],
      ]],
    ]);
    const dump = (await r.callBuffer('function', 'dump')) as Buffer;
    expect(await r.call('function', 'delete', 'mylib')).toBe('OK');
    expect(await settle(r.call('fcall', 'hello', '0', 'x'))).toBe('ERR Function not found');
    expect(await r.call('function', 'restore', dump)).toBe('OK');
    expect(await r.call('fcall', 'hello', '0', 'x')).toBe('hi x');
  });

  it('offers only the load API while a library loads', async () => {
    expect(await settle(r.call('function', 'load', "#!lua name=bad\nreturn redis.call('ping')"))).toMatch(/attempted to access nonexistent global variable 'call'/);
    expect(await settle(r.call('function', 'load', '#!lua name=empty\nlocal x = 1'))).toBe('ERR No functions registered');
  });
});
