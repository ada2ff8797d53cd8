import { ClusterNode, NODE_FLAG } from './node.js';
import { SLOT_COUNT } from './slots.js';

/**
 * The cluster configuration as this node sees it (Redis's clusterState):
 * the known nodes, who serves each slot, slots being migrated or imported,
 * and the epochs. Only bookkeeping lives here: no I/O, no timers, so the
 * commands, the gossip protocol, nodes.conf and the simulator share it.
 */
export class ClusterState {
  readonly nodes = new Map<string, ClusterNode>();
  currentEpoch = 0;
  /** The epoch this node last voted in (a primary votes once per epoch). */
  lastVoteEpoch = 0;
  /** 'ok' while every slot is served and a majority of primaries is reachable. */
  state: 'ok' | 'fail' = 'fail';
  /** Slot -> the node serving it. */
  readonly owners: (ClusterNode | null)[] = new Array<ClusterNode | null>(SLOT_COUNT).fill(null);
  /** Slot -> the node this one moves it to (SETSLOT MIGRATING), on the source. */
  readonly migratingTo: (ClusterNode | null)[] = new Array<ClusterNode | null>(SLOT_COUNT).fill(null);
  /** Slot -> the node this one takes it from (SETSLOT IMPORTING), on the target. */
  readonly importingFrom: (ClusterNode | null)[] = new Array<ClusterNode | null>(SLOT_COUNT).fill(null);
  /**
   * Slots whose owner (in this view) no longer claims them in its own
   * messages (Redis 7.2's owner_not_claiming_slot): another node's claim for
   * such a slot wins whatever its epoch, so a view left stale by a slot move
   * it missed still converges. Cleared whenever the slot changes hands.
   */
  readonly ownerNotClaiming = new Uint8Array(SLOT_COUNT);
  /** Ids this node was told to FORGET: not re-added from gossip until the time (Unix ms). */
  readonly blacklist = new Map<string, number>();

  constructor(public myself: ClusterNode) {
    this.nodes.set(myself.id, myself);
  }

  node(id: string): ClusterNode | undefined {
    return this.nodes.get(id);
  }

  addNode(n: ClusterNode): void {
    if (this.nodes.has(n.id)) throw new Error(`cluster node ${n.id} added twice`);
    this.nodes.set(n.id, n);
  }

  /** Forgets a node: its slots become unassigned, migrations towards it stop, its reports are dropped. */
  removeNode(n: ClusterNode): void {
    if (n === this.myself) throw new Error('cannot remove myself');
    for (let s = 0; s < SLOT_COUNT; s++) {
      if (this.owners[s] === n) this.unassign(s);
      if (this.migratingTo[s] === n) this.migratingTo[s] = null;
      if (this.importingFrom[s] === n) this.importingFrom[s] = null;
    }
    for (const other of this.nodes.values()) {
      other.failReports.delete(n.id);
      if (other.primaryId === n.id) other.primaryId = '';
    }
    this.nodes.delete(n.id);
  }

  /** A handshake node learned its real id from its first answer. */
  rename(n: ClusterNode, id: string): void {
    this.nodes.delete(n.id);
    n.id = id;
    this.nodes.set(id, n);
  }

  ownerOf(slot: number): ClusterNode | null {
    return this.owners[slot]!;
  }

  /** Gives the slot to `n`, taking it from its previous owner. */
  assign(slot: number, n: ClusterNode): void {
    const prev = this.owners[slot]!;
    if (prev === n) return;
    if (prev !== null) prev.slots.delete(slot);
    n.slots.add(slot);
    this.owners[slot] = n;
    this.ownerNotClaiming[slot] = 0;
  }

  unassign(slot: number): boolean {
    const prev = this.owners[slot]!;
    if (prev === null) return false;
    prev.slots.delete(slot);
    this.owners[slot] = null;
    this.ownerNotClaiming[slot] = 0;
    return true;
  }

  /** Unassigned, or its owner stopped claiming it (isSlotUnclaimed). */
  unclaimed(slot: number): boolean {
    return this.owners[slot] === null || this.ownerNotClaiming[slot] === 1;
  }

  primaryOf(n: ClusterNode): ClusterNode | null {
    return n.primaryId === '' ? null : (this.nodes.get(n.primaryId) ?? null);
  }

  replicasOf(primary: ClusterNode): ClusterNode[] {
    const out: ClusterNode[] = [];
    for (const n of this.nodes.values()) if (n.isReplica && n.primaryId === primary.id) out.push(n);
    return out;
  }

  /** Turns n into a replica of `primary` (or back into a primary with null); a primary's slots stay as they are. */
  setRole(n: ClusterNode, primary: ClusterNode | null): void {
    if (primary === null) {
      n.flags = (n.flags & ~NODE_FLAG.slave) | NODE_FLAG.master;
      n.primaryId = '';
    } else {
      n.flags = (n.flags & ~NODE_FLAG.master) | NODE_FLAG.slave;
      n.primaryId = primary.id;
      n.shardId = primary.shardId;
    }
  }

  /** Primaries that serve at least one slot: the voters of failure detection and elections. */
  votingPrimaries(): ClusterNode[] {
    const out: ClusterNode[] = [];
    for (const n of this.nodes.values()) if (n.isPrimary && n.slots.count > 0) out.push(n);
    return out;
  }

  /** Majority of the voting primaries. */
  quorum(): number {
    return Math.floor(this.votingPrimaries().length / 2) + 1;
  }

  /** The primary whose slots this node serves: itself, or its primary. */
  shardPrimary(n: ClusterNode = this.myself): ClusterNode {
    return n.isReplica ? (this.primaryOf(n) ?? n) : n;
  }

  /** Nodes holding the same data as n: its primary and that primary's replicas (n excluded). */
  shardMembers(n: ClusterNode = this.myself): ClusterNode[] {
    const primary = this.shardPrimary(n);
    const out = primary === n ? [] : [primary];
    for (const r of this.replicasOf(primary)) if (r !== n) out.push(r);
    return out;
  }

  /** The highest config epoch any known node claims. */
  maxConfigEpoch(): number {
    let max = 0;
    for (const n of this.nodes.values()) if (n.configEpoch > max) max = n.configEpoch;
    return max;
  }

  assignedSlotCount(): number {
    let count = 0;
    for (let s = 0; s < SLOT_COUNT; s++) if (this.owners[s] !== null) count++;
    return count;
  }
}
