import type { KeyStateItem } from '../replication/messages.js';
import { pushState } from '../replication/state-apply.js';
import { encodeStates, type WireStates } from '../replication/wire.js';
import type { Logger } from '../log.js';
import type { Replicator } from '../replication/replicator.js';
import type { Database } from '../store/database.js';
import type { Keyspace } from '../store/keyspace.js';
import type { ClusterNode } from './node.js';
import type { ClusterState } from './state.js';

/**
 * Slot handoff. A primary that loses slots to another shard (a slot move it
 * missed while partitioned, a conflicting claim with a newer epoch) may hold
 * writes the new owner never saw: acknowledged writes Redis would drop. The
 * keys of each lost slot are shipped (their CRDT states, a bounded batch per
 * message) to the slot's current owner, which merges them and replicates
 * them to its replicas; only once the owner acknowledges a batch are its
 * keys deleted here. Unacknowledged batches are sent again, to whoever owns
 * the slot by then; a slot that comes back to this node is kept.
 */

/** Keys per handoff message (a message must stay well under the bus's size bound). */
const KEYS_PER_MESSAGE = 500;
/** A batch not acknowledged within this time is sent again. */
const RESEND_AFTER_MS = 1000;

interface InFlight {
  id: number;
  to: string;
  slot: number;
  keys: string[];
  /** Each key's CRDT digest when shipped: a key written since is not what the owner got, and stays. */
  digests: number[];
  sentMs: number;
}

/** What the handoff needs of the node (the Server provides it). */
export interface HandoffHost {
  readonly keyspace: Keyspace;
  readonly replication: Replicator | null;
  readonly log: Logger;
  runAsCommand(fn: () => void): void;
  keyWritten(db: Database, key: string, event: string): void;
}

export interface HandoffSend {
  (to: ClusterNode, id: number, slots: number[], states: WireStates): boolean;
}

export class SlotHandoff {
  /** Slots this node lost and still holds keys of. */
  private readonly pending = new Set<number>();
  private inFlight: InFlight | null = null;
  private nextId = 1;

  constructor(
    private readonly server: HandoffHost,
    private readonly send: HandoffSend,
  ) {}

  lost(slots: readonly number[]): void {
    for (const s of slots) this.pending.add(s);
  }

  /** Called each cluster tick: sends the next batch, or resends one the owner did not acknowledge. */
  tick(state: ClusterState, nowMs: number): void {
    if (this.pending.size === 0) return;
    if (this.inFlight !== null && nowMs - this.inFlight.sentMs < RESEND_AFTER_MS) return;
    this.inFlight = null;
    const db0 = this.server.keyspace.db(0);
    for (const slot of [...this.pending]) {
      const owner = state.ownerOf(slot);
      if (owner === state.myself) {
        this.pending.delete(slot); // it came back: the keys are ours again
        continue;
      }
      if (owner === null) continue; // nobody serves it yet: wait for the new owner
      const keys = db0.slotKeys!.keys(slot, KEYS_PER_MESSAGE);
      if (keys.length === 0) {
        this.pending.delete(slot);
        continue;
      }
      this.ship(owner, slot, keys, nowMs);
      return;
    }
  }

  private ship(owner: ClusterNode, slot: number, keys: string[], nowMs: number): void {
    const r = this.server.replication!;
    const db0 = this.server.keyspace.db(0);
    const items: KeyStateItem[] = [];
    for (const key of keys) pushState(items, r.crdt, db0, key);
    const digests = keys.map((key) => db0.entryAt(key)?.crdt?.digest ?? 0);
    const id = this.nextId++;
    if (this.send(owner, id, [slot], encodeStates(items))) this.inFlight = { id, to: owner.id, slot, keys, digests, sentMs: nowMs };
  }

  /**
   * The owner merged a batch: its keys leave this node (deleted as writes, so
   * this shard's replicas drop them too), unless the slot came back to this
   * node meanwhile (then they are its keys again). A key written since it
   * was shipped (a replica's delta merged here) is not deleted: the slot is
   * still pending, and the next batch ships its newer state.
   */
  acked(id: number, from: string, state: ClusterState): void {
    const f = this.inFlight;
    if (f === null || f.id !== id || f.to !== from) return;
    this.inFlight = null;
    if (state.ownerOf(f.slot) === state.myself) return;
    const s = this.server;
    const db0 = s.keyspace.db(0);
    s.runAsCommand(() => {
      f.keys.forEach((key, i) => {
        if ((db0.entryAt(key)?.crdt?.digest ?? 0) !== f.digests[i]) return;
        if (db0.delete(key) !== undefined) s.keyWritten(db0, key, 'del');
      });
    });
    s.log.info({ keys: f.keys.length, to: from }, 'Handed the keys of a lost slot to its owner');
  }
}
