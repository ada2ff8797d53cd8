import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

describe('string commands', () => {
  const t = useServer();
  const { io, resp3, events, each } = t;

  /** A non-string key, made directly in the keyspace (the list commands live elsewhere). */
  function makeList(key: string): void {
    t.db().add(key, 'list', []);
  }

  function expireAt(key: string): number | undefined {
    return t.db().lookup(key)?.expireAt;
  }

  it('SET and GET, including the null reply of a missing key', async () => {
    await each(async (c) => {
      expect(await c.call('set', 'k', 'v')).toBe('OK');
      expect(await c.call('get', 'k')).toBe('v');
      expect(await c.call('get', 'missing')).toBeNull();
      expect(await c.call('set', 'empty', '')).toBe('OK');
      expect(await c.call('get', 'empty')).toBe('');
    });
  });

  it('SET NX / XX / GET combinations', async () => {
    await each(async (c) => {
      expect(await c.call('set', 'k', '1', 'nx')).toBe('OK');
      expect(await c.call('set', 'k', '2', 'NX')).toBeNull();
      expect(await c.call('set', 'other', '1', 'xx')).toBeNull();
      expect(await c.call('set', 'k', '3', 'xx')).toBe('OK');
      expect(await c.call('set', 'k', '4', 'get')).toBe('3');
      expect(await c.call('set', 'new', 'a', 'get')).toBeNull();
      expect(await c.call('set', 'k', '5', 'get', 'nx')).toBe('4');
      expect(await c.call('get', 'k')).toBe('4');
      expect(await c.call('set', 'nope', 'x', 'get', 'xx')).toBeNull();
      expect(await c.call('get', 'nope')).toBeNull();
      expect(await c.call('set', 'k', '6', 'GET', 'XX')).toBe('4');
      expect(await c.call('get', 'k')).toBe('6');
    });
  });

  it('SET with expire options stores the absolute expire time', async () => {
    const before = Date.now();
    await io.call('set', 'ex', 'v', 'ex', 100);
    await io.call('set', 'px', 'v', 'px', 100000);
    await io.call('set', 'exat', 'v', 'exat', 4102444800);
    await io.call('set', 'pxat', 'v', 'pxat', 4102444800123);
    const after = Date.now();
    expect(expireAt('ex')).toBeGreaterThanOrEqual(before + 100000);
    expect(expireAt('ex')).toBeLessThanOrEqual(after + 100000);
    expect(expireAt('px')).toBeGreaterThanOrEqual(before + 100000);
    expect(expireAt('exat')).toBe(4102444800000);
    expect(expireAt('pxat')).toBe(4102444800123);
    expect(events).toContain('expire:ex');
    await io.call('set', 'ex', 'w');
    expect(expireAt('ex')).toBe(0);
    await io.call('set', 'px', 'w', 'keepttl');
    expect(expireAt('px')).toBeGreaterThan(0);
    expect(await io.call('set', 'pxat', 'v', 'xx', 'pxat', 1)).toBe('OK');
    expect(await io.call('get', 'pxat')).toBeNull();
  });

  it('SET syntax and expire errors', async () => {
    const syntax = [
      ['nx', 'xx'],
      ['xx', 'nx'],
      ['ex', '10', 'px', '100'],
      ['ex', '10', 'keepttl'],
      ['keepttl', 'ex', '10'],
      ['ex'],
      ['persist'],
      ['bogus'],
      ['exat', '1', 'pxat', '1'],
    ];
    await each(async (c) => {
      for (const opts of syntax) await expect(c.call('set', 'k', 'v', ...opts)).rejects.toThrow('ERR syntax error');
      for (const [opt, value] of [['ex', '0'], ['ex', '-1'], ['px', '0'], ['exat', '0'], ['pxat', '-5'], ['ex', '9223372036854776'], ['px', '9223372036854775807']]) {
        await expect(c.call('set', 'k', 'v', opt!, value!)).rejects.toThrow("ERR invalid expire time in 'set' command");
      }
      await expect(c.call('set', 'k', 'v', 'ex', 'ten')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(c.call('set', 'k')).rejects.toThrow("ERR wrong number of arguments for 'set' command");
      expect(await c.call('get', 'k')).toBeNull();
      expect(await c.call('set', 'k', 'v', 'ex', '10', 'ex', '20', 'get', 'get')).toBeNull();
      expect(await c.call('set', 'k', 'v', 'pxat', '9223372036854775807')).toBe('OK');
    });
  });

  it('SET GET against a non-string is WRONGTYPE and leaves the key alone', async () => {
    await each(async (c) => {
      makeList('l');
      await expect(c.call('set', 'l', 'v', 'get')).rejects.toThrow('WRONGTYPE Operation against a key holding the wrong kind of value');
      await expect(c.call('get', 'l')).rejects.toThrow('WRONGTYPE');
      expect(t.server.keyspace.db(0).lookup('l')?.type).toBe('list');
      expect(await c.call('set', 'l', 'v')).toBe('OK');
      expect(await c.call('get', 'l')).toBe('v');
    });
  });

  it('SETNX, SETEX, PSETEX, GETSET', async () => {
    await each(async (c) => {
      expect(await c.call('setnx', 'k', 'a')).toBe(1);
      expect(await c.call('setnx', 'k', 'b')).toBe(0);
      expect(await c.call('get', 'k')).toBe('a');
      expect(await c.call('setex', 'k', 100, 'b')).toBe('OK');
      expect(expireAt('k')).toBeGreaterThan(Date.now() + 90000);
      expect(await c.call('psetex', 'p', 100000, 'c')).toBe('OK');
      expect(expireAt('p')).toBeGreaterThan(Date.now() + 90000);
      await expect(c.call('setex', 'k', 0, 'v')).rejects.toThrow("ERR invalid expire time in 'setex' command");
      await expect(c.call('psetex', 'k', -1, 'v')).rejects.toThrow("ERR invalid expire time in 'psetex' command");
      await expect(c.call('setex', 'k', 'x', 'v')).rejects.toThrow('ERR value is not an integer or out of range');
      expect(await c.call('getset', 'g', '1')).toBeNull();
      expect(await c.call('getset', 'g', '2')).toBe('1');
      expect(await c.call('getset', 'k', 'plain')).toBe('b');
      expect(expireAt('k')).toBe(0);
      makeList('l');
      await expect(c.call('getset', 'l', 'x')).rejects.toThrow('WRONGTYPE');
      await expect(c.call('setnx', 'k')).rejects.toThrow("ERR wrong number of arguments for 'setnx' command");
    });
  });

  it('GETEX options, errors and GETDEL', async () => {
    await each(async (c) => {
      await c.call('set', 'k', 'v');
      expect(await c.call('getex', 'k')).toBe('v');
      expect(expireAt('k')).toBe(0);
      expect(await c.call('getex', 'k', 'ex', 100)).toBe('v');
      expect(expireAt('k')).toBeGreaterThan(Date.now() + 90000);
      expect(await c.call('getex', 'k', 'persist')).toBe('v');
      expect(expireAt('k')).toBe(0);
      expect(await c.call('getex', 'k', 'pxat', 4102444800123)).toBe('v');
      expect(expireAt('k')).toBe(4102444800123);
      expect(await c.call('getex', 'k', 'exat', 1)).toBe('v');
      expect(await c.call('get', 'k')).toBeNull();
      expect(await c.call('getex', 'missing', 'ex', 10)).toBeNull();
      await c.call('set', 'k', 'v');
      for (const opts of [['nx'], ['ex', '10', 'persist'], ['persist', 'px', '10'], ['keepttl'], ['get'], ['ex']]) {
        await expect(c.call('getex', 'k', ...opts)).rejects.toThrow('ERR syntax error');
      }
      await expect(c.call('getex', 'k', 'ex', 0)).rejects.toThrow("ERR invalid expire time in 'getex' command");
      await expect(c.call('getex', 'k', 'px', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(c.call('getex')).rejects.toThrow("ERR wrong number of arguments for 'getex' command");
      expect(await c.call('getdel', 'k')).toBe('v');
      expect(await c.call('getdel', 'k')).toBeNull();
      makeList('l');
      await expect(c.call('getdel', 'l')).rejects.toThrow('WRONGTYPE');
      await expect(c.call('getex', 'l', 'persist')).rejects.toThrow('WRONGTYPE');
    });
  });

  it('GETEX and GETDEL signal expire / persist / del', async () => {
    await io.call('set', 'k', 'v', 'ex', 100);
    events.length = 0;
    await io.call('getex', 'k', 'persist');
    await io.call('getex', 'k', 'persist');
    await io.call('getex', 'k', 'px', 5000);
    await io.call('getdel', 'k');
    expect(events).toEqual(['persist:k', 'expire:k', 'del:k']);
  });

  it('MSET, MSETNX, MGET', async () => {
    await each(async (c) => {
      expect(await c.call('mset', 'a', '1', 'b', '2')).toBe('OK');
      expect(await c.call('mget', 'a', 'b', 'c')).toEqual(['1', '2', null]);
      await expect(c.call('mset', 'a', '1', 'b')).rejects.toThrow("ERR wrong number of arguments for 'mset' command");
      await expect(c.call('msetnx', 'a', '1', 'b')).rejects.toThrow("ERR wrong number of arguments for 'msetnx' command");
      expect(await c.call('msetnx', 'c', '3', 'a', 'x')).toBe(0);
      expect(await c.call('mget', 'c', 'a')).toEqual([null, '1']);
      expect(await c.call('msetnx', 'c', '3', 'd', '4', 'c', '5')).toBe(1);
      expect(await c.call('mget', 'c', 'd')).toEqual(['5', '4']);
      makeList('l');
      expect(await c.call('mget', 'a', 'l')).toEqual(['1', null]);
      expect(await c.call('mset', 'l', 'now-a-string')).toBe('OK');
      expect(await c.call('get', 'l')).toBe('now-a-string');
    });
  });

  it('APPEND and STRLEN', async () => {
    await each(async (c) => {
      expect(await c.call('append', 'k', 'foo')).toBe(3);
      expect(await c.call('append', 'k', 'bar')).toBe(6);
      expect(await c.call('get', 'k')).toBe('foobar');
      expect(await c.call('strlen', 'k')).toBe(6);
      expect(await c.call('strlen', 'missing')).toBe(0);
      await c.call('set', 'n', -555);
      expect(await c.call('strlen', 'n')).toBe(4);
      makeList('l');
      await expect(c.call('append', 'l', 'x')).rejects.toThrow('WRONGTYPE');
      await expect(c.call('strlen', 'l')).rejects.toThrow('WRONGTYPE');
    });
  });

  it('APPEND keeps the TTL and grows large values in place', async () => {
    await io.call('set', 'k', 'x', 'ex', 100);
    const chunk = 'abcdefgh'.repeat(32 * 1024);
    let expected = 'x';
    for (let i = 0; i < 6; i++) {
      expected += chunk;
      expect(await io.call('append', 'k', chunk)).toBe(expected.length);
    }
    expect(await io.call('get', 'k')).toBe(expected);
    expect(expireAt('k')).toBeGreaterThan(0);
    expect(events.filter((e) => e === 'append:k')).toHaveLength(6);
  });

  it('GETRANGE and SUBSTR', async () => {
    await each(async (c) => {
      await c.call('set', 'k', 'Hello World');
      expect(await c.call('getrange', 'k', 0, 3)).toBe('Hell');
      expect(await c.call('getrange', 'k', 0, -1)).toBe('Hello World');
      expect(await c.call('getrange', 'k', -4, -1)).toBe('orld');
      expect(await c.call('getrange', 'k', -1, -4)).toBe('');
      expect(await c.call('getrange', 'k', 5, 3)).toBe('');
      expect(await c.call('getrange', 'k', 5, 5000)).toBe(' World');
      expect(await c.call('getrange', 'k', -5000, 10000)).toBe('Hello World');
      expect(await c.call('getrange', 'k', 0, '4294967297')).toBe('Hello World');
      expect(await c.call('substr', 'k', 6, -1)).toBe('World');
      expect(await c.call('getrange', 'missing', 0, -1)).toBe('');
      await expect(c.call('getrange', 'k', 'a', 1)).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(c.call('getrange', 'k', 0)).rejects.toThrow("ERR wrong number of arguments for 'getrange' command");
      makeList('l');
      await expect(c.call('getrange', 'l', 0, 1)).rejects.toThrow('WRONGTYPE');
    });
  });

  it('SETRANGE', async () => {
    await each(async (c) => {
      expect(await c.call('setrange', 'k', 1, 'foo')).toBe(4);
      expect(await c.call('get', 'k')).toBe('\0foo');
      expect(await c.call('setrange', 'e', 0, '')).toBe(0);
      expect(await c.call('get', 'e')).toBeNull();
      await c.call('set', 'k', 'foo');
      expect(await c.call('setrange', 'k', 0, '')).toBe(3);
      expect(await c.call('setrange', 'k', 1, 'b')).toBe(3);
      expect(await c.call('get', 'k')).toBe('fbo');
      expect(await c.call('setrange', 'k', 4, 'bar')).toBe(7);
      expect(await c.call('get', 'k')).toBe('fbo\0bar');
      await expect(c.call('setrange', 'k', -1, 'x')).rejects.toThrow('ERR offset is out of range');
      await expect(c.call('setrange', 'k', 'x', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(c.call('setrange', 'k', 536870911, 'xy')).rejects.toThrow(
        'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
      );
      await expect(c.call('setrange', 'big', '9223372036854775807', 'x')).rejects.toThrow('ERR string exceeds maximum allowed size');
      makeList('l');
      await expect(c.call('setrange', 'l', 0, 'x')).rejects.toThrow('WRONGTYPE');
    });
  });

  it('values are binary safe through every mutation', async () => {
    const r = t.ioredis();
    const bin = Buffer.from([0, 255, 13, 10, 128, 1, 0]);
    await r.set('b', bin);
    expect(await r.getBuffer('b')).toEqual(bin);
    await r.append('b', Buffer.from([200, 0]));
    expect(await r.getBuffer('b')).toEqual(Buffer.concat([bin, Buffer.from([200, 0])]));
    await r.setrange('b', 1, Buffer.from([7, 250]));
    expect(await r.getrangeBuffer('b', 0, 3)).toEqual(Buffer.from([0, 7, 250, 10]));
    expect(await r.strlen('b')).toBe(9);
    await r.append('b', Buffer.from([255]));
    expect((await r.getBuffer('b'))!.subarray(-3)).toEqual(Buffer.from([200, 0, 255]));
  });

  it('a reply queued before an in-place change keeps the old bytes', async () => {
    const size = 64 * 1024;
    await io.call('setrange', 'big', size - 1, 'z');
    const c = await t.connect();
    c.write(`GET big\r\nSETRANGE big 0 A\r\nGET big\r\n`);
    const text = await c.until((s) => s.length >= 2 * (size + 10) + 8);
    c.close();
    const first = text.indexOf('\r\n') + 2;
    expect(text.charCodeAt(first)).toBe(0);
    const second = text.indexOf('$', first + size);
    expect(text[text.indexOf('\r\n', second) + 2]).toBe('A');
  });

  it('INCR, DECR, INCRBY, DECRBY', async () => {
    await each(async (c) => {
      expect(await c.call('incr', 'n')).toBe(1);
      expect(await c.call('incr', 'n')).toBe(2);
      expect(await c.call('decr', 'n')).toBe(1);
      expect(await c.call('incrby', 'n', 17179869184)).toBe(17179869185);
      expect(await c.call('decrby', 'n', 17179869186)).toBe(-1);
      expect(await c.call('get', 'n')).toBe('-1');
      expect(await c.call('decrby', 'm', -5)).toBe(5);
      for (const bad of ['  11', '11 ', '007', '1.5', '+1', '', 'abc', '99999999999999999999']) {
        await c.call('set', 'bad', bad);
        await expect(c.call('incr', 'bad')).rejects.toThrow('ERR value is not an integer or out of range');
      }
      await expect(c.call('incrby', 'n', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(c.call('incrby', 'n', '9223372036854775808')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(c.call('decrby', 'n', '-9223372036854775808')).rejects.toThrow('ERR decrement would overflow');
      makeList('l');
      await expect(c.call('incr', 'l')).rejects.toThrow('WRONGTYPE');
    });
  });

  it('INCR is int64 exact at the edges', async () => {
    const r = t.ioredis();
    await r.set('n', '9223372036854775806');
    expect(await r.call('incr', 'n')).toBe(9223372036854775807);
    expect(await r.get('n')).toBe('9223372036854775807');
    await expect(r.incr('n')).rejects.toThrow('ERR increment or decrement would overflow');
    await r.set('n', '-9223372036854775807');
    await r.decr('n');
    expect(await r.get('n')).toBe('-9223372036854775808');
    await expect(r.decr('n')).rejects.toThrow('ERR increment or decrement would overflow');
    expect(await r.incrby('n', '9223372036854775807')).toBe(-1);
    await r.set('n', '9007199254740993');
    await r.incrby('n', '9007199254740993');
    expect(await r.get('n')).toBe('18014398509481986');
    const c = await t.connect();
    c.write('HELLO 3\r\nINCRBY n 1\r\n');
    expect(await c.until((s) => s.endsWith(':18014398509481987\r\n'))).toContain(':18014398509481987\r\n');
    c.close();
  });

  it('INCR keeps the TTL and signals incrby', async () => {
    await io.call('set', 'n', '5', 'ex', 100);
    events.length = 0;
    await io.call('incr', 'n');
    expect(expireAt('n')).toBeGreaterThan(0);
    expect(events).toEqual(['incrby:n']);
  });

  it('INCRBYFLOAT', async () => {
    await each(async (c) => {
      expect(await c.call('incrbyfloat', 'f', '1')).toBe('1');
      expect(await c.call('incrbyfloat', 'f', '0.25')).toBe('1.25');
      await c.call('set', 'f', '17179869184');
      expect(await c.call('incrbyfloat', 'f', '1.5')).toBe('17179869185.5');
      await c.call('set', 'f', '1e2');
      expect(await c.call('incrbyfloat', 'f', '5.0e3')).toBe('5100');
      expect(await c.call('incrbyfloat', 'f', '-5100')).toBe('0');
      await c.call('incrbyfloat', 'z', String(1 / 41));
      expect(await c.call('incrbyfloat', 'z', String(-1 / 41))).toBe('0');
      for (const bad of [' 11', '11 ', '1\u00002', 'abc', 'nan']) {
        await c.call('set', 'bad', bad);
        await expect(c.call('incrbyfloat', 'bad', '1')).rejects.toThrow('ERR value is not a valid float');
      }
      await expect(c.call('incrbyfloat', 'f', 'x')).rejects.toThrow('ERR value is not a valid float');
      await expect(c.call('incrbyfloat', 'f', '+inf')).rejects.toThrow('ERR increment would produce NaN or Infinity');
      makeList('l');
      await expect(c.call('incrbyfloat', 'l', '1')).rejects.toThrow('WRONGTYPE');
    });
  });

  it('LCS plain, LEN, IDX, MINMATCHLEN, WITHMATCHLEN', async () => {
    await each(async (c) => {
      await c.call('mset', 'a', 'ohmytext', 'b', 'mynewtext');
      expect(await c.call('lcs', 'a', 'b')).toBe('mytext');
      expect(await c.call('lcs', 'a', 'b', 'len')).toBe(6);
      expect(await c.call('lcs', 'a', 'missing')).toBe('');
      const ranges = [
        [[4, 7], [5, 8]],
        [[2, 3], [0, 1]],
      ];
      const withLen = [
        [[4, 7], [5, 8], 4],
        [[2, 3], [0, 1], 2],
      ];
      const idx = await c.call('lcs', 'a', 'b', 'idx');
      const idxLen = await c.call('lcs', 'a', 'b', 'idx', 'minmatchlen', 3, 'withmatchlen');
      if (c === resp3) {
        expect(idx).toEqual({ matches: ranges, len: 6 });
        expect(idxLen).toEqual({ matches: [withLen[0]], len: 6 });
      } else {
        expect(idx).toEqual(['matches', ranges, 'len', 6]);
        expect(idxLen).toEqual(['matches', [withLen[0]], 'len', 6]);
      }
      expect(await c.call('lcs', 'a', 'b', 'idx', 'withmatchlen', 'minmatchlen', -1)).toEqual(
        c === resp3 ? { matches: withLen, len: 6 } : ['matches', withLen, 'len', 6],
      );
      await expect(c.call('lcs', 'a', 'b', 'len', 'idx')).rejects.toThrow(
        'ERR If you want both the length and indexes, please just use IDX.',
      );
      await expect(c.call('lcs', 'a', 'b', 'bogus')).rejects.toThrow('ERR syntax error');
      await expect(c.call('lcs', 'a', 'b', 'minmatchlen')).rejects.toThrow('ERR syntax error');
      await expect(c.call('lcs', 'a', 'b', 'minmatchlen', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
      makeList('l');
      await expect(c.call('lcs', 'a', 'l')).rejects.toThrow('ERR The specified keys must contain string values');
    });
  });

  it('LCS refuses a table larger than proto-max-bulk-len', async () => {
    await io.call('set', 'a', 'x'.repeat(20000));
    await io.call('set', 'b', 'y'.repeat(20000));
    await expect(io.call('lcs', 'a', 'b')).rejects.toThrow(
      'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len',
    );
  });

  it('signals set / setrange / append / incrbyfloat with the written key', async () => {
    await io.call('set', 'a', '1');
    await io.call('setnx', 'a', '2');
    await io.call('set', 'a', '2', 'nx');
    await io.call('setrange', 'a', 0, '');
    await io.call('setrange', 'a', 0, '9');
    await io.call('append', 'a', '1');
    await io.call('incrbyfloat', 'a', '1.5');
    await io.call('mset', 'x', '1', 'y', '2');
    expect(events).toEqual(['set:a', 'setrange:a', 'append:a', 'incrbyfloat:a', 'set:x', 'set:y']);
  });

  it('COMMAND metadata of the group', async () => {
    const r = t.ioredis();
    const info = (await r.call('command', 'info', 'set', 'getex', 'mset', 'lcs', 'incr')) as unknown[][];
    expect(info.map((i) => i.slice(0, 6))).toEqual([
      ['set', -3, ['write', 'denyoom'], 1, 1, 1],
      ['getex', -2, ['write', 'fast'], 1, 1, 1],
      ['mset', -3, ['write', 'denyoom'], 1, -1, 2],
      ['lcs', -3, ['readonly'], 1, 2, 1],
      ['incr', 2, ['write', 'denyoom', 'fast'], 1, 1, 1],
    ]);
  });
});
