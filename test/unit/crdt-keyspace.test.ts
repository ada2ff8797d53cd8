import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { mergeKeyState, type KeyState } from '../../src/crdt/key-state.js';
import { KeyCrdt } from '../../src/replication/key-crdt.js';
import { applyState, stateOf } from '../../src/replication/state-apply.js';
import type { Database } from '../../src/store/database.js';
import type { Bytes } from '../../src/store/entry.js';
import { Keyspace } from '../../src/store/keyspace.js';

/**
 * The whole keyspace as a CRDT: replicas run random string operations and
 * exchange the resulting key states (through msgpack, as on the wire) in
 * any interleaving, with duplicates. Whatever the order, every replica ends
 * identical, equal to the join of every state produced, with identical
 * Merkle summaries.
 */

const NOW_MS = 1_800_000_000_000;
const KEYS = ['k1', 'k2', 'k3'];

class Replica {
  readonly crdt: KeyCrdt;
  readonly keyspace: Keyspace;
  private tick = 0;
  /** Every state this replica produced by its own operations. */
  readonly produced: [string, KeyState][] = [];

  constructor(readonly id: string) {
    const clock = { nowMs: () => NOW_MS, expiryPaused: false };
    const listener = {
      keyWritten: (db: Database, key: string, event: string) => this.crdt.written(db, key, event),
      keyExpired: (db: Database, key: string) => this.crdt.expired(db, key),
      keyCreated: () => undefined,
    };
    this.keyspace = new Keyspace(1, 7, clock, listener);
    // Each replica's clock runs at its own pace (skew): stamps interleave across replicas.
    this.crdt = new KeyCrdt(id, { now: () => ++this.tick * 3 + id.charCodeAt(0) }, 1, (db, key) => {
      const s = stateOf(this.crdt, db, key);
      if (s !== null) this.produced.push([key, unpack(pack(s)) as KeyState]);
    });
    this.db.crdt = this.crdt;
  }

  get db(): Database {
    return this.keyspace.db(0);
  }

  run(op: Op): void {
    const db = this.db;
    const e = db.lookup(op.key);
    switch (op.kind) {
      case 'set':
        db.set(op.key, 'string', op.value);
        return db.written(op.key, 'set');
      case 'incr': {
        if (e !== undefined && !/^-?\d+$/.test(String(e.value))) return;
        const prev = e?.value as Bytes | undefined;
        db.set(op.key, 'string', String(BigInt(prev === undefined ? '0' : String(prev)) + BigInt(op.amount)), true);
        const agreed = db.incremented(op.key, prev, op.amount, 0);
        if (agreed !== null) db.keys.get(op.key)!.value = agreed;
        return db.written(op.key, 'incrby');
      }
      case 'del':
        if (e === undefined) return;
        db.delete(op.key);
        return db.written(op.key, 'del');
      case 'expire':
        if (e === undefined) return;
        db.removeExpire(e);
        if (op.amount > 0) db.setExpire(e, NOW_MS + op.amount * 1000);
        return db.written(op.key, op.amount > 0 ? 'expire' : 'persist');
    }
  }

  receive(key: string, s: KeyState): void {
    applyState(this.crdt, this.db, key, unpack(pack(s)) as KeyState);
  }

  /** Canonical view: per key, the visible value and TTL plus the CRDT state. */
  view(): string {
    return JSON.stringify(
      KEYS.map((k) => {
        const e = this.db.keys.get(k);
        const s = stateOf(this.crdt, this.db, k);
        return [k, e === undefined ? null : String(e.value), e?.expireAt ?? 0, s === null ? null : canon(s)];
      }),
    );
  }
}

function canon(s: KeyState): string {
  return JSON.stringify([s.ts, s.o, s.g, s.t ?? null, s.v ?? null, s.x ?? 0, s.e ?? 0, s.c ?? [], (s.g & 1) === 1]);
}

type Op = { kind: 'set' | 'incr' | 'del' | 'expire'; key: string; value: string; amount: number };

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('set', 'incr', 'incr', 'del', 'expire'),
  key: fc.constantFrom(...KEYS),
  value: fc.constantFrom('1', '7', 'x'),
  amount: fc.integer({ min: -3, max: 5 }),
});

/** A step: replica r runs an op, or receives the n-th state produced so far (modulo), possibly again. */
const step = fc.oneof(
  fc.record({ r: fc.nat(2), op }),
  fc.record({ r: fc.nat(2), deliver: fc.nat(10_000) }),
);

describe('keyspace CRDT', () => {
  it('converges to the join of all states whatever the delivery order', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.nat(), (steps, shuffleSeed) => {
        const replicas = [new Replica('a'), new Replica('b'), new Replica('c')];
        const all = (): [string, KeyState][] => replicas.flatMap((r) => r.produced);
        for (const s of steps) {
          if ('op' in s) replicas[s.r]!.run(s.op);
          else {
            const produced = all();
            if (produced.length > 0) replicas[s.r]!.receive(...produced[s.deliver % produced.length]!);
          }
        }
        // Deliver everything to everyone, each replica in its own order.
        const everything = all();
        replicas.forEach((r, i) => {
          const order = everything.map((_, j) => j).sort((x, y) => ((x * 7919 + shuffleSeed + i) % 101) - ((y * 7919 + shuffleSeed + i) % 101));
          for (const j of order) r.receive(...everything[j]!);
        });
        const views = replicas.map((r) => r.view());
        expect(views[1]).toBe(views[0]);
        expect(views[2]).toBe(views[0]);
        expect(Array.from(replicas[1]!.crdt.merkle[0]!.leaves)).toEqual(Array.from(replicas[0]!.crdt.merkle[0]!.leaves));
        for (const k of KEYS) {
          const states = everything.filter(([key]) => key === k).map(([, s]) => s);
          const mine = stateOf(replicas[0]!.crdt, replicas[0]!.db, k);
          if (states.length === 0) expect(mine).toBeNull();
          else expect(canon(mine!)).toBe(canon(states.reduce(mergeKeyState)));
        }
      }),
      { numRuns: 400 },
    );
  });
});
