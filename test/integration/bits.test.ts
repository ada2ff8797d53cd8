import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

describe('bitmap commands', () => {
  const t = useServer();
  const { io, events, each } = t;

  function makeList(key: string): void {
    t.db().add(key, 'list', []);
  }

  async function bytes(key: string): Promise<Buffer | null> {
    return t.ioredis().getBuffer(key);
  }

  it('SETBIT and GETBIT', async () => {
    await each(async (c) => {
      expect(await c.call('setbit', 'k', 1, 1)).toBe(0);
      expect(await c.call('get', 'k')).toBe('@');
      expect(await c.call('setbit', 'k', 1, 1)).toBe(1);
      expect(await c.call('setbit', 'k', 1, 0)).toBe(1);
      expect(await c.call('setbit', 'k', 23, 1)).toBe(0);
      expect(await bytes('k')).toEqual(Buffer.from([0, 0, 1]));
      expect(await c.call('getbit', 'k', 23)).toBe(1);
      expect(await c.call('getbit', 'k', 22)).toBe(0);
      expect(await c.call('getbit', 'k', 1000)).toBe(0);
      expect(await c.call('getbit', 'missing', 0)).toBe(0);
      await c.call('set', 'n', '1');
      expect(await c.call('getbit', 'n', 2)).toBe(1);
      expect(await c.call('setbit', 'n', 6, 1)).toBe(0);
      expect(await c.call('get', 'n')).toBe('3');
      for (const off of ['-1', '4294967296', 'x', '1.5']) {
        await expect(c.call('setbit', 'k', off, 1)).rejects.toThrow('ERR bit offset is not an integer or out of range');
        await expect(c.call('getbit', 'k', off)).rejects.toThrow('ERR bit offset is not an integer or out of range');
      }
      for (const v of ['2', '-1', 'x']) {
        await expect(c.call('setbit', 'k', 0, v)).rejects.toThrow('ERR bit is not an integer or out of range');
      }
      makeList('l');
      await expect(c.call('setbit', 'l', 0, 1)).rejects.toThrow('WRONGTYPE Operation against a key holding the wrong kind of value');
      await expect(c.call('getbit', 'l', 0)).rejects.toThrow('WRONGTYPE');
    });
  });

  it('SETBIT signals only real changes (or growth)', async () => {
    await io.call('setbit', 'k', 0, 0);
    await io.call('setbit', 'k', 0, 0);
    await io.call('setbit', 'k', 0, 1);
    await io.call('setbit', 'k', 0, 1);
    await io.call('setbit', 'k', 90, 0);
    expect(events).toEqual(['setbit:k', 'setbit:k', 'setbit:k']);
  });

  it('BITCOUNT with BYTE and BIT ranges', async () => {
    await each(async (c) => {
      await c.call('set', 's', 'foobar');
      expect(await c.call('bitcount', 's')).toBe(26);
      expect(await c.call('bitcount', 's', 0, 0)).toBe(4);
      expect(await c.call('bitcount', 's', 1, 1)).toBe(6);
      expect(await c.call('bitcount', 's', 1, -2)).toBe(18);
      expect(await c.call('bitcount', 's', -2, 1)).toBe(0);
      expect(await c.call('bitcount', 's', 0, 1000)).toBe(26);
      expect(await c.call('bitcount', 's', 5, 30, 'BIT')).toBe(17);
      expect(await c.call('bitcount', 's', 1, 1, 'byte')).toBe(6);
      expect(await c.call('bitcount', 's', 10, -34, 'bit')).toBe(4);
      expect(await c.call('bitcount', 's', -6, -7)).toBe(0);
      expect(await c.call('bitcount', 'missing')).toBe(0);
      expect(await c.call('bitcount', 'missing', 0)).toBe(0);
      await expect(c.call('bitcount', 's', 0)).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitcount', 's', 0, 1, 'bits')).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitcount', 's', 0, 1, 'bit', 'x')).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitcount', 's', 'a', 1)).rejects.toThrow('ERR value is not an integer or out of range');
      makeList('l');
      await expect(c.call('bitcount', 'l')).rejects.toThrow('WRONGTYPE');
    });
  });

  it('BITPOS with and without an end', async () => {
    await each(async (c) => {
      await c.call('set', 'f', Buffer.from([0xff, 0xf0, 0x00]));
      expect(await c.call('bitpos', 'f', 0)).toBe(12);
      expect(await c.call('bitpos', 'f', 1, 1)).toBe(8);
      expect(await c.call('bitpos', 'f', 0, 0, -1, 'bit')).toBe(12);
      expect(await c.call('bitpos', 'f', 1, 13, -1, 'BIT')).toBe(-1);
      await c.call('set', 'ones', Buffer.from([0xff, 0xff]));
      expect(await c.call('bitpos', 'ones', 0)).toBe(16);
      expect(await c.call('bitpos', 'ones', 0, 1)).toBe(16);
      expect(await c.call('bitpos', 'ones', 0, 0, -1)).toBe(-1);
      expect(await c.call('bitpos', 'ones', 1, 2, 1)).toBe(-1);
      expect(await c.call('bitpos', 'missing', 0)).toBe(0);
      expect(await c.call('bitpos', 'missing', 1)).toBe(-1);
      await c.call('set', 'empty', '');
      expect(await c.call('bitpos', 'empty', 0)).toBe(-1);
      await expect(c.call('bitpos', 'f', 2)).rejects.toThrow('ERR The bit argument must be 1 or 0.');
      await expect(c.call('bitpos', 'f', 'x')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(c.call('bitpos', 'f', 1, 0, 1, 'nibble')).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitpos', 'f', 1, 0, 1, 'bit', 'x')).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitpos', 'f', 1, 'x')).rejects.toThrow('ERR value is not an integer or out of range');
      makeList('l');
      await expect(c.call('bitpos', 'l', 1)).rejects.toThrow('WRONGTYPE');
    });
  });

  it('BITOP AND / OR / XOR / NOT', async () => {
    await each(async (c) => {
      await c.call('set', 'a', Buffer.from([0x01, 0x02, 0xff, 0xff]));
      await c.call('set', 'b', Buffer.from([0x01, 0x02, 0xff]));
      expect(await c.call('bitop', 'and', 'r', 'a', 'b')).toBe(4);
      expect(await bytes('r')).toEqual(Buffer.from([1, 2, 0xff, 0]));
      expect(await c.call('bitop', 'OR', 'r', 'a', 'b', 'missing')).toBe(4);
      expect(await bytes('r')).toEqual(Buffer.from([1, 2, 0xff, 0xff]));
      expect(await c.call('bitop', 'xor', 'r', 'a', 'b')).toBe(4);
      expect(await bytes('r')).toEqual(Buffer.from([0, 0, 0, 0xff]));
      expect(await c.call('bitop', 'not', 'a', 'a')).toBe(4);
      expect(await bytes('a')).toEqual(Buffer.from([0xfe, 0xfd, 0, 0]));
      expect(await c.call('bitop', 'and', 'r', 'missing', 'a')).toBe(4);
      expect(await bytes('r')).toEqual(Buffer.alloc(4));
      expect(await c.call('bitop', 'or', 'r', 'missing')).toBe(0);
      expect(await c.call('exists', 'r')).toBe(0);
      await expect(c.call('bitop', 'not', 'r', 'a', 'b')).rejects.toThrow('ERR BITOP NOT must be called with a single source key.');
      await expect(c.call('bitop', 'nand', 'r', 'a')).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitop', 'and', 'r')).rejects.toThrow("ERR wrong number of arguments for 'bitop' command");
      makeList('l');
      await expect(c.call('bitop', 'or', 'r', 'a', 'l')).rejects.toThrow('WRONGTYPE');
    });
  });

  it('BITOP signals set on the destination, del when the result is empty', async () => {
    await io.call('set', 'a', 'x');
    await io.call('bitop', 'not', 'd', 'a');
    await io.call('bitop', 'or', 'd', 'none');
    await io.call('bitop', 'or', 'd', 'none');
    expect(events).toEqual(['set:a', 'set:d', 'del:d']);
  });

  it('BITFIELD GET / SET / INCRBY with # offsets', async () => {
    await each(async (c) => {
      expect(await c.call('bitfield', 'bf', 'set', 'i8', 0, -100, 'set', 'i8', 0, 101, 'get', 'i8', 0)).toEqual([0, -100, 101]);
      expect(await c.call('bitfield', 'bf', 'set', 'u8', '#1', 255, 'incrby', 'u8', '#1', 100, 'get', 'u8', 8)).toEqual([0, 99, 99]);
      await c.call('del', 'bf');
      await c.call('bitfield', 'bf', 'set', 'u8', '#0', 65, 'set', 'u8', '#1', 66, 'set', 'u8', '#2', 67);
      expect(await c.call('get', 'bf')).toBe('ABC');
      expect(await c.call('bitfield', 'bf', 'get', 'u4', 0, 'get', 'i4', 4, 'get', 'u1', 1, 'get', 'i64', 0)).toEqual([
        4,
        1,
        1,
        Number(0x4142430000000000n),
      ]);
      expect(await c.call('bitfield', 'bf')).toEqual([]);
      expect(await c.call('bitfield', 'missing', 'get', 'u8', 0)).toEqual([0]);
      expect(await c.call('exists', 'missing')).toBe(0);
      expect(await c.call('bitfield_ro', 'bf', 'get', 'u8', '#2')).toEqual([67]);
      expect(await c.call('bitfield_ro', 'bf')).toEqual([]);
    });
  });

  it('BITFIELD overflow policies', async () => {
    await each(async (c) => {
      await c.call('bitfield', 'u', 'set', 'u8', 0, 100);
      expect(await c.call('bitfield', 'u', 'overflow', 'wrap', 'incrby', 'u8', 0, 257, 'get', 'u8', 0)).toEqual([101, 101]);
      expect(await c.call('bitfield', 'u', 'overflow', 'sat', 'incrby', 'u8', 0, 257, 'incrby', 'u8', 0, -300)).toEqual([255, 0]);
      expect(await c.call('bitfield', 'u', 'overflow', 'fail', 'incrby', 'u8', 0, 256, 'get', 'u8', 0)).toEqual([null, 0]);
      expect(await c.call('bitfield', 'u', 'set', 'u8', 0, -1, 'overflow', 'sat', 'set', 'u8', 0, -1, 'get', 'u8', 0)).toEqual([0, 255, 255]);
      expect(await c.call('bitfield', 'u', 'overflow', 'fail', 'set', 'u8', 0, -1)).toEqual([null]);
      await c.call('bitfield', 's', 'set', 'i8', 0, 100);
      expect(await c.call('bitfield', 's', 'incrby', 'i8', 0, 257, 'overflow', 'wrap', 'incrby', 'i8', 0, 255)).toEqual([101, 100]);
      expect(await c.call('bitfield', 's', 'overflow', 'SAT', 'incrby', 'i8', 0, 257, 'incrby', 'i8', 0, -1000)).toEqual([127, -128]);
      await c.call('bitfield', 'big', 'set', 'i64', 0, '9223372036854775807');
      expect(await c.call('bitfield', 'big', 'overflow', 'fail', 'incrby', 'i64', 0, 1)).toEqual([null]);
      expect(await c.call('bitfield', 'big', 'incrby', 'i64', 0, 1)).toEqual([Number(-(2n ** 63n))]);
      expect(await bytes('big')).toEqual(Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0]));
      expect(await c.call('bitfield', 'x', 'set', 'i8', 0, 10, 'set', 'i8', 64, 10, 'incrby', 'i8', 10, 99900)).toEqual([0, 0, 60]);
    });
  });

  it('BITFIELD replies exact int64 values', async () => {
    const c = await t.connect();
    c.write('BITFIELD k SET i64 0 -9223372036854775808 INCRBY i64 0 -1 GET u63 1 GET i64 0\r\n');
    expect(await c.lines(5)).toBe(`*4\r\n:0\r\n${':9223372036854775807\r\n'.repeat(3)}`);
    c.close();
  });

  it('BITFIELD errors', async () => {
    await each(async (c) => {
      const typeError = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
      for (const type of ['u64', 'i65', 'I8', 'i0', 'x8', 'u', 'i-1']) {
        await expect(c.call('bitfield', 'k', 'get', type, 0)).rejects.toThrow(typeError);
      }
      await expect(c.call('bitfield', 'k', 'get', 'i8', -1)).rejects.toThrow('ERR bit offset is not an integer or out of range');
      await expect(c.call('bitfield', 'k', 'get', 'i8', '#-1')).rejects.toThrow('ERR bit offset is not an integer or out of range');
      await expect(c.call('bitfield', 'k', 'get', 'i8', '4294967296')).rejects.toThrow('ERR bit offset');
      await expect(c.call('bitfield', 'k', 'get', 'i8')).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitfield', 'k', 'set', 'i8', 0)).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitfield', 'k', 'bogus')).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitfield', 'k', 'overflow')).rejects.toThrow('ERR syntax error');
      await expect(c.call('bitfield', 'k', 'overflow', 'crash', 'get', 'i8', 0)).rejects.toThrow('ERR Invalid OVERFLOW type specified');
      await expect(c.call('bitfield', 'k', 'incrby', 'i8', 0, 'x')).rejects.toThrow('ERR value is not an integer or out of range');
      await expect(c.call('bitfield_ro', 'k', 'set', 'u8', 0, 1, 'get', 'u8', 0)).rejects.toThrow(
        'ERR BITFIELD_RO only supports the GET subcommand',
      );
      expect(await c.call('exists', 'k')).toBe(0);
      makeList('l');
      await expect(c.call('bitfield', 'l', 'get', 'i8', 0)).rejects.toThrow('WRONGTYPE');
      await expect(c.call('bitfield', 'l', 'set', 'i8', 0, 1)).rejects.toThrow('WRONGTYPE');
    });
  });

  it('BITFIELD signals once per call, only when something changed', async () => {
    await io.call('bitfield', 'k', 'set', 'i5', 0, 0);
    await io.call('bitfield', 'k', 'set', 'i5', 0, 0);
    await io.call('bitfield', 'k', 'set', 'i5', 0, 1, 'set', 'i5', 0, 2);
    await io.call('bitfield', 'k', 'incrby', 'i5', 0, 0);
    await io.call('bitfield', 'k', 'get', 'i5', 0);
    await io.call('bitfield', 'k', 'overflow', 'fail', 'incrby', 'i5', 0, 100);
    expect(events).toEqual(['setbit:k', 'setbit:k']);
  });

  it('bit commands work on values mutated by SETRANGE and APPEND', async () => {
    await io.call('set', 'k', 'a');
    await io.call('setrange', 'k', 2, 'c');
    await io.call('setbit', 'k', 8, 1);
    expect(await bytes('k')).toEqual(Buffer.from('a\x80c', 'latin1'));
    await io.call('append', 'k', 'd');
    expect(await io.call('bitcount', 'k')).toBe(3 + 1 + 4 + 3);
    expect(await io.call('bitpos', 'k', 1, 1)).toBe(8);
    expect(await io.call('bitfield', 'k', 'get', 'u8', '#3')).toEqual([100]);
  });

  it('COMMAND metadata of the group', async () => {
    const info = (await io.call('command', 'info', 'setbit', 'bitop', 'bitfield_ro')) as unknown[][];
    expect(info.map((i) => i.slice(0, 6))).toEqual([
      ['setbit', 4, ['write', 'denyoom'], 1, 1, 1],
      ['bitop', -4, ['write', 'denyoom'], 2, -1, 1],
      ['bitfield_ro', -2, ['readonly', 'fast'], 1, 1, 1],
    ]);
  });
});
