import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRecord, PlainRecordWriter, scanRecords } from '../../src/persistence/record.js';

type Slot = [number, string, string | null, string | Uint8Array | null, number];

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 30 }));
const slot: fc.Arbitrary<Slot> = fc.tuple(
  fc.integer({ min: 0, max: 300 }),
  text,
  fc.constantFrom('string', 'list', 'hash', null),
  fc.oneof(text, fc.uint8Array({ maxLength: 70_000 }), fc.constant(null)),
  // -0 is written as 0, as msgpackr writes it (no expiry time is ever -0).
  fc.oneof(fc.constant(0), fc.integer(), fc.integer({ min: 1_700_000_000_000, max: 2 ** 53 - 1 }), fc.double({ noNaN: true }).map((d) => (Object.is(d, -0) ? 0 : d))),
);

/** What a reader decodes a value to: bytes come back as a Buffer. */
function decoded(slots: Slot[]): unknown[] {
  return slots.flatMap(([db, key, type, value, expireAt]) => [db, key, type, value instanceof Uint8Array ? Buffer.from(value) : value, expireAt]);
}

describe('PlainRecordWriter', () => {
  it('writes records every reader decodes as the msgpackr encoding of the same slots', () => {
    fc.assert(
      fc.property(fc.array(fc.array(slot, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), (records) => {
        const w = new PlainRecordWriter();
        for (const r of records) {
          for (const s of r) w.key(...s);
          w.close();
        }
        w.raw(encodeRecord({ r: 3 }));
        const mine = scanRecords(w.take()!);
        const reference = scanRecords(Buffer.concat([...records.map((r) => encodeRecord({ p: decoded(r) })), encodeRecord({ r: 3 })]));
        expect(mine.defect).toBeNull();
        expect(mine.payloads).toEqual(reference.payloads);
        expect(mine.payloads.slice(0, -1)).toEqual(records.map((r) => ({ p: decoded(r) })));
      }),
      { numRuns: 200 },
    );
  });

  it('hands out each batch once, in a buffer of its own, and refuses values it cannot write', () => {
    const w = new PlainRecordWriter();
    expect(w.take()).toBeNull();
    w.key(0, 'k', 'string', 'v', 0);
    const first = w.take()!;
    w.key(0, 'other', 'string', 'w', 0);
    const second = w.take()!;
    expect(scanRecords(first).payloads).toEqual([{ p: [0, 'k', 'string', 'v', 0] }]);
    expect(scanRecords(second).payloads).toEqual([{ p: [0, 'other', 'string', 'w', 0] }]);
    expect(w.take()).toBeNull();
    expect(() => w.key(0, 'k', 'string', 42 as unknown as string, 0)).toThrow(/text or bytes/);
    w.key(0, 'after', 'string', 'x', 0);
    expect(scanRecords(w.take()!).payloads).toEqual([{ p: [0, 'after', 'string', 'x', 0] }]);
  });
});
