import { describe, expect, it } from 'vitest';
import { bulkBytes, decimalDigits, writeBulkText, writeLength, writeText } from '../../src/protocol/resp-bytes.js';

/** Every power of ten up to 1e15 and its neighbours, 0..1000, and the largest safe integer. */
function boundaries(): number[] {
  const out: number[] = [];
  for (let n = 0; n <= 1000; n++) out.push(n);
  for (let p = 10; p <= 1e15; p *= 10) for (let d = -3; d <= 3; d++) out.push(p + d);
  out.push(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1);
  return out;
}

describe('RESP bytes', () => {
  it('decimalDigits and writeLength agree with String(n) at every digit boundary', () => {
    const buf = Buffer.alloc(32);
    for (const n of boundaries()) {
      expect(decimalDigits(n)).toBe(String(n).length);
      const end = writeLength(buf, 3, n);
      expect(buf.latin1Slice(3, end)).toBe(String(n));
    }
  });

  it('writeBulkText writes bulkBytes() bytes of $<len>\\r\\n<text>\\r\\n, short and long', () => {
    for (const text of ['', 'a', 'x'.repeat(14), 'y'.repeat(15), '\r\n\xff\x00'.repeat(30), 'z'.repeat(10_000)]) {
      const buf = Buffer.alloc(bulkBytes(text.length) + 4);
      const end = writeBulkText(buf, 2, text);
      expect(end - 2).toBe(bulkBytes(text.length));
      expect(buf.latin1Slice(2, end)).toBe(`$${text.length}\r\n${text}\r\n`);
    }
  });

  it('writeText writes latin1 text byte for byte on both sides of the short-copy bound, as latin1Write does', () => {
    for (const text of ['', '$-1\r\n', '\xe9\xff\x00\x80', '\u263a\u0100', 'q'.repeat(14), 'r'.repeat(15), '\u263a wide chars keep their low byte', 's'.repeat(500)]) {
      const buf = Buffer.alloc(text.length + 4);
      const expected = Buffer.alloc(text.length + 4);
      expect(writeText(buf, 1, text)).toBe(1 + text.length);
      expected.latin1Write(text, 1);
      expect(buf.equals(expected)).toBe(true);
    }
  });
});
