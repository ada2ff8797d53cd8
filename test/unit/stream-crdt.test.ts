/**
 * The stream CRDT's join (src/replication/stream-crdt.ts) on states that
 * replicas reach: three replicas run stream operations (XADD with colliding
 * IDs, XDEL, groups, deliveries, XACK, SETID, consumer deletes) and merge
 * each other's states at random, and then
 *
 * - merge is commutative, associative and idempotent, and leaves its inputs alone;
 * - merging the states in any order, with duplicates, gives the same state;
 * - every XADD survives unless a replica that had seen it removed it, or a
 *   concurrent entry with a larger stamp took its ID;
 * - the wire form survives msgpackr and decodes to the same state; junk is refused, never thrown.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { compareVersion } from '../../src/crdt/key-state.js';
import {
  copyGroup, decodeDoc, docDigest, emptyDoc, encodeDoc, isLive, mergeDoc, newGroup, type StreamDoc,
} from '../../src/replication/stream-crdt.js';
import { makeId, type StreamId } from '../../src/store/stream-id.js';

const ORIGINS = ['alpha', 'constructor', 'zed'];
const GROUPS = ['g1', '__proto__'];
const CONSUMERS = ['c1', 'c2'];

type Op =
  | { k: 'xadd'; ms: number }
  | { k: 'xdel'; pick: number }
  | { k: 'create'; g: number }
  | { k: 'destroy'; g: number }
  | { k: 'deliver'; g: number; c: number }
  | { k: 'ack'; g: number; pick: number }
  | { k: 'setid'; g: number; ms: number }
  | { k: 'delconsumer'; g: number; c: number };

const g = fc.nat({ max: GROUPS.length - 1 });
const c = fc.nat({ max: CONSUMERS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('xadd' as const), ms: fc.nat({ max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('xdel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('create' as const), g }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('destroy' as const), g }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('deliver' as const), g, c }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('ack' as const), g, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('setid' as const), g, ms: fc.nat({ max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('delconsumer' as const), g, c }) },
);

type Step = { kind: 'op'; r: number; op: Op } | { kind: 'sync'; from: number; to: number };
const replica = fc.nat({ max: ORIGINS.length - 1 });
const stepsArb: fc.Arbitrary<Step[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('op' as const), r: replica, op: opArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: replica, to: replica }) },
  ),
  { maxLength: 40 },
);

interface Added {
  id: StreamId;
  ts: number;
  origin: string;
}

interface Run {
  states: StreamDoc[];
  added: Added[];
  /** Stamps of the entries removed by XDEL: [id, ts, origin]. */
  removed: Added[];
}

/** Applies one operation as the keyspace would (stream-writes.ts), with a shared clock for stamps. */
function apply(d: StreamDoc, op: Op, origin: string, stamp: () => number, run: Run): void {
  const now = stamp();
  if (op.k === 'xadd') return xadd(d, op.ms, origin, now, run);
  if (op.k === 'xdel') {
    const live = [...d.entries].filter(([, r]) => isLive(r));
    if (live.length === 0) return;
    const [id, r] = live[op.pick % live.length]!;
    d.entries.set(id, { ...r, gen: r.gen + 1, fields: null, removedAt: now, heldSince: now });
    if (id > d.maxDeletedId) d.maxDeletedId = id;
    run.removed.push({ id, ts: r.ts, origin: r.origin });
    return;
  }
  groupOp(d, op, origin, now);
}

function xadd(d: StreamDoc, ms: number, origin: string, now: number, run: Run): void {
  const candidate = makeId(BigInt(ms), 0n);
  const id = candidate > d.lastId ? candidate : d.lastId + 1n;
  const old = d.entries.get(id);
  const ts = Math.max(now, (old?.ts ?? 0) + 1);
  d.entries.set(id, { ts, origin, gen: 0, removedAt: 0, heldSince: 0, fields: ['f', `${origin}:${ts}`] });
  d.lastId = id;
  d.added.set(origin, (d.added.get(origin) ?? 0) + 1);
  run.added.push({ id, ts, origin });
}

function groupOp(d: StreamDoc, op: Exclude<Op, { k: 'xadd' } | { k: 'xdel' }>, origin: string, now: number): void {
  const name = GROUPS[op.g]!;
  const rec = d.groups.get(name);
  if (op.k === 'create') {
    if (rec === undefined || !isLive(rec)) d.groups.set(name, newGroup(rec === undefined ? 0 : rec.gen + 1, d.lastId, -1));
    return;
  }
  if (rec === undefined || !isLive(rec)) return;
  if (op.k === 'destroy') return void d.groups.set(name, newGroup(rec.gen + 1, 0n, 0, now, now));
  if (op.k === 'setid') {
    rec.epoch++;
    rec.lastId = makeId(BigInt(op.ms), 0n);
    return;
  }
  if (op.k === 'ack') {
    const live = [...rec.pel].filter(([, p]) => isLive(p));
    if (live.length === 0) return;
    const [id, p] = live[op.pick % live.length]!;
    rec.pel.set(id, { ...p, gen: p.gen + 1, removedAt: now, heldSince: now });
    return;
  }
  const consumer = CONSUMERS[op.c]!;
  if (op.k === 'deliver') return deliver(d, name, consumer, origin, now);
  const cr = rec.consumers.get(consumer);
  if (cr !== undefined && isLive(cr)) rec.consumers.set(consumer, { ...cr, gen: cr.gen + 1, removedAt: now, heldSince: now });
  for (const [id, p] of rec.pel) if (isLive(p) && p.consumer === consumer) rec.pel.set(id, { ...p, gen: p.gen + 1, removedAt: now, heldSince: now });
}

function deliver(d: StreamDoc, name: string, consumer: string, origin: string, now: number): void {
  const rec = d.groups.get(name)!;
  const next = [...d.entries].filter(([id, r]) => isLive(r) && id > rec.lastId).sort(([a], [b]) => (a < b ? -1 : 1))[0];
  if (next === undefined) return;
  const [id] = next;
  const old = rec.pel.get(id);
  const cr = rec.consumers.get(consumer);
  if (cr === undefined || !isLive(cr)) rec.consumers.set(consumer, { gen: cr === undefined ? 0 : cr.gen + 1, seenTime: now, removedAt: 0, heldSince: 0 });
  const ts = Math.max(now, (old?.ts ?? 0) + 1);
  rec.pel.set(id, { ts, origin, gen: 0, removedAt: 0, heldSince: 0, consumer, deliveryTime: now, deliveryCount: 1 });
  rec.lastId = id;
}

function clone(d: StreamDoc): StreamDoc {
  const out = emptyDoc();
  mergeDoc(out, d);
  return out;
}

function merged(...docs: StreamDoc[]): StreamDoc {
  const out = emptyDoc();
  for (const d of docs) mergeDoc(out, d);
  return out;
}

function play(steps: readonly Step[]): Run {
  let clock = 1000;
  const stamp = (): number => ++clock;
  const run: Run = { states: ORIGINS.map(() => emptyDoc()), added: [], removed: [] };
  for (const s of steps) {
    if (s.kind === 'op') apply(run.states[s.r]!, s.op, ORIGINS[s.r]!, stamp, run);
    else mergeDoc(run.states[s.to]!, run.states[s.from]!);
  }
  return run;
}

const byKey = <K,>(a: [K, unknown], b: [K, unknown]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** Sorted, without local-only fields (heldSince). */
function canonical(d: StreamDoc): unknown {
  const strip = ({ heldSince: _h, ...rest }: { heldSince: number }): unknown => rest;
  return {
    lastId: d.lastId,
    maxDeletedId: d.maxDeletedId,
    base: d.base,
    added: [...d.added].sort(byKey),
    entries: [...d.entries].sort(byKey).map(([id, r]) => [id, strip(r)]),
    groups: [...d.groups].sort(byKey).map(([name, gr]) => [
      name,
      { ...(strip(gr) as object), pel: [...gr.pel].sort(byKey).map(([id, p]) => [id, strip(p)]), consumers: [...gr.consumers].sort(byKey).map(([n, r]) => [n, strip(r)]) },
    ]),
  };
}

const RUNS = { numRuns: 300 };

describe('stream CRDT join', () => {
  it('is commutative, associative and idempotent on reachable states', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const [a, b, c3] = play(steps).states as [StreamDoc, StreamDoc, StreamDoc];
        expect(canonical(merged(a, b))).toEqual(canonical(merged(b, a)));
        expect(canonical(merged(merged(a, b), c3))).toEqual(canonical(merged(a, merged(b, c3))));
        expect(canonical(merged(a, a))).toEqual(canonical(clone(a)));
        expect(docDigest(merged(a, b))).toBe(docDigest(merged(b, a)));
      }),
      RUNS,
    );
  });

  it('leaves its inputs alone', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const [a, b, c3] = play(steps).states as [StreamDoc, StreamDoc, StreamDoc];
        const before = [canonical(a), canonical(b), canonical(c3)];
        const m = merged(a, b);
        mergeDoc(m, c3);
        for (const gr of m.groups.values()) gr.pel.clear();
        expect([canonical(a), canonical(b), canonical(c3)]).toEqual(before);
      }),
      RUNS,
    );
  });

  it('any order of merges, with duplicates, converges', () => {
    fc.assert(
      fc.property(stepsArb, fc.array(fc.nat({ max: 2 }), { maxLength: 8 }), (steps, extra) => {
        const { states } = play(steps);
        const order = [2, 0, 1, ...extra];
        const x = emptyDoc();
        for (const i of order) mergeDoc(x, states[i]!);
        expect(canonical(x)).toEqual(canonical(merged(...states)));
      }),
      RUNS,
    );
  });

  it('keeps every XADD unless a replica that saw it removed it or a larger stamp took its ID', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { states, added, removed } = play(steps);
        const m = merged(...states);
        for (const a of added) {
          const r = m.entries.get(a.id)!;
          expect(compareVersion(r.ts, r.origin, r.gen, a.ts, a.origin, 0)).toBeGreaterThanOrEqual(0);
          const winner = added.filter((o) => o.id === a.id).reduce((x, y) => (compareVersion(y.ts, y.origin, 0, x.ts, x.origin, 0) > 0 ? y : x));
          const deleted = removed.some((d) => d.id === a.id && d.ts === winner.ts && d.origin === winner.origin);
          expect(isLive(r)).toBe(!deleted);
          if (!deleted) expect([r.ts, r.origin]).toEqual([winner.ts, winner.origin]);
        }
        let sum = 0;
        for (const n of m.added.values()) sum += n;
        expect(sum).toBe(added.length);
      }),
      RUNS,
    );
  });

  it('groups: a delivery survives unless acknowledged by a replica that saw it', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { states } = play(steps);
        const m = merged(...states);
        for (const s of states) {
          for (const [name, gr] of s.groups) {
            const mg = m.groups.get(name)!;
            expect(mg.gen).toBeGreaterThanOrEqual(gr.gen);
            if (mg.gen !== gr.gen) continue;
            for (const [id, p] of gr.pel) {
              const q = mg.pel.get(id)!;
              expect(compareVersion(q.ts, q.origin, q.gen, p.ts, p.origin, p.gen)).toBeGreaterThanOrEqual(0);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it('the wire form survives msgpackr and decodes to the same state', () => {
    const packr = new Packr();
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const s of play(steps).states) {
          const back = decodeDoc(packr.unpack(packr.pack(encodeDoc(s))), 0);
          expect(typeof back).not.toBe('string');
          expect(canonical(back as StreamDoc)).toEqual(canonical(s));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('refuses malformed states without throwing', () => {
    const junk = fc.oneof(fc.anything(), fc.array(fc.array(fc.oneof(fc.constantFrom('h', 'e', 'g', 'p', 'c', 'a', '1-0', '0-0', -1, 0, 1), fc.anything()), { maxLength: 11 })));
    fc.assert(
      fc.property(junk, (v) => {
        expect(() => decodeDoc(v, 0)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
    const good = encodeDoc(play([{ kind: 'op', r: 0, op: { k: 'xadd', ms: 1 } }]).states[0]!);
    expect(typeof decodeDoc(good, 0)).not.toBe('string');
    for (const bad of [
      [],
      [['h', '1-0', '0-0']],
      [['h', '1-0', '0-0', 0], ['e', '1-0', 5, 'x', 0, 0, 'f']],
      [['h', '1-0', '0-0', 0], ['e', '1-0', 5, 'x', 1, 0, 'f', 'v']],
      [['h', '1-0', '0-0', 0], ['e', '1-0', 5, 'x', 0, 0, 'f', 'v'], ['e', '1-0', 6, 'x', 0, 0, 'f', 'v']],
      [['h', '1-0', '0-0', 0], ['p', 'g', '1-0', 5, 'x', 0, 0, 'c', 1, 1]],
      [['h', '1-0', '0-0', 0], ['g', 'g', 1, 0, '0-0', 0, 0], ['c', 'g', 'c', 0, 0, 0]],
      [['h', 'x', '0-0', 0]],
      [['h', '1-0', '0-0', 0], ['__proto__', 1]],
      [['h', '1-0', '0-0', 0], ['g', 'g', 0, 0, '0-0', -2, 0]],
    ]) {
      expect(typeof decodeDoc(bad, 0)).toBe('string');
    }
  });

  it('copyGroup shares no maps', () => {
    const gr = newGroup(0, 0n, 0);
    const cp = copyGroup(gr);
    cp.pel.set(1n, { ts: 1, origin: 'a', gen: 0, removedAt: 0, heldSince: 0, consumer: 'c', deliveryTime: 0, deliveryCount: 1 });
    expect(gr.pel.size).toBe(0);
  });
});
