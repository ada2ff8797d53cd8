import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc64Bytes } from '../../src/store/crc64.js';
import { createDumpPayload, loadDumpPayload } from '../../src/store/dump.js';
import { hashCodec, HashValue, type HashLimits } from '../../src/store/hash.js';
import { RDB_TYPE, RdbFormatError, readListpack, readZiplist, writeListpack } from '../../src/store/rdb.js';
import { fullScan, seededRng } from '../helpers/collections.js';

type Op = { kind: 'set' | 'delete' | 'get'; field: string; value: string };

const textArb = fc.oneof(
  fc.integer({ min: -5000, max: 5000 }).map(String),
  fc.constantFrom('a', 'b', 'foo', '', '-0', '007', '9223372036854775807', '-9223372036854775808', '9223372036854775808'),
  fc.string({ maxLength: 12 }),
);
const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('set' as const, 'delete' as const, 'get' as const),
  field: fc.oneof(fc.integer({ min: 0, max: 60 }).map((i) => `f${i}`), textArb),
  value: textArb,
});

/** Applies op to the hash and to a Map; false on any disagreement. */
function apply(h: HashValue, model: Map<string, string>, op: Op, limits: HashLimits): boolean {
  if (op.kind === 'set') {
    const expected = !model.has(op.field);
    model.set(op.field, op.value);
    return h.set(op.field, op.value, limits) === expected;
  }
  if (op.kind === 'delete') {
    const expected = model.delete(op.field);
    return h.delete(op.field) === expected;
  }
  return h.get(op.field) === model.get(op.field) && h.has(op.field) === model.has(op.field);
}

const limitsArb = fc.record({ maxEntries: fc.integer({ min: 0, max: 40 }), maxValue: fc.integer({ min: 0, max: 12 }) });

describe('HashValue against a Map model', () => {
  it('agrees on set / delete / get / size / contents for any sequence and limits', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), limitsArb, (ops, limits) => {
        const h = new HashValue(7);
        const model = new Map<string, string>();
        for (const op of ops) if (!apply(h, model, op, limits)) return false;
        const pairs = [...h].map(([f, v]) => `${f}=${v}`).sort();
        return h.size === model.size && pairs.join('\n') === [...model].map(([f, v]) => `${f}=${v}`).sort().join('\n');
      }),
    );
  });

  it('stays listpack exactly while within the limits, converts one way, and keeps insertion order meanwhile', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), limitsArb, (ops, limits) => {
        const h = new HashValue(3);
        const model = new Map<string, string>();
        let converted = false;
        for (const op of ops) {
          apply(h, model, op, limits);
          const tooLong = op.kind === 'set' && (op.field.length > limits.maxValue || op.value.length > limits.maxValue);
          if (tooLong || model.size > limits.maxEntries) converted = true;
          if (h.encoding !== (converted ? 'hashtable' : 'listpack')) return false;
          if (!converted && [...h].map(([f]) => f).join('\0') !== [...model.keys()].join('\0')) return false;
        }
        return true;
      }),
    );
  });

  it('random draws return present fields; distinct draws are distinct and capped at the size', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 400 }), fc.integer(), (fields, count, seed) => {
        const h = HashValue.of(1, fields.map((f) => [f, `v${f}`] as const), { maxEntries: 128, maxValue: 64 });
        const rand = seededRng(seed);
        const present = new Set(fields);
        const one = h.random(rand)!;
        if (!present.has(one.key) || one.value !== `v${one.key}`) return false;
        const distinct = h.randomDistinct(count, rand).map((n) => n.key);
        if (distinct.length !== Math.min(count, fields.length) || new Set(distinct).size !== distinct.length) return false;
        const repeated = h.randomWithRepetition(count, rand);
        return repeated.length === count && repeated.every((n) => present.has(n.key));
      }),
    );
  });

  it('clone is independent and keeps encoding, order and metadata', () => {
    const h = HashValue.of(5, [['b', '1'], ['a', '2']], { maxEntries: 128, maxValue: 64 });
    h.field('a')!.meta = { ts: 1 };
    const c = h.clone();
    c.set('z', '3', { maxEntries: 128, maxValue: 64 });
    expect(h.has('z')).toBe(false);
    expect([...c]).toEqual([['b', '1'], ['a', '2'], ['z', '3']]);
    expect(c.field('a')!.meta).toEqual({ ts: 1 });
    expect(c.encoding).toBe('listpack');
  });
});

describe('HSCAN guarantee', () => {
  it('returns every field present for the whole scan, while others are added and removed (rehashing included)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 130, max: 1500 }), fc.integer(), fc.integer({ min: 0, max: 2000 }), (size, seed, churn) => {
        const limits = { maxEntries: 128, maxValue: 64 };
        const h = new HashValue(seed);
        for (let i = 0; i < size; i++) h.set(`stay:${i}`, 'v', limits);
        const rand = seededRng(seed);
        let added = 0;
        const seen = fullScan((cursor, visit) => h.scan(cursor, (n) => visit(n.key)), (step) => {
          // Grow, then shrink, so the table resizes in both directions mid-scan.
          if (step % 2 === 0 && added < churn) for (let k = 0; k < 40; k++) h.set(`tmp:${added++}`, 'x', limits);
          else for (let k = 0; k < 40 && added > 0; k++) h.delete(`tmp:${rand(added)}`);
        });
        for (let i = 0; i < size; i++) if (!seen.has(`stay:${i}`)) return false;
        return true;
      }),
      { numRuns: 40 },
    );
  });

  it('returns a listpack-encoded hash whole on the first call', () => {
    const h = HashValue.of(1, [['a', '1'], ['b', '2']], { maxEntries: 128, maxValue: 64 });
    const seen: string[] = [];
    expect(h.scan(0, (n) => seen.push(n.key))).toBe(0);
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('listpack and ziplist blobs', () => {
  const elements = ['a', '0', '127', '128', '-1', '-4096', '4095', '4096', '-32768', '32767', '-8388608', '8388607', '2147483647',
    '-2147483648', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '-0', '', 'x'.repeat(63),
    'y'.repeat(64), 'z'.repeat(4095), 'w'.repeat(4096), '\u00ff\u0000bin'];

  it('reads back what it writes', () => {
    expect(readListpack(writeListpack(elements))).toEqual(elements);
    fc.assert(fc.property(fc.array(textArb, { maxLength: 50 }), (xs) => readListpack(writeListpack(xs)).join('\0') === xs.join('\0')));
  });

  it('encodes as Redis lpAppend does (bytes of a Redis 7.0 listpack)', () => {
    // HSET h a 1 b hello on Redis 7.0: header, "a", 1, "b", "hello", EOF.
    const expected = Buffer.from('160000000400' + '8161' + '02' + '0101' + '8162' + '02' + '8568656c6c6f' + '06' + 'ff', 'hex');
    expect(writeListpack(['a', '1', 'b', 'hello'])).toEqual(expected);
  });

  it('rejects malformed listpacks', () => {
    const good = writeListpack(['a', 'b']);
    expect(() => readListpack(good.subarray(0, good.length - 1))).toThrow(RdbFormatError);
    const badCount = Buffer.from(good);
    badCount.writeUInt16LE(3, 4);
    expect(() => readListpack(badCount)).toThrow(RdbFormatError);
  });

  it('reads ziplists (a Redis 6 HSET payload and every integer encoding)', () => {
    const zl = ziplist([[0x01, 0x78], [0xf6], [0x01, 0x79], [0xc0, 0xd4, 0xfe], [0x02, 0x61, 0x00], [0xf0, 0xa0, 0x86, 0x01],
      [0x01, 0x77], [0xfe, 0x80], [0x01, 0x76], [0xe0, 1, 0, 0, 0, 0, 0, 0, 0x80], [0x01, 0x75], [0xd0, 0, 0, 0, 0x80]]);
    expect(readZiplist(zl)).toEqual(['x', '5', 'y', '-300', 'a\u0000', '100000', 'w', '-128', 'v', '-9223372036854775807', 'u', '-2147483648']);
  });
});

/** A ziplist of raw entries (encoding + payload), with prevlen fields and header filled in. */
function ziplist(entries: number[][]): Buffer {
  const parts: Buffer[] = [];
  let prev = 0;
  for (const e of entries) {
    const part = Buffer.from([prev, ...e]);
    parts.push(part);
    prev = part.length;
  }
  const inner = Buffer.concat(parts);
  const header = Buffer.alloc(10);
  header.writeUInt32LE(10 + inner.length + 1, 0);
  header.writeUInt32LE(10 + inner.length - prev, 4);
  header.writeUInt16LE(entries.length, 8);
  return Buffer.concat([header, inner, Buffer.from([0xff])]);
}

/** A DUMP payload of one RDB type byte and body, with Redis's footer. */
function payload(type: number, body: Buffer): Buffer {
  const p = Buffer.concat([Buffer.from([type]), body, Buffer.from([9, 0])]);
  return Buffer.concat([p, crc64Bytes(p)]);
}

describe('hash codec (DUMP / RESTORE)', () => {
  const limits = { maxEntries: 128, maxValue: 64 };

  it('round-trips listpack and hashtable hashes with their encodings', () => {
    const small = HashValue.of(1, [['a', '1'], ['b', 'two']], limits);
    const big = HashValue.of(1, Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`] as const), limits);
    for (const h of [small, big]) {
      const loaded = loadDumpPayload(createDumpPayload('hash', h, true)!)!;
      const back = loaded.value as HashValue;
      expect(loaded.type).toBe('hash');
      expect(back.encoding).toBe(h.encoding);
      expect([...back].sort()).toEqual([...h].sort());
    }
  });

  it('writes RDB_TYPE_HASH_LISTPACK for a listpack and RDB_TYPE_HASH for a hashtable', () => {
    const small = createDumpPayload('hash', HashValue.of(1, [['a', '1']], limits), false)!;
    expect(small[0]).toBe(RDB_TYPE.HASH_LISTPACK);
    const h = HashValue.of(1, [['a', 'x'.repeat(65)]], limits);
    expect(createDumpPayload('hash', h, false)![0]).toBe(RDB_TYPE.HASH);
    expect(hashCodec.encoding(h)).toBe('hashtable');
  });

  it('restores a Redis ziplist payload (RDB 9) as a listpack hash', () => {
    const zl = ziplist([[0x02, 0x61, 0x00], [0x02, 0x62, 0x00], [0x02, 0x63, 0x00], [0x02, 0x64, 0x00]]);
    const body = Buffer.concat([Buffer.from([zl.length]), zl]);
    const h = loadDumpPayload(payload(RDB_TYPE.HASH_ZIPLIST, body))!.value as HashValue;
    expect([...h]).toEqual([['a\u0000', 'b\u0000'], ['c\u0000', 'd\u0000']]);
    expect(h.encoding).toBe('listpack');
  });

  it('rejects duplicate fields, odd and empty listpacks', () => {
    for (const items of [['a', '1', 'a', '2'], ['a'], []]) {
      const lp = writeListpack(items);
      expect(loadDumpPayload(payload(RDB_TYPE.HASH_LISTPACK, Buffer.concat([Buffer.from([lp.length]), lp])))).toBeNull();
    }
  });
});
