import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

const WRONGTYPE = /^WRONGTYPE Operation against a key holding the wrong kind of value/;
const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

/**
 * A DUMP payload made by Redis 7.0.15 (LZF-compressed node): stream s with
 * entries 1-1 {a 1} and 2-1 {a 2 b x}, group g (last id 1-1, entries-read
 * 1) whose consumer alice has 1-1 pending (delivered at 1000 ms, once).
 */
const REDIS_PAYLOAD = Buffer.from(
  '13011000000000000000010000000000000001c32931103100000013000201000101018161020001400a400c00046005400f201620040762028178' +
  '020801ff02020101010000020101670101010100000000000000010000000000000001e803000000000000010105616c696365ba42ab01a2010000' +
  '01000000000000000100000000000000010a003d6ca60ae0381bca',
  'hex',
);

describe('stream commands', () => {
  const t = useServer();
  const { io, events, each, fails } = t;

  async function blockedCount(n: number): Promise<void> {
    while (t.server.blocking.blockedCount !== n) await new Promise((r) => setTimeout(r, 2));
  }

  it('XADD with explicit, partial and automatic IDs; XLEN; XRANGE; XREVRANGE', async () => {
    await each(async (c) => {
      expect(await c.call('xadd', 's', '1-1', 'a', '1')).toBe('1-1');
      expect(await c.call('xadd', 's', '1-*', 'a', '2')).toBe('1-2');
      expect(await c.call('xadd', 's', '5', 'a', '3')).toBe('5-0');
      const auto = (await c.call('xadd', 's', '*', 'b', '4')) as string;
      expect(auto).toMatch(/^\d+-\d+$/);
      expect(await c.call('xlen', 's')).toBe(4);
      expect(await c.call('xlen', 'nokey')).toBe(0);
      expect(await c.call('xrange', 's', '-', '+', 'COUNT', 2)).toEqual([['1-1', ['a', '1']], ['1-2', ['a', '2']]]);
      expect(await c.call('xrange', 's', '(1-1', '5')).toEqual([['1-2', ['a', '2']], ['5-0', ['a', '3']]]);
      expect(await c.call('xrevrange', 's', '+', '-', 'COUNT', 1)).toEqual([[auto, ['b', '4']]]);
      expect(await c.call('xrevrange', 's', '(5-0', '-')).toEqual([['1-2', ['a', '2']], ['1-1', ['a', '1']]]);
      expect(await c.call('xrange', 'nokey', '-', '+')).toEqual([]);
      expect(events).toEqual(['xadd:s', 'xadd:s', 'xadd:s', 'xadd:s']);
    });
  });

  it('XADD and XRANGE errors use Redis texts', async () => {
    await each(async (c) => {
      await c.call('xadd', 's', '5-5', 'a', '1');
      await fails(c, 'ERR The ID specified in XADD is equal or smaller than the target stream top item', 'xadd', 's', '5-5', 'a', '1');
      await fails(c, 'ERR The ID specified in XADD must be greater than 0-0', 'xadd', 'n', '0-0', 'a', '1');
      await fails(c, INVALID_ID, 'xadd', 's', 'bad', 'a', '1');
      await fails(c, "ERR wrong number of arguments for 'xadd' command", 'xadd', 's', '*', 'a');
      await fails(c, 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible', 'xadd', 's', 'MAXLEN', '1', 'MINID', '1', '*', 'a', '1');
      await fails(c, 'ERR syntax error, LIMIT cannot be used without the special ~ option', 'xadd', 's', 'MAXLEN', '1', 'LIMIT', '1', '*', 'a', '1');
      await fails(c, 'ERR The MAXLEN argument must be >= 0.', 'xtrim', 's', 'MAXLEN', '-1');
      await fails(c, 'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy', 'xtrim', 's', 'LIMIT', '1');
      await fails(c, 'ERR syntax error, XTRIM must be called with a trimming strategy', 'xtrim', 's', 'LIMIT', '0');
      await fails(c, 'ERR invalid start ID for the interval', 'xrange', 's', '(18446744073709551615-18446744073709551615', '+');
      await fails(c, 'ERR invalid end ID for the interval', 'xrange', 's', '-', '(0-0');
      await fails(c, INVALID_ID, 'xrange', 's', '(-', '+');
      await c.call('set', 'str', 'v');
      await fails(c, WRONGTYPE, 'xadd', 'str', '*', 'a', '1');
      expect(await c.call('xadd', 'nokey', 'NOMKSTREAM', '*', 'a', '1')).toBeNull();
      expect(await c.call('exists', 'nokey')).toBe(0);
    });
  });

  it('XDEL, XTRIM MAXLEN/MINID (exact and ~ with LIMIT), XSETID', async () => {
    await io.call('config', 'set', 'stream-node-max-entries', '10');
    for (let i = 1; i <= 100; i++) await io.call('xadd', 's', `${i}-0`, 'f', String(i));
    expect(await io.call('xadd', 's', 'MAXLEN', '~', '55', 'LIMIT', '30', '101-0', 'f', 'v')).toBe('101-0');
    expect(await io.call('xlen', 's')).toBe(71);
    expect(await io.call('xtrim', 's', 'MAXLEN', '~', '55')).toBe(10);
    expect(await io.call('xtrim', 's', 'MINID', '=', '60')).toBe(19);
    expect(await io.call('xdel', 's', '60-0', '61-0', '999-0')).toBe(2);
    expect(await io.call('xrange', 's', '-', '+', 'COUNT', 1)).toEqual([['62-0', ['f', '62']]]);
    await fails(io, 'ERR The ID specified in XSETID is smaller than the target stream top item', 'xsetid', 's', '5-0');
    expect(await io.call('xsetid', 's', '200-0', 'ENTRIESADDED', '500', 'MAXDELETEDID', '150-0')).toBe('OK');
    await fails(io, 'ERR no such key', 'xsetid', 'nokey', '1-0');
    expect(events).toEqual([...Array(101).fill('xadd:s'), 'xtrim:s', 'xtrim:s', 'xtrim:s', 'xdel:s', 'xsetid:s']);
    await io.call('config', 'set', 'stream-node-max-entries', '100');
  });

  it('consumer groups: XGROUP, XREADGROUP, XACK, XPENDING with their events', async () => {
    await io.call('xadd', 's', '1-0', 'a', '1');
    await io.call('xadd', 's', '2-0', 'a', '2');
    expect(await io.call('xgroup', 'create', 's', 'g', '0')).toBe('OK');
    await fails(io, 'BUSYGROUP Consumer Group name already exists', 'xgroup', 'create', 's', 'g', '0');
    await fails(io, /^ERR The XGROUP subcommand requires the key to exist/, 'xgroup', 'create', 'nokey', 'g', '$');
    expect(await io.call('xgroup', 'create', 'new', 'g', '$', 'MKSTREAM')).toBe('OK');
    expect(await io.call('xreadgroup', 'GROUP', 'g', 'alice', 'COUNT', 1, 'STREAMS', 's', '>')).toEqual([['s', [['1-0', ['a', '1']]]]]);
    expect(await io.call('xreadgroup', 'GROUP', 'g', 'alice', 'STREAMS', 's', '0')).toEqual([['s', [['1-0', ['a', '1']]]]]);
    const summary = await io.call('xpending', 's', 'g');
    expect(summary).toEqual([1, '1-0', '1-0', [['alice', '1']]]);
    const [row] = (await io.call('xpending', 's', 'g', '-', '+', 10)) as [string, string, number, number][];
    expect([row![0], row![1], row![3]]).toEqual(['1-0', 'alice', 2]);
    expect(await io.call('xack', 's', 'g', '1-0', '9-0')).toBe(1);
    expect(await io.call('xpending', 's', 'g')).toEqual([0, null, null, null]);
    await fails(io, "NOGROUP No such key 's' or consumer group 'nope' in XREADGROUP with GROUP option",
      'xreadgroup', 'GROUP', 'nope', 'c', 'STREAMS', 's', '>');
    expect(await io.call('xgroup', 'createconsumer', 's', 'g', 'bob')).toBe(1);
    expect(await io.call('xgroup', 'delconsumer', 's', 'g', 'alice')).toBe(0);
    expect(await io.call('xgroup', 'setid', 's', 'g', '$')).toBe('OK');
    expect(await io.call('xgroup', 'destroy', 's', 'g')).toBe(1);
    expect(events).toEqual([
      'xadd:s', 'xadd:s', 'xgroup-create:s', 'xgroup-create:new', 'xgroup-createconsumer:s',
      'xgroup-createconsumer:s', 'xgroup-delconsumer:s', 'xgroup-setid:s', 'xgroup-destroy:s',
    ]);
  });

  it('XCLAIM and XAUTOCLAIM move pending entries and drop deleted ones', async () => {
    for (let i = 1; i <= 3; i++) await io.call('xadd', 's', `${i}-0`, 'f', String(i));
    await io.call('xgroup', 'create', 's', 'g', '0');
    await io.call('xreadgroup', 'GROUP', 'g', 'alice', 'STREAMS', 's', '>');
    expect(await io.call('xclaim', 's', 'g', 'bob', 0, '1-0', 'JUSTID')).toEqual(['1-0']);
    expect(await io.call('xclaim', 's', 'g', 'bob', 0, '2-0', 'RETRYCOUNT', 7)).toEqual([['2-0', ['f', '2']]]);
    await io.call('xdel', 's', '3-0');
    expect(await io.call('xautoclaim', 's', 'g', 'carol', 0, '0', 'COUNT', 10, 'JUSTID')).toEqual(['0-0', ['1-0', '2-0'], ['3-0']]);
    await fails(io, 'ERR COUNT must be > 0', 'xautoclaim', 's', 'g', 'c', 0, '0', 'COUNT', 0);
    await fails(io, "ERR Unrecognized XCLAIM option 'bad'", 'xclaim', 's', 'g', 'c', 0, '1-0', 'bad');
    await fails(io, "NOGROUP No such key 's' or consumer group 'x'", 'xclaim', 's', 'x', 'c', 0, '1-0');
    const pending = (await io.call('xpending', 's', 'g', '-', '+', 10, 'carol')) as unknown[][];
    expect(pending.map((r) => [r[0], r[3]])).toEqual([['1-0', 1], ['2-0', 7]]);
  });

  it('XINFO STREAM / GROUPS / CONSUMERS / HELP', async () => {
    await io.call('xadd', 's', '1-0', 'a', '1');
    await io.call('xadd', 's', '2-0', 'a', '2');
    await io.call('xgroup', 'create', 's', 'g', '0');
    await io.call('xreadgroup', 'GROUP', 'g', 'alice', 'COUNT', 1, 'STREAMS', 's', '>');
    const info = (await io.call('xinfo', 'stream', 's')) as unknown[];
    expect(info.slice(0, 2)).toEqual(['length', 2]);
    expect(info.slice(6)).toEqual([
      'last-generated-id', '2-0', 'max-deleted-entry-id', '0-0', 'entries-added', 2, 'recorded-first-entry-id', '1-0',
      'groups', 1, 'first-entry', ['1-0', ['a', '1']], 'last-entry', ['2-0', ['a', '2']],
    ]);
    expect(await io.call('xinfo', 'groups', 's')).toEqual([
      ['name', 'g', 'consumers', 1, 'pending', 1, 'last-delivered-id', '1-0', 'entries-read', 1, 'lag', 1],
    ]);
    const [consumer] = (await io.call('xinfo', 'consumers', 's', 'g')) as unknown[][];
    expect(consumer!.slice(0, 4)).toEqual(['name', 'alice', 'pending', 1]);
    const full = (await io.call('xinfo', 'stream', 's', 'FULL', 'COUNT', 1)) as unknown[];
    expect(full[14]).toBe('entries');
    expect(full[15]).toEqual([['1-0', ['a', '1']]]);
    await fails(io, "ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.", 'xinfo', 'stream', 's', 'bad');
    await fails(io, 'ERR no such key', 'xinfo', 'stream', 'nokey');
    expect(((await io.call('xinfo', 'help')) as string[])[0]).toMatch(/^XINFO <subcommand>/);
  });

  it('XREAD serves at once, with $, COUNT and several streams; RESP3 answers a map', async () => {
    await io.call('xadd', 'a', '1-0', 'f', 'v');
    await io.call('xadd', 'b', '2-0', 'f', 'w');
    expect(await io.call('xread', 'COUNT', 5, 'STREAMS', 'a', 'b', '0', '0')).toEqual([
      ['a', [['1-0', ['f', 'v']]]], ['b', [['2-0', ['f', 'w']]]],
    ]);
    expect(await io.call('xread', 'STREAMS', 'a', '$')).toBeNull();
    await fails(io, /^ERR Unbalanced XREAD list of streams/, 'xread', 'STREAMS', 'a', 'b', '0');
    await fails(io, 'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.', 'xread', 'STREAMS', 'a', '>');
    const r3 = await t.nodeRedis(3);
    const reply = await r3.sendCommand(['XREAD', 'STREAMS', 'a', '0']);
    expect(reply).toEqual({ a: [['1-0', ['f', 'v']]] });
  });

  it('a blocked XREAD is woken by XADD, also inside MULTI; times out via CLIENT UNBLOCK', async () => {
    const reader = t.ioredis();
    const read = reader.call('xread', 'BLOCK', 0, 'STREAMS', 's', '$');
    await blockedCount(1);
    await io.call('set', 'other', 'x');
    await t.ioredis().multi().xadd('s', '7-0', 'f', 'v').exec();
    expect(await read).toEqual([['s', [['7-0', ['f', 'v']]]]]);
    const id = String(await reader.client('ID'));
    const again = reader.call('xread', 'BLOCK', 0, 'STREAMS', 's', '$');
    await blockedCount(1);
    expect(await io.call('client', 'unblock', id)).toBe(1);
    expect(await again).toBeNull();
    const m = await t.ioredis().multi().call('xread', 'BLOCK', 0, 'STREAMS', 's', '$').exec();
    expect(m).toEqual([[null, null]]);
  });

  it('a blocked XREADGROUP gets entries, -NOGROUP when the group goes, -UNBLOCKED when the key goes', async () => {
    await io.call('xgroup', 'create', 's', 'g', '$', 'MKSTREAM');
    const reader = t.ioredis();
    const read = reader.call('xreadgroup', 'GROUP', 'g', 'alice', 'BLOCK', 0, 'STREAMS', 's', '>');
    await blockedCount(1);
    await io.call('xadd', 's', '1-0', 'f', 'v');
    expect(await read).toEqual([['s', [['1-0', ['f', 'v']]]]]);
    expect(await io.call('xpending', 's', 'g')).toEqual([1, '1-0', '1-0', [['alice', '1']]]);
    const destroyed = reader.call('xreadgroup', 'GROUP', 'g', 'alice', 'BLOCK', 0, 'STREAMS', 's', '>').catch((e: Error) => e.message);
    await blockedCount(1);
    await io.call('xgroup', 'destroy', 's', 'g');
    expect(await destroyed).toBe('NOGROUP the consumer group this client was blocked on no longer exists');
    await io.call('xgroup', 'create', 's', 'g', '$');
    const deleted = reader.call('xreadgroup', 'GROUP', 'g', 'alice', 'BLOCK', 0, 'STREAMS', 's', '>').catch((e: Error) => e.message);
    await blockedCount(1);
    await io.call('del', 's');
    expect(await deleted).toBe('UNBLOCKED the stream key no longer exists');
  });

  it('TYPE, OBJECT ENCODING, SCAN TYPE, RENAME, COPY, EXPIRE; DUMP/RESTORE with Redis payloads', async () => {
    await io.call('xadd', 's', '1-0', 'f', 'v');
    await io.call('xgroup', 'create', 's', 'g', '0');
    expect(await io.call('type', 's')).toBe('stream');
    expect(await io.call('object', 'encoding', 's')).toBe('stream');
    await io.call('set', 'str', 'x');
    expect(await io.call('scan', 0, 'TYPE', 'stream')).toEqual(['0', ['s']]);
    expect(await io.call('copy', 's', 'c')).toBe(1);
    await io.call('xadd', 'c', '2-0', 'f', 'w');
    expect(await io.call('xlen', 's')).toBe(1);
    expect(await io.call('rename', 'c', 'r')).toBe('OK');
    expect(await io.call('xlen', 'r')).toBe(2);
    expect(await io.call('expire', 'r', 100)).toBe(1);
    const dump = (await t.ioredis().dumpBuffer('s'))!;
    expect(await io.call('restore', 'back', 0, dump)).toBe('OK');
    expect(await io.call('xinfo', 'groups', 'back')).toEqual(await io.call('xinfo', 'groups', 's'));
    expect(await io.call('restore', 'fromredis', 0, REDIS_PAYLOAD)).toBe('OK');
    expect(await io.call('xrange', 'fromredis', '-', '+')).toEqual([['1-1', ['a', '1']], ['2-1', ['a', '2', 'b', 'x']]]);
    const full = (await io.call('xinfo', 'stream', 'fromredis', 'FULL')) as unknown[];
    const group = (full[17] as unknown[][])[0]!;
    expect(group.slice(0, 10)).toEqual(['name', 'g', 'last-delivered-id', '1-1', 'entries-read', 1, 'lag', 1, 'pel-count', 1]);
    expect(group[11]).toEqual([['1-1', 'alice', 1000, 1]]);
  });
});
