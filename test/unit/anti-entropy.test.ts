import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { AntiEntropy } from '../../src/replication/anti-entropy.js';
import { KeyCrdt } from '../../src/replication/key-crdt.js';
import { parseMessage, type ReplMessage } from '../../src/replication/messages.js';
import { PeerSession } from '../../src/replication/peer.js';
import { applyState } from '../../src/replication/state-apply.js';
import { decodeStates } from '../../src/replication/wire.js';
import type { Database } from '../../src/store/database.js';
import { Keyspace } from '../../src/store/keyspace.js';
import type { BusLink } from '../../src/transport/bus.js';

/**
 * One anti-entropy round between two nodes wired back to back, each message
 * through msgpack and the bus's shape checks as on the wire, with chosen
 * kinds of message lost. What matters here is when each side counts itself
 * caught up (roundMerged: a starting node serves its clients from then on).
 */

const NOW_MS = 1_800_000_000_000;

class Node {
  readonly crdt: KeyCrdt;
  readonly keyspace: Keyspace;
  readonly ae: AntiEntropy;
  peer!: PeerSession;
  other!: Node;
  merged = 0;
  ended: boolean[] = [];
  /** Rounds that find this many differing leaves stop there (Infinity: never). */
  deferFrom = Infinity;
  private tick = 0;

  constructor(
    readonly name: string,
    dropped: ReadonlySet<string>,
  ) {
    const listener = {
      keyWritten: (db: Database, key: string, event: string) => this.crdt.written(db, key, event),
      keyExpired: (db: Database, key: string) => this.crdt.expired(db, key),
      keyCreated: () => undefined,
    };
    this.keyspace = new Keyspace(1, 7, { nowMs: () => NOW_MS, expiryPaused: false }, listener);
    this.crdt = new KeyCrdt(name, { now: () => ++this.tick * 2 + name.charCodeAt(0) }, 1, () => undefined);
    this.keyspace.db(0).crdt = this.crdt;
    this.ae = new AntiEntropy({
      crdt: this.crdt,
      dbs: () => this.keyspace.all(),
      hlcNow: () => this.tick,
      nowMs: () => NOW_MS,
      send: (_peer, m) => {
        if (!dropped.has(m.k as string)) this.other.receive({ ...m, id: this.name, from: this.name, hlc: this.tick });
        return true;
      },
      applyWire: (_peer, wire) => {
        const db = this.keyspace.db(0);
        for (const [, key, s] of decodeStates(wire, 1, (why) => expect.fail(why))) applyState(this.crdt, db, key, s);
      },
      roundMerged: () => this.merged++,
      roundEnded: (_peer, complete) => this.ended.push(complete),
      deferRound: (_peer, differingLeaves) => differingLeaves >= this.deferFrom,
    });
  }

  set(key: string, value: string): void {
    const db = this.keyspace.db(0);
    db.set(key, 'string', value);
    db.written(key, 'set');
  }

  get(key: string): unknown {
    return this.keyspace.db(0).keys.get(key)?.value;
  }

  private receive(raw: Record<string, unknown>): void {
    const m = parseMessage(unpack(pack(raw)), 1) as ReplMessage;
    expect(typeof m).toBe('object');
    const ae = this.ae as unknown as Record<string, (peer: PeerSession, m: ReplMessage) => void>;
    const handler = { ae1: 'onGroups', ae2: 'onLeaves', ae3: 'onKeys', ae4: 'onDiff', states: 'onStates', aedone: 'onDone' }[m.k as string]!;
    ae[handler]!.call(this.ae, this.peer, m);
  }
}

function pair(dropped: string[]): [Node, Node] {
  const lost = new Set(dropped);
  const a = new Node('a', lost);
  const b = new Node('b', lost);
  a.other = b;
  b.other = a;
  const link = { state: 'ready' } as unknown as BusLink;
  a.peer = new PeerSession({ host: 'b', port: 1 }, 'b', link);
  b.peer = new PeerSession({ host: 'a', port: 1 }, 'a', link);
  return [a, b];
}

describe('anti-entropy round', () => {
  it('makes both sides hold the union, each caught up once it merged the other side', () => {
    const [a, b] = pair([]);
    a.set('only-a', '1');
    b.set('only-b', '2');
    b.set('both', 'from-b');
    // a's clock reaches further: its last version of the key wins everywhere.
    a.set('both', 'first');
    a.set('both', 'from-a');
    a.ae.start(a.peer);
    for (const n of [a, b]) {
      expect([n.get('only-a'), n.get('only-b'), n.get('both')]).toEqual(['1', '2', 'from-a']);
      expect(n.merged).toBe(1);
    }
    expect(a.ended).toEqual([true]);
    expect(a.peer.aeRoundsCompleted).toBe(1);
  });

  it('counts the initiator caught up when the responder merged nothing back (aedone lost)', () => {
    const [a, b] = pair(['aedone']);
    b.set('k', 'v');
    a.ae.start(a.peer);
    expect(a.get('k')).toBe('v');
    expect(a.merged).toBe(1);
    // The round itself stays open: only aedone tells a that b holds a's states (tombstone collection).
    expect(a.ended).toEqual([]);
    expect(a.peer.aeRoundsCompleted).toBe(0);
  });

  it('does not count an initiator caught up before the responder sent its states', () => {
    const [a, b] = pair(['ae4']);
    b.set('k', 'v');
    a.ae.start(a.peer);
    expect(a.get('k')).toBeUndefined();
    expect(a.merged).toBe(0);
    expect(b.merged).toBe(0);
  });

  it('stops at the leaves when the host defers, before either side ships states', () => {
    const [a, b] = pair([]);
    for (let i = 0; i < 50; i++) b.set(`k${i}`, 'v');
    a.deferFrom = 10;
    a.ae.start(a.peer);
    expect(a.get('k0')).toBeUndefined();
    expect(a.ended).toEqual([false]);
    expect(a.merged).toBe(0);
    // A small difference is not deferred.
    a.deferFrom = 1000;
    a.ae.start(a.peer);
    expect(a.get('k0')).toBe('v');
    expect(a.ended).toEqual([false, true]);
  });
});
