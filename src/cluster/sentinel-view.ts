import { NODE_FLAG, type ClusterNode } from './node.js';
import { SLOT_COUNT } from './slots.js';
import type { ClusterState } from './state.js';

/**
 * The cluster seen through Redis Sentinel's eyes, so that sentinel-mode
 * clients (ioredis `sentinels: [...]`, node-redis createSentinel) can find a
 * shard's primary by asking any cluster node. Pure functions of a
 * ClusterState: SENTINEL, ROLE and INFO replication format what they return.
 *
 * Naming: every shard (a primary serving slots, and its replicas) is one
 * monitored "master", known by three names:
 *  - its shard id (40 hex). A promoted replica already carries its primary's
 *    shard id, so this name follows the data across failovers;
 *  - "shard-<i>", i being the shard's rank by lowest served slot (shard-0
 *    serves slot 0). Stable across failovers, but moves with slot migrations;
 *  - "mymaster", an alias of shard-0, because it is the name sentinel
 *    clients and tutorials default to.
 * Every other cluster node that is up plays a sentinel: it can answer the
 * same questions from its own copy of the cluster view.
 */

/** The alias of shard-0. */
export const DEFAULT_MASTER_NAME = 'mymaster';

/** One monitored "master": a shard with its current primary. */
export interface ShardView {
  shardId: string;
  /** Rank by lowest served slot: the <i> of "shard-<i>". */
  rank: number;
  primary: ClusterNode;
  /** Replicas of the primary, and former members of the shard (a failed old primary) that now serve no slot. */
  replicas: ClusterNode[];
}

/** Timing inputs of the instance records (kept out of the state so that the view stays pure). */
export interface SentinelClock {
  nowMs: number;
  /** cluster-node-timeout: what Sentinel calls down-after-milliseconds. */
  nodeTimeoutMs: number;
}

/** A Sentinel instance record: field/value pairs in Sentinel's order (all values are bulk strings on the wire). */
export type SentinelRecord = [string, string][];

/** A shard id, falling back to the node id for a node that never got one (old nodes.conf). */
function shardIdOf(n: ClusterNode): string {
  return n.shardId !== '' ? n.shardId : n.id;
}

/** When two slot owners claim one shard id (mid-failover), the one with the newer config wins. */
function betterPrimary(a: ClusterNode, b: ClusterNode): ClusterNode {
  if (a.failing !== b.failing) return a.failing ? b : a;
  return b.configEpoch > a.configEpoch ? b : a;
}

/** Slot owners grouped by shard id, in order of their lowest slot. */
function primariesByShard(state: ClusterState): Map<string, ClusterNode> {
  const shards = new Map<string, ClusterNode>();
  let last: ClusterNode | null = null;
  for (let s = 0; s < SLOT_COUNT; s++) {
    const owner = state.owners[s]!;
    if (owner === null || owner === last) continue;
    last = owner;
    const id = shardIdOf(owner);
    const seen = shards.get(id);
    shards.set(id, seen === undefined ? owner : betterPrimary(seen, owner));
  }
  return shards;
}

/** A node whose address clients could use (not a handshake placeholder). */
function addressable(n: ClusterNode): boolean {
  return !n.has(NODE_FLAG.handshake) && !n.has(NODE_FLAG.noaddr) && n.port !== 0;
}

function shardReplicas(state: ClusterState, shardId: string, primary: ClusterNode): ClusterNode[] {
  const out: ClusterNode[] = [];
  for (const n of state.nodes.values()) {
    if (n === primary || !addressable(n)) continue;
    const follows = n.isReplica && n.primaryId === primary.id;
    // A deposed primary keeps the shard id: Sentinel lists it as a (down) replica too.
    const former = shardIdOf(n) === shardId && n.slots.count === 0;
    if (follows || former) out.push(n);
  }
  return out;
}

/** Every shard serving at least one slot, shard-0 first. */
export function shardViews(state: ClusterState): ShardView[] {
  const out: ShardView[] = [];
  for (const [shardId, primary] of primariesByShard(state)) {
    out.push({ shardId, rank: out.length, primary, replicas: shardReplicas(state, shardId, primary) });
  }
  return out;
}

/** The names a shard answers to, canonical (shard id) first. */
export function shardNames(shard: ShardView): string[] {
  const names = [shard.shardId, `shard-${shard.rank}`];
  if (shard.rank === 0) names.push(DEFAULT_MASTER_NAME);
  return names;
}

/** The shard a master name designates (case-sensitive, as Sentinel's names are), or null. */
export function findShard(state: ClusterState, name: string): ShardView | null {
  return shardViews(state).find((s) => shardNames(s).includes(name)) ?? null;
}

/** SENTINEL GET-MASTER-ADDR-BY-NAME: the current primary's [ip, port], or null for an unknown name. */
export function masterAddress(state: ClusterState, name: string): [string, number] | null {
  const shard = findShard(state, name);
  return shard === null ? null : [shard.primary.ip, shard.primary.port];
}

/** The nodes acting as the other sentinels: every other node that is up. */
export function sentinelPeers(state: ClusterState): ClusterNode[] {
  const out: ClusterNode[] = [];
  for (const n of state.nodes.values()) if (n !== state.myself && addressable(n) && !n.failing) out.push(n);
  return out;
}

/** SENTINEL IS-MASTER-DOWN-BY-ADDR: true when a shard primary at ip:port is failing in this node's view. */
export function isMasterDownByAddr(state: ClusterState, ip: string, port: number): boolean {
  const shard = shardViews(state).find((s) => s.primary.ip === ip && s.primary.port === port);
  return shard !== undefined && shard.primary.failing;
}

/** SENTINEL CKQUORUM: failure agreement and failover votes come from the primaries serving slots. */
export interface QuorumCheck {
  usable: number;
  quorum: number;
  voters: number;
}

export function quorumCheck(state: ClusterState): QuorumCheck {
  const voters = state.votingPrimaries();
  const usable = voters.filter((n) => !n.failing).length;
  return { usable, quorum: state.quorum(), voters: voters.length };
}

// ---- Instance records (SENTINEL MASTERS / MASTER / REPLICAS / SENTINELS) ----

/** pfail is this node's own suspicion (Sentinel's subjective down), fail the cluster's agreement (objective down). */
function downFlags(n: ClusterNode): string[] {
  if (n.has(NODE_FLAG.fail)) return ['s_down', 'o_down'];
  return n.has(NODE_FLAG.pfail) ? ['s_down'] : [];
}

/** Milliseconds since `atMs`; 0 for this node itself (it is never waiting on itself). */
function since(n: ClusterNode, atMs: number, clock: SentinelClock): number {
  if (n.has(NODE_FLAG.myself)) return 0;
  return Math.max(0, clock.nowMs - (atMs !== 0 ? atMs : n.createdMs));
}

/** When the node started looking down: its FAIL time, else when its unanswered ping timed out. */
function downSinceMs(n: ClusterNode, clock: SentinelClock): number {
  if (n.failTimeMs !== 0) return n.failTimeMs;
  return n.pingSentMs !== 0 ? n.pingSentMs + clock.nodeTimeoutMs : clock.nowMs;
}

/** The fields every Sentinel record starts with, up to down-after-milliseconds. */
function commonFields(n: ClusterNode, name: string, role: string, clock: SentinelClock): SentinelRecord {
  const flags = [...downFlags(n), role].join(',');
  const lastReply = Math.max(n.pongReceivedMs, n.dataReceivedMs);
  const out: SentinelRecord = [
    ['name', name], ['ip', n.ip], ['port', String(n.port)], ['runid', n.id], ['flags', flags],
    ['link-pending-commands', '0'], ['link-refcount', '1'],
    ['last-ping-sent', String(n.pingSentMs !== 0 ? since(n, n.pingSentMs, clock) : 0)],
    ['last-ok-ping-reply', String(since(n, n.pongReceivedMs, clock))],
    ['last-ping-reply', String(since(n, lastReply, clock))],
  ];
  if (n.failing) out.push(['s-down-time', String(Math.max(0, clock.nowMs - downSinceMs(n, clock)))]);
  if (n.has(NODE_FLAG.fail)) out.push(['o-down-time', String(Math.max(0, clock.nowMs - n.failTimeMs))]);
  out.push(['down-after-milliseconds', String(clock.nodeTimeoutMs)]);
  return out;
}

/**
 * Fields of data instances (masters and replicas). Gossip is what refreshes
 * this node's knowledge of them, hence info-refresh from the last message;
 * the time of the last role change is not kept, so role-reported-time counts
 * from when this node learned about the instance.
 */
function dataFields(n: ClusterNode, clock: SentinelClock): SentinelRecord {
  return [
    ['info-refresh', String(n.dataReceivedMs !== 0 ? since(n, n.dataReceivedMs, clock) : 0)],
    ['role-reported', n.isPrimary ? 'master' : 'slave'],
    ['role-reported-time', String(since(n, n.createdMs, clock))],
  ];
}

/**
 * A shard as a monitored master. quorum is the cluster's own (a majority of
 * the primaries serving slots must agree that a primary failed), and
 * failover-timeout the cluster's failover authorization timeout.
 */
export function masterRecord(state: ClusterState, shard: ShardView, name: string, clock: SentinelClock): SentinelRecord {
  const p = shard.primary;
  return [
    ...commonFields(p, name, 'master', clock),
    ...dataFields(p, clock),
    ['config-epoch', String(p.configEpoch)],
    ['num-slaves', String(shard.replicas.length)],
    ['num-other-sentinels', String(sentinelPeers(state).length)],
    ['quorum', String(state.quorum())],
    ['failover-timeout', String(Math.max(clock.nodeTimeoutMs * 2, 2000))],
    ['parallel-syncs', '1'],
  ];
}

/** A replica record; a replica that may not fail over (nofailover) gets priority 0, Sentinel's "never promote". */
export function replicaRecord(state: ClusterState, n: ClusterNode, clock: SentinelClock): SentinelRecord {
  const primary = state.primaryOf(n);
  const linkUp = primary !== null && !primary.failing;
  return [
    ...commonFields(n, `${n.ip}:${n.port}`, 'slave', clock),
    ...dataFields(n, clock),
    ['master-link-down-time', String(linkUp || primary === null ? 0 : Math.max(0, clock.nowMs - downSinceMs(primary, clock)))],
    ['master-link-status', linkUp ? 'ok' : 'err'],
    ['master-host', primary?.ip ?? '?'],
    ['master-port', String(primary?.port ?? 0)],
    ['slave-priority', n.has(NODE_FLAG.nofailover) ? '0' : '100'],
    ['slave-repl-offset', String(n.replOffset)],
    ['replica-announced', '1'],
  ];
}

/** Another cluster node as a sentinel: no Sentinel election happens here, hence no vote. */
export function sentinelRecord(n: ClusterNode, clock: SentinelClock): SentinelRecord {
  return [
    ...commonFields(n, `${n.ip}:${n.port}`, 'sentinel', clock),
    ['last-hello-message', String(since(n, n.dataReceivedMs, clock))],
    ['voted-leader', '?'],
    ['voted-leader-epoch', '0'],
  ];
}

// ---- ROLE and INFO replication ----

/** One replica as a primary reports it (ROLE, INFO's slaveN lines). */
export interface ReplicaLink {
  ip: string;
  port: number;
  offset: number;
}

/** This node's replication role as ROLE and INFO replication report it. */
export type RoleView =
  | { role: 'master'; offset: number; replicas: ReplicaLink[] }
  | {
      role: 'slave';
      host: string;
      port: number;
      linkUp: boolean;
      /** Seconds since the last message from the primary (-1 when the link is down). */
      lastIoSeconds: number;
      /** Seconds the link has been down (-1 when unknown or up). */
      downSinceSeconds: number;
      offset: number;
    };

/** Whole seconds since a Unix ms time (0 for a time never set). */
function secondsSince(atMs: number, nowMs: number): number {
  return atMs === 0 ? 0 : Math.max(0, Math.floor((nowMs - atMs) / 1000));
}

/**
 * ROLE's view of this node in a cluster: a primary lists its replicas that
 * are up (Redis lists only online ones); a replica's link to its primary is
 * up as long as the cluster does not see that primary failing.
 * `myOffset` is this node's offset as a primary (its delta log position).
 */
export function roleView(state: ClusterState, myOffset: number, nowMs: number): RoleView {
  const me = state.myself;
  if (!me.isReplica) {
    const replicas = state.replicasOf(me).filter((r) => !r.failing && addressable(r));
    return { role: 'master', offset: myOffset, replicas: replicas.map((r) => ({ ip: r.ip, port: r.port, offset: r.replOffset })) };
  }
  const primary = state.primaryOf(me);
  const linkUp = primary !== null && !primary.failing;
  const downSince = primary === null ? 0 : primary.failTimeMs;
  return {
    role: 'slave',
    host: primary?.ip ?? '?',
    port: primary?.port ?? 0,
    linkUp,
    lastIoSeconds: linkUp ? secondsSince(primary.dataReceivedMs, nowMs) : -1,
    downSinceSeconds: linkUp || downSince === 0 ? -1 : secondsSince(downSince, nowMs),
    offset: me.replOffset,
  };
}
