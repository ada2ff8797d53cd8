import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc64 } from '../../src/store/crc64.js';
import { createDumpPayload, loadDumpPayload, verifyDumpPayload } from '../../src/store/dump.js';
import { lzfCompress, lzfDecompress } from '../../src/store/lzf.js';
import { RdbReader, RdbWriter } from '../../src/store/rdb.js';
import { stringEncoding } from '../../src/store/values.js';

/** DUMP payloads produced by Redis 7.0.15 (value -> hex). */
const REDIS_DUMPS: [string, string][] = [
  ['foo', '0003666f6f0a00734939db4dc1ba97'],
  ['123', '00c07b0a0048e253e1007a67b9'],
  ['-5', '00c0fb0a0049c4c6f4d7263f68'],
  ['300', '00c12c010a00954261f265825c10'],
  ['70000', '00c2701101000a0001a408fe953095a5'],
  ['-2147483649', '000b2d323134373438333634390a00c261377908f2028c'],
  ['a'.repeat(50), '00c30932016161e025000161610a0009ac48b9ab15fbc9'],
  ['', '00000a005d9b5c400f7fa2da'],
  ['hello world, hello world, hello world, hello world', '00c315320d68656c6c6f20776f726c642c2068e0190c016c640a00229947fcccb10126'],
];

describe('CRC64 (Jones)', () => {
  it('matches the reference check value', () => {
    expect(crc64(Buffer.from('123456789'))).toBe(0xe9c6d914c4b8d9can);
  });
});

describe('LZF', () => {
  it('round-trips arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 4 }), (bytes, rep) => {
        const input = Buffer.concat(Array.from({ length: rep }, () => Buffer.from(bytes)));
        const packed = lzfCompress(input, input.length + 64);
        if (packed === null) return input.length === 0;
        return lzfDecompress(packed, input.length)?.equals(input) ?? false;
      }),
    );
  });

  it('rejects malformed input instead of reading out of bounds', () => {
    expect(lzfDecompress(Buffer.from([0xe0, 0xff, 0x00]), 10)).toBeNull();
    expect(lzfDecompress(Buffer.from([0x05, 0x61]), 6)).toBeNull();
  });
});

describe('RDB primitives', () => {
  it('round-trips lengths in every width', () => {
    for (const n of [0, 63, 64, 16383, 16384, 0xffffffff, 0x100000000, Number.MAX_SAFE_INTEGER]) {
      const w = new RdbWriter();
      w.length(n);
      expect(new RdbReader(Buffer.from(w.toBuffer())).length()).toBe(n);
    }
  });

  it('round-trips strings with and without compression', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.boolean(), (s, compress) => {
        const latin1 = Buffer.from(s, 'utf8').latin1Slice();
        const w = new RdbWriter();
        w.string(latin1, compress);
        const r = new RdbReader(Buffer.from(w.toBuffer()));
        return r.text() === latin1 && r.remaining === 0;
      }),
    );
  });

  it('throws on truncated data', () => {
    expect(() => new RdbReader(Buffer.from([0x05, 0x61])).string()).toThrow();
  });
});

describe('DUMP payloads', () => {
  it('restores payloads dumped by Redis', () => {
    for (const [value, hex] of REDIS_DUMPS) {
      const p = Buffer.from(hex, 'hex');
      expect(verifyDumpPayload(p)).toBe(true);
      expect(loadDumpPayload(p)).toEqual({ type: 'string', value });
    }
  });

  it('produces the bytes Redis produces', () => {
    for (const [value, hex] of REDIS_DUMPS) {
      const p = createDumpPayload('string', value, true);
      const mine = p!.toString('hex');
      // LZF output may differ from liblzf's and still be valid; everything else must be identical.
      if (hex.startsWith('00c3')) expect(loadDumpPayload(p!)).toEqual({ type: 'string', value });
      else expect(mine).toBe(hex);
    }
  });

  it('rejects a wrong checksum, a newer RDB version and a short payload', () => {
    const good = Buffer.from(REDIS_DUMPS[0]![1], 'hex');
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1]! ^= 1;
    expect(verifyDumpPayload(badCrc)).toBe(false);
    const newer = Buffer.from(good);
    newer[newer.length - 10] = 11;
    expect(verifyDumpPayload(newer)).toBe(false);
    expect(verifyDumpPayload(Buffer.alloc(9))).toBe(false);
  });

  it('derives string encodings as Redis does', () => {
    expect(stringEncoding('12345')).toBe('int');
    expect(stringEncoding('-9223372036854775808')).toBe('int');
    expect(stringEncoding('9223372036854775808')).toBe('embstr');
    expect(stringEncoding('007')).toBe('embstr');
    expect(stringEncoding('-0')).toBe('embstr');
    expect(stringEncoding('x'.repeat(44))).toBe('embstr');
    expect(stringEncoding('x'.repeat(45))).toBe('raw');
    expect(stringEncoding(Buffer.from('1'))).toBe('raw');
  });
});
