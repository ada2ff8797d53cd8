import type { Database } from '../store/database.js';
import type { KeyCrdt } from './key-crdt.js';
import { GROUP_COUNT, GROUP_FANOUT, leafOf } from './merkle.js';
import type { AeDiff, AeDone, AeGroups, AeKeys, AeLeaves, KeyStateItem, States } from './messages.js';
import type { PeerSession } from './peer.js';
import { pushState } from './state-apply.js';
import { encodeStates, type WireStates } from './wire.js';

/** Most keys one round compares; the rest waits for the next round (bounds message size and pause). */
export const AE_MAX_KEYS = 20_000;

/** What anti-entropy needs from the replicator. */
export interface AeHost {
  readonly crdt: KeyCrdt;
  dbs(): readonly Database[];
  hlcNow(): number;
  nowMs(): number;
  send(peer: PeerSession, message: Record<string, unknown>): boolean;
  /** Merges states received from a peer, in wire form. */
  applyWire(peer: PeerSession, wire: WireStates): void;
  /**
   * This node merged the peer's side of a complete round, whichever of the
   * two started it: it holds what the peer held when the round began.
   */
  roundMerged(peer: PeerSession): void;
  /** A round this node started ended; an incomplete one is followed by another at once. */
  roundEnded(peer: PeerSession, complete: boolean): void;
  /**
   * Whether a round that found `differingLeaves` of LEAF_COUNT leaves
   * different should stop here, before either side scans its keyspace:
   * true while deltas on their way explain that much difference.
   */
  deferRound(peer: PeerSession, differingLeaves: number): boolean;
}

/**
 * Merkle anti-entropy, one round between an initiator I and a responder R:
 *
 *   I -> R  ae1     group hashes of every database
 *   R -> I  ae2     R's leaves of the groups that differ (none: in sync)
 *   I -> R  ae3     I's [key, digest] in the leaves that differ
 *   R -> I  ae4     R's states that I lacks or differs on, and the keys R wants:
 *                   I merges them and now holds everything R held at the start
 *   I -> R  states  the states R wanted
 *   R -> I  aedone  R merged them: R now holds everything I held at the start
 *
 * Only differing branches are walked and only differing keys are shipped.
 * A complete round is what allows tombstone collection (replicator.ts).
 */
export class AntiEntropy {
  private nextRound = 1;

  constructor(private readonly host: AeHost) {}

  start(peer: PeerSession): void {
    const round = this.nextRound++;
    peer.aeRound = { round, startHlc: this.host.hlcNow(), progressMs: this.host.nowMs(), complete: true };
    const g: [number, number[]][] = this.host.dbs().map((db) => [db.id, this.host.crdt.merkle[db.id]!.groups()]);
    this.host.send(peer, { k: 'ae1', round, g });
  }

  /** Responder: which groups differ. */
  onGroups(peer: PeerSession, m: AeGroups): void {
    const l: [number, number, number[]][] = [];
    for (const [db, theirs] of m.g) {
      const summary = this.host.crdt.merkle[db]!;
      const mine = summary.groups();
      for (let g = 0; g < GROUP_COUNT; g++) if (mine[g] !== theirs[g]) l.push([db, g, summary.groupLeaves(g)]);
    }
    this.host.send(peer, { k: 'ae2', round: m.round, l });
  }

  /** Initiator: which leaves differ; sends its keys in them. */
  onLeaves(peer: PeerSession, m: AeLeaves): void {
    const r = this.current(peer, m.round);
    if (r === null) return;
    if (m.l.length === 0) return this.finish(peer, true, m.hlc);
    const wanted: [number, number][] = [];
    for (const [db, group, theirs] of m.l) {
      const leaves = this.host.crdt.merkle[db]!.groupLeaves(group);
      for (let i = 0; i < GROUP_FANOUT; i++) if (leaves[i] !== theirs[i]) wanted.push([db, group * GROUP_FANOUT + i]);
    }
    if (this.host.deferRound(peer, wanted.length)) return this.finish(peer, false, m.hlc);
    const { leaves, keys, complete } = this.collect(wanted);
    r.complete &&= complete;
    this.host.send(peer, { k: 'ae3', round: m.round, leaves, keys, complete });
  }

  /** Responder: ships what differs, asks for what it lacks. */
  onKeys(peer: PeerSession, m: AeKeys): void {
    const theirs = new Map<string, number>();
    for (const [db, key, digest] of m.keys) theirs.set(dbKey(db, key), digest);
    const mine = this.collect(m.leaves, Infinity);
    const s: KeyStateItem[] = [];
    let complete = m.complete;
    for (const [db, key, digest] of mine.keys) {
      const id = dbKey(db, key);
      if (theirs.get(id) === digest) {
        theirs.delete(id); // equal on both sides
      } else if (s.length < AE_MAX_KEYS) {
        pushState(s, this.host.crdt, this.host.dbs()[db]!, key);
      } else {
        complete = false;
      }
    }
    // What is left of theirs differs from, or is missing in, this node.
    const want = Array.from(theirs.keys(), (id): [number, string] => {
      const at = id.indexOf('\u0000');
      return [Number(id.slice(0, at)), id.slice(at + 1)];
    });
    this.host.send(peer, { k: 'ae4', round: m.round, ...encodeStates(s), want, complete });
  }

  /** Initiator: merges the responder's states, sends the ones it asked for. */
  onDiff(peer: PeerSession, m: AeDiff): void {
    const r = this.current(peer, m.round);
    if (r === null) return;
    this.host.applyWire(peer, m);
    // Caught up with the responder here already: waiting for its aedone too
    // kept a starting node refusing clients for a round's timeout whenever
    // that message was lost (simulator, cluster seed 2454).
    if (r.complete && m.complete) this.host.roundMerged(peer);
    const s: KeyStateItem[] = [];
    for (const [db, key] of m.want) pushState(s, this.host.crdt, this.host.dbs()[db]!, key);
    this.host.send(peer, { k: 'states', round: m.round, ...encodeStates(s), complete: r.complete && m.complete });
  }

  /** Responder: merges and confirms. */
  onStates(peer: PeerSession, m: States): void {
    this.host.applyWire(peer, m);
    this.host.send(peer, { k: 'aedone', round: m.round, complete: m.complete });
    if (m.complete) this.host.roundMerged(peer);
  }

  onDone(peer: PeerSession, m: AeDone): void {
    if (this.current(peer, m.round) !== null) this.finish(peer, m.complete, m.hlc);
  }

  /** Drops a round that made no progress for timeoutMs (a lost message). */
  expire(peer: PeerSession, timeoutMs: number): void {
    if (peer.aeRound !== null && this.host.nowMs() - peer.aeRound.progressMs > timeoutMs) peer.aeRound = null;
  }

  private current(peer: PeerSession, round: number): PeerSession['aeRound'] {
    const r = peer.aeRound;
    if (r === null || r.round !== round) return null;
    r.progressMs = this.host.nowMs();
    return r;
  }

  /** doneHlc: the responder's HLC when it confirmed (its ae2 or aedone envelope). */
  private finish(peer: PeerSession, complete: boolean, doneHlc: number): void {
    const r = peer.aeRound!;
    if (complete && r.complete) peer.roundCompleted(r.startHlc, doneHlc);
    peer.aeRound = null;
    this.host.roundEnded(peer, complete && r.complete);
  }

  /**
   * The [db, key, digest] of every key (live or tombstone) in the given
   * leaves, whole leaves only, up to `budget` keys. One pass over each
   * database involved: leaves have no key index (memory per key matters more
   * than the cost of a scan once per round with differences).
   */
  private collect(leaves: [number, number][], budget = AE_MAX_KEYS): { leaves: [number, number][]; keys: [number, string, number][]; complete: boolean } {
    const byLeaf = new Map<number, [number, string, number][]>();
    for (const [db, leaf] of leaves) byLeaf.set(db * 65536 + leaf, []);
    for (const db of new Set(leaves.map((x) => x[0]))) this.scanInto(db, byLeaf);
    const out = { leaves: [] as [number, number][], keys: [] as [number, string, number][], complete: true };
    for (const [db, leaf] of leaves) {
      const keys = byLeaf.get(db * 65536 + leaf)!;
      if (out.keys.length + keys.length > budget && out.leaves.length > 0) {
        out.complete = false;
        break;
      }
      out.leaves.push([db, leaf]);
      for (const k of keys) out.keys.push(k);
    }
    return out;
  }

  private scanInto(dbIndex: number, byLeaf: Map<number, [number, string, number][]>): void {
    const db = this.host.dbs()[dbIndex]!;
    const base = dbIndex * 65536;
    for (const e of db.entries()) {
      if (e.crdt === null) continue;
      byLeaf.get(base + leafOf(e.key))?.push([dbIndex, e.key, e.crdt.digest]);
    }
    for (const [key, tomb] of this.host.crdt.tombstones[dbIndex]!) byLeaf.get(base + leafOf(key))?.push([dbIndex, key, tomb.digest]);
    for (const [key, h] of this.host.crdt.hidden[dbIndex]!) byLeaf.get(base + leafOf(key))?.push([dbIndex, key, h.crdt!.digest]);
  }
}

function dbKey(db: number, key: string): string {
  return `${db}\u0000${key}`;
}

