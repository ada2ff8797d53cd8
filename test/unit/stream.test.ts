import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDumpPayload, loadDumpPayload, verifyDumpPayload } from '../../src/store/dump.js';
import { StreamValue, lpElementBytes, type StreamLimits } from '../../src/store/stream.js';
import { formatId, ID_MAX, ID_ZERO, makeId, parseStreamId } from '../../src/store/stream-id.js';
import { Consumer, ConsumerGroup } from '../../src/store/stream-pel.js';
import { writeListpack } from '../../src/store/rdb.js';

const LIMITS: StreamLimits = { maxBytes: 4096, maxEntries: 4 };

/** Live entry IDs in order. */
function ids(s: StreamValue): bigint[] {
  return [...s.range(ID_ZERO, ID_MAX, false)].map((e) => e.id);
}

function filled(n: number, limits = LIMITS): StreamValue {
  const s = new StreamValue();
  for (let i = 1; i <= n; i++) s.append(makeId(BigInt(i), 0n), ['f', String(i)], limits);
  return s;
}

describe('stream IDs', () => {
  it('parses the forms Redis accepts', () => {
    expect(parseStreamId('5', 0n, true)).toEqual({ id: makeId(5n, 0n), seqGiven: true });
    expect(parseStreamId('5', 2n ** 64n - 1n, false)!.id).toBe(makeId(5n, 2n ** 64n - 1n));
    expect(parseStreamId('5-*', 0n, true, true)).toEqual({ id: makeId(5n, 0n), seqGiven: false });
    expect(parseStreamId('5-*', 0n, true)).toBeNull();
    expect(parseStreamId('-', 0n, false)!.id).toBe(ID_ZERO);
    expect(parseStreamId('+', 0n, false)!.id).toBe(ID_MAX);
    expect(parseStreamId('+', 0n, true)).toBeNull();
    expect(parseStreamId('18446744073709551616', 0n, true)).toBeNull();
    expect(parseStreamId('1-a', 0n, true)).toBeNull();
    expect(formatId(ID_MAX)).toBe('18446744073709551615-18446744073709551615');
  });
});

describe('StreamValue', () => {
  it('packs entries into nodes of at most stream-node-max-entries', () => {
    const s = filled(10);
    expect(s.nodes.map((n) => n.entries.length)).toEqual([4, 4, 2]);
    expect(s.length).toBe(10);
    expect(s.firstId).toBe(makeId(1n, 0n));
    expect(s.lastId).toBe(makeId(10n, 0n));
  });

  it('computes node byte sizes as the listpack Redis would write', () => {
    const s = filled(3);
    const n = s.nodes[0]!;
    const elements = [String(n.live), String(n.deleted), '1', 'f', '0'];
    for (let i = 1; i <= 3; i++) elements.push('2', String(i - 1), '0', String(i), '4');
    expect(n.bytes).toBe(writeListpack(elements).length);
    expect(lpElementBytes('x'.repeat(70))).toBe(70 + 2 + 1);
  });

  it('approximate trimming removes whole nodes only', () => {
    const s = filled(10);
    expect(s.trim({ strategy: 'maxlen', maxlen: 5, minid: 0n, approx: true, limit: 0 })).toBe(4);
    expect(s.length).toBe(6);
    expect(s.trim({ strategy: 'maxlen', maxlen: 5, minid: 0n, approx: false, limit: 0 })).toBe(1);
    expect(ids(s)[0]).toBe(makeId(6n, 0n));
    expect(s.trim({ strategy: 'minid', maxlen: 0, minid: makeId(9n, 0n), approx: false, limit: 0 })).toBe(3);
    expect(s.firstId).toBe(makeId(9n, 0n));
  });

  it('matches a sorted-map model under appends, deletes and trims', () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant('add' as const), gap: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ k: fc.constant('del' as const), at: fc.nat() }),
      fc.record({ k: fc.constant('trim' as const), maxlen: fc.nat({ max: 20 }), approx: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const s = new StreamValue();
        let model: bigint[] = [];
        let next = 1n;
        for (const o of ops) {
          if (o.k === 'add') {
            next += BigInt(o.gap);
            s.append(makeId(next, 0n), ['f', 'v'], LIMITS);
            model.push(makeId(next, 0n));
          } else if (o.k === 'del' && model.length > 0) {
            const id = model[o.at % model.length]!;
            expect(s.delete(id)).toBe(true);
            model = model.filter((x) => x !== id);
          } else if (o.k === 'trim') {
            const removed = s.trim({ strategy: 'maxlen', maxlen: o.maxlen, minid: 0n, approx: o.approx, limit: 0 });
            model = model.slice(removed);
            if (!o.approx) expect(model.length).toBeLessThanOrEqual(o.maxlen);
          }
          expect(ids(s)).toEqual(model);
          expect(s.length).toBe(model.length);
        }
        expect([...s.range(ID_ZERO, ID_MAX, true)].map((e) => e.id)).toEqual([...model].reverse());
      }),
    );
  });

  it('round-trips through a DUMP payload with groups, PELs and consumers', () => {
    const s = filled(9);
    s.delete(makeId(3n, 0n));
    s.maxDeletedId = makeId(3n, 0n);
    s.append(makeId(10n, 5n), ['other', 'x', 'more', '12345678901'], LIMITS);
    const g = new ConsumerGroup('g', makeId(4n, 0n), 4);
    const alice = new Consumer('alice', 1234);
    g.consumers.set('alice', alice);
    const nack = { deliveryTime: 999, deliveryCount: 2, consumer: alice };
    g.pel.set(makeId(2n, 0n), nack);
    alice.pel.set(makeId(2n, 0n), nack);
    s.groups.set('g', g);
    const payload = createDumpPayload('stream', s, true)!;
    expect(verifyDumpPayload(payload)).toBe(true);
    const back = loadDumpPayload(payload)!.value as StreamValue;
    expect(ids(back)).toEqual(ids(s));
    expect(back.get(makeId(10n, 5n))!.fields).toEqual(['other', 'x', 'more', '12345678901']);
    expect(back.maxDeletedId).toBe(s.maxDeletedId);
    expect(back.entriesAdded).toBe(s.entriesAdded);
    const bg = back.groups.get('g')!;
    expect(bg.entriesRead).toBe(4);
    expect(bg.pel.get(makeId(2n, 0n))).toMatchObject({ deliveryTime: 999, deliveryCount: 2 });
    expect(bg.consumers.get('alice')!.pel.size).toBe(1);
    expect(createDumpPayload('stream', back, true)!.equals(payload)).toBe(true);
  });

  it('refuses a payload whose consumer owns an entry missing from the group PEL', () => {
    const s = filled(2);
    const g = new ConsumerGroup('g', ID_ZERO, -1);
    const c = new Consumer('c', 0);
    c.pel.set(makeId(1n, 0n), { deliveryTime: 0, deliveryCount: 1, consumer: c });
    g.consumers.set('c', c);
    s.groups.set('g', g);
    expect(loadDumpPayload(createDumpPayload('stream', s, false)!)).toBeNull();
  });
});
