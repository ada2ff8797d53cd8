import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyRecord } from '../../src/persistence/key-states.js';
import { KeyCrdt } from '../../src/replication/key-crdt.js';
import { parseMessage } from '../../src/replication/messages.js';
import { Keyspace } from '../../src/store/keyspace.js';
import type { KeyStateItem } from '../../src/replication/messages.js';
import { decodeStates, encodeStates } from '../../src/replication/wire.js';
import { BusCodec } from '../../src/transport/codec.js';
import { ownString } from '../../src/store/own-string.js';
import { twoSimNodes } from '../helpers/sim.js';

/**
 * Hostile or corrupt replication messages are refused, counted and
 * dropped: the validator never throws, and a node fed garbage on its bus
 * keeps its data and keeps replicating.
 */

const envelope = { id: 'x', from: '10.0.0.2:16379', hlc: 1 };

describe('replication message validation', () => {
  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true, withDate: true }), (x) => {
        const r = parseMessage(x, 16);
        expect(typeof r === 'string' || typeof r === 'object').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses malformed deltas, and malformed states one by one', () => {
    const item = [0, 'k', 5, 0, 0, 'string', 'x', 0, 0, null];
    const good = { ...envelope, k: 'deltas', first: 1, last: 1, o: ['a'], s: item };
    expect(typeof parseMessage(good, 16)).toBe('object');
    for (const m of [{ ...good, k: 'nope' }, { ...good, hlc: -1 }, { ...good, first: 5, last: 1 }, { ...good, s: item.slice(1) }, { ...good, o: [7] }]) {
      expect(typeof parseMessage(m, 16)).toBe('string');
    }
    const badItems = [
      [16, 'k', 5, 0, 0, 'string', 'x', 0, 0, null],
      [0, 'k', 5, 3, 0, 'string', 'x', 0, 0, null],
      [0, 'k', 5, 0, 0, 'string', 7, 0, 0, null],
      [0, 'k', 5, 0, 0, 'list', 'x', 0, 0, [['a', 1, 0, 0, 0]]],
      [0, 'k', 5, 0, 0, 'string', 'x', 0, 0, [['a', -1, 0, 0, 0]]],
      [0, 'k', 5.5, 0, 0, 'string', 'x', 0, 0, null],
    ];
    const reasons: string[] = [];
    const decoded = decodeStates({ o: ['a'], s: [...item, ...badItems.flat(), ...item] }, 16, (why) => reasons.push(why));
    expect(decoded).toHaveLength(2);
    expect(reasons).toHaveLength(badItems.length);
  });

  it('a node fed garbage on its bus counts it and keeps replicating', async () => {
    const { a, b, cluster, settle } = await twoSimNodes(7);
    a.client.call('SET', 'k', 'v1');
    // The peer's link to b (n2) carries garbage and ill-typed states, as a hostile peer would send.
    const link = a.runtime.bus.connect({ host: cluster.hostOf('n2'), port: 16379 });
    await settle(200);
    const from = `${cluster.hostOf('n1')}:16379`;
    link.send({ garbage: true });
    link.send({ id: 'evil', from, hlc: 1, k: 'deltas', first: 1, last: 1, o: ['z'], s: [0, 'k', 9e15, 0, 0, 'list', 'not a payload', 0, 0, null] });
    link.send([1, 2, 3]);
    await settle(2000);
    expect(b.server.replication!.rejectedMessages).toBeGreaterThanOrEqual(3);
    expect(b.client.call('GET', 'k')).toBe('v1');
    a.client.call('SET', 'k', 'v2');
    await settle(2000);
    expect(b.client.call('GET', 'k')).toBe('v2');
  });
});

describe('key states wire form', () => {
  const codec = new BusCodec();
  const viaBus = (x: unknown): Record<string, unknown> => codec.decode(codec.encode(x)) as Record<string, unknown>;
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 70 }), fc.string({ unit: 'grapheme', maxLength: 20 }));

  it('carries keys and string values of any text through the bytes, next to other values and tombstones', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(15), text, text, fc.constantFrom('string', 'dead', 'payload')), { maxLength: 40 }), (rows) => {
        const items: KeyStateItem[] = rows.map(([db, key, v, kind], i) => {
          if (kind === 'dead') return [db, key, { ts: i + 1, o: 'node-a', g: 1, d: 9 }];
          const value = kind === 'string' ? v : Buffer.from(v, 'utf8');
          return [db, key, { ts: i + 1, o: i % 2 === 0 ? 'node-a' : 'node-b', g: 0, t: 'string', v: value, x: 0, e: 0 }];
        });
        const wire = viaBus(encodeStates(items));
        expect(wire.bin).toBeInstanceOf(Uint8Array);
        const reasons: string[] = [];
        const decoded = decodeStates(wire as never, 16, (why) => reasons.push(why));
        expect(reasons).toEqual([]);
        expect(decoded.map(([db, key, st]) => [db, key, st.v instanceof Uint8Array ? Buffer.from(st.v) : st.v])).toEqual(
          items.map(([db, key, st]) => [db, key, st.v]),
        );
      }),
    );
  });

  it('carries counter rows with their origins as indexes into the origins of the message', () => {
    const rows: [string, number | string, number | string, number, number][] = [
      ['node-b', 3, 1, 0, 0],
      ['node-c', '123456789012345678901234567890', 0, 0.5, 0],
    ];
    const items: KeyStateItem[] = [[0, 'counter', { ts: 9, o: 'node-a', g: 0, t: 'string', v: '10', x: 0, e: 0, c: rows }]];
    const wire = viaBus(encodeStates(items));
    expect(wire.o).toEqual(['node-a', 'node-b', 'node-c']);
    expect(decodeStates(wire as never, 16, () => {})).toEqual(items);
    // Rows naming their origin by string, as nodes and files before the index wrote them.
    const old = viaBus({ o: ['node-a'], s: [0, 'counter', 9, 0, 0, 'string', '10', 0, 0, rows] });
    expect(decodeStates(old as never, 16, () => {})).toEqual(items);
    // An index past the origins is refused with its state.
    const bad = viaBus({ o: ['node-a'], s: [0, 'counter', 9, 0, 0, 'string', '10', 0, 0, [[5, 1, 0, 0, 0]]] });
    const reasons: string[] = [];
    expect(decodeStates(bad as never, 16, (why) => reasons.push(why))).toEqual([]);
    expect(reasons).toEqual(['state of counter: bad counters']);
  });

  it('still reads states whose slots hold the strings themselves (nodes and files from before the blob)', () => {
    const old = viaBus({ o: ['n1'], s: [0, 'key:0000000000001', 5, 0, 0, 'string', 'v'.repeat(40), 0, 0, null, 1, 'gone', 6, 0, 1, null, null, 7, 0, null] });
    const decoded = decodeStates(old as never, 16, () => {});
    expect(decoded).toEqual([
      [0, 'key:0000000000001', { ts: 5, o: 'n1', g: 0, t: 'string', v: 'v'.repeat(40), x: 0, e: 0 }],
      [1, 'gone', { ts: 6, o: 'n1', g: 1, d: 7 }],
    ]);
  });

  it('refuses the items of a blob their lengths run past, and keeps the rest (nodes and files from before the bytes)', () => {
    const items = [0, 1, 2].map((i) => [0, 2, i + 1, 0, 0, 'string', 2, 0, 0, null]);
    const blob = Buffer.from('k0k1k2v0v1v2');
    const overrun = (slot: number): string[] => {
      const s = items.flat();
      s[slot] = 1e6;
      const reasons: string[] = [];
      const kept = decodeStates(viaBus({ o: ['n1'], s, b: blob }) as never, 16, (why) => reasons.push(why)).map(([, key]) => key);
      expect(reasons.length + kept.length).toBe(3);
      return kept;
    };
    // A key's length moves where the values start: no item can be trusted.
    expect(overrun(10 + 1)).toEqual([]);
    // A value's: the items before it keep theirs.
    expect(overrun(10 + 6)).toEqual(['k0']);
    expect(parseMessage({ ...envelope, k: 'deltas', first: 1, last: 1, o: ['n1'], s: items.flat(), b: 'not bytes' }, 16)).toBe('deltas: bad blob');
  });

  it('carries collections, HyperLogLogs, byte values and counters beyond 2^53', () => {
    const items: KeyStateItem[] = [
      [1, 'set', { ts: 2 ** 50, o: 'node-a', g: 2, t: 'set', v: [['m', 3, 'node-a', 0, null, null]], x: 1, e: 1_800_000_000_000 }],
      [0, 'hll', { ts: 7, o: 'node-b', g: 0, t: 'string', v: 'HYLL', x: 0, e: 0, h: 1 }],
      [0, 'bytes', { ts: 8, o: 'node-a', g: 0, t: 'string', v: Buffer.from([0, 255, 128]), x: 0, e: 0 }],
      [0, 'big', { ts: 9, o: 'node-a', g: 0, t: 'string', v: '1', x: 0, e: 0, c: [['node-b', '123456789012345678901234567890', 2 ** 53 - 1, 0.5, 0]] }],
      [3, 'gone', { ts: 10, o: 'node-b', g: 3, d: 2 ** 52 }],
    ];
    const reasons: string[] = [];
    const decoded = decodeStates(viaBus(encodeStates(items)) as never, 16, (why) => reasons.push(why));
    expect(reasons).toEqual([]);
    expect(decoded.map(([db, key, st]) => [db, key, st.v instanceof Uint8Array ? { ...st, v: Buffer.from(st.v) } : st])).toEqual(items);
  });

  it('refuses what follows a break in the bytes, keeps what came before, and never throws on corrupt bytes', () => {
    const items = [0, 1, 2].map((i): KeyStateItem => [0, `k${i}`, { ts: i + 1, o: 'n1', g: 0, t: 'string', v: `v${i}`, x: 0, e: 0 }]);
    const wire = viaBus(encodeStates(items)) as { o: string[]; n: number; bin: Uint8Array };
    const decode = (bin: Uint8Array, n = 3): { keys: string[]; reasons: string[] } => {
      const reasons: string[] = [];
      const keys = decodeStates({ o: wire.o, n, bin }, 16, (why) => reasons.push(why)).map(([, key]) => key);
      return { keys, reasons };
    };
    // Cut short: the last value is missing, the items before it are whole.
    const cut = decode(wire.bin.subarray(0, wire.bin.length - 1));
    expect(cut.keys).toEqual(['k0', 'k1']);
    expect(cut.reasons).toHaveLength(1);
    // More items announced than the bytes hold; fewer than they hold.
    expect(decode(wire.bin, 4).keys).toEqual(['k0', 'k1', 'k2']);
    expect(decode(wire.bin, 2).reasons).toEqual(['bad state list: bytes after the last item']);
    expect(decode(new Uint8Array([200])).reasons).toEqual(['bad state bytes']);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(wire.bin.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), (edits) => {
        const bin = Uint8Array.from(wire.bin);
        for (const [at, byte] of edits) bin[at] = byte;
        expect(decode(bin).keys.length).toBeLessThanOrEqual(3);
      }),
      { numRuns: 2000 },
    );
    expect(parseMessage({ ...envelope, k: 'deltas', first: 1, last: 1, ...wire, bin: 'not bytes' }, 16)).toBe('deltas: bad state bytes');
    expect(parseMessage({ ...envelope, k: 'deltas', first: 1, last: 1, ...wire, n: -1 }, 16)).toBe('deltas: bad state bytes');
  });

  it('a file record whose states are in no wire form is refused, not a crash', () => {
    const listener = { keyWritten: (): void => {}, keyExpired: (): void => {}, keyCreated: (): void => {} };
    const keyspace = new Keyspace(16, 1, { nowMs: () => 1_800_000_000_000, expiryPaused: false }, listener);
    let tick = 0;
    const crdt = new KeyCrdt('f'.repeat(40), { now: () => ++tick }, 16, () => {});
    for (const db of keyspace.all()) db.crdt = crdt;
    const counts = { loaded: 0, expired: 0, foreign: false, maxTs: 0 };
    for (const w of [{ o: [], n: 1, bin: 'x' }, { o: [], n: 1e9, bin: new Uint8Array(1) }, { o: [], s: 'x' }, { o: 'x' }]) {
      expect(() => applyRecord(keyspace, crdt, { w }, 0, counts)).toThrow(/bad key states/);
    }
    const good = encodeStates([[0, 'k', { ts: 5, o: 'n1', g: 0, t: 'string', v: 'v', x: 0, e: 0 }]]);
    applyRecord(keyspace, crdt, { w: good }, 0, counts);
    expect(keyspace.db(0).entryAt('k')?.value).toBe('v');
  });

  it('ownString copies any text exactly', () => {
    fc.assert(fc.property(fc.oneof(text, fc.string({ unit: 'binary', minLength: 17000, maxLength: 17100 })), (x) => {
        expect(ownString(x)).toBe(x);
      }),
    );
  });
});
