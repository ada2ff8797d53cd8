import type { ReplyWriter } from '../protocol/reply.js';
import type { BusMessageStats, LinkInfo } from './control.js';
import { flagsText, NODE_FLAG, type ClusterNode } from './node.js';
import { SLOT_COUNT } from './slots.js';
import type { ClusterState } from './state.js';

/**
 * The texts and replies of CLUSTER NODES / SLOTS / SHARDS / INFO / LINKS,
 * byte for byte as Redis 7.0 produces them, from a ClusterState. Everything
 * here is pure so the formats can be tested without a running cluster.
 */

/** Whether this node currently has a bus link to `n` (CLUSTER NODES' connected/disconnected). */
export type LinkUp = (n: ClusterNode) => boolean;

/** cluster-preferred-endpoint-type: what CLUSTER SLOTS / SHARDS offer clients first. */
export type EndpointType = 'ip' | 'hostname' | 'unknown-endpoint';

/** Redis's default cluster-node-timeout, for callers that pass no link state. */
const DEFAULT_NODE_TIMEOUT_MS = 15_000;

/**
 * Link state from ping bookkeeping alone: Redis drops a link whose ping is
 * unanswered for half the node timeout, so an older outstanding ping means
 * "disconnected". Nodes without an address never have a link.
 */
export function pingLinkUp(nowMs: number, nodeTimeoutMs: number): LinkUp {
  return (n) => {
    if (n.has(NODE_FLAG.myself)) return true;
    if (n.has(NODE_FLAG.noaddr)) return false;
    return n.pingSentMs === 0 || nowMs - n.pingSentMs <= nodeTimeoutMs / 2;
  };
}

/**
 * Every node's slots as [start, end] ranges, in one pass over the owner
 * table (what Redis's clusterGenNodesSlotsInfo does): the owner table is
 * the authority, and one pass is cheaper than one bitmap scan per node.
 */
export function slotRangesByNode(state: ClusterState): Map<ClusterNode, [number, number][]> {
  const out = new Map<ClusterNode, [number, number][]>();
  let start = 0;
  for (let s = 1; s <= SLOT_COUNT; s++) {
    const owner = state.owners[start]!;
    if (s < SLOT_COUNT && state.owners[s] === owner) continue;
    if (owner !== null) {
      let list = out.get(owner);
      if (list === undefined) out.set(owner, (list = []));
      list.push([start, s - 1]);
    }
    start = s;
  }
  return out;
}

function rangesText(ranges: readonly [number, number][]): string {
  let out = '';
  for (const [a, b] of ranges) out += a === b ? ` ${a}` : ` ${a}-${b}`;
  return out;
}

/** Open slots of this node: "[slot->-id]" while migrating wins over "[slot-<-id]" for the same slot, as in Redis. */
export function openSlotsText(state: ClusterState): string {
  let out = '';
  for (let s = 0; s < SLOT_COUNT; s++) {
    const to = state.migratingTo[s]!;
    const from = state.importingFrom[s]!;
    if (to !== null) out += ` [${s}->-${to.id}]`;
    else if (from !== null) out += ` [${s}-<-${from.id}]`;
  }
  return out;
}

/** The config epoch CLUSTER NODES shows: a replica shows its primary's. */
export function shownConfigEpoch(state: ClusterState, n: ClusterNode): number {
  const primary = n.isReplica ? state.primaryOf(n) : null;
  return primary !== null ? primary.configEpoch : n.configEpoch;
}

/** What nodeLine needs beyond the node: its slot ranges, its link state and how to print its address. */
export interface LineParts {
  ranges: readonly [number, number][];
  connected: boolean;
  /** The address field; CLUSTER NODES uses node.address, nodes.conf adds aux fields. */
  address?: string;
}

/** One CLUSTER NODES line without the trailing newline (Redis's clusterGenNodeDescription). */
export function nodeLine(state: ClusterState, n: ClusterNode, parts: LineParts): string {
  const head = [
    n.id,
    parts.address ?? n.address,
    flagsText(n.flags),
    n.primaryId !== '' ? n.primaryId : '-',
    String(n.pingSentMs),
    String(n.pongReceivedMs),
    String(shownConfigEpoch(state, n)),
    parts.connected || n.has(NODE_FLAG.myself) ? 'connected' : 'disconnected',
  ].join(' ');
  const open = n === state.myself ? openSlotsText(state) : '';
  return head + rangesText(parts.ranges) + open;
}

/** CLUSTER NODES: one line per known node, each ending in "\n". */
export function clusterNodesText(state: ClusterState, nowMs: number, linkUp?: LinkUp): string {
  const up = linkUp ?? pingLinkUp(nowMs, DEFAULT_NODE_TIMEOUT_MS);
  const ranges = slotRangesByNode(state);
  let out = '';
  for (const n of state.nodes.values()) out += nodeLine(state, n, { ranges: ranges.get(n) ?? [], connected: up(n) }) + '\n';
  return out;
}

/** CLUSTER REPLICAS: the replicas' lines, without newlines. */
export function replicaLines(state: ClusterState, primary: ClusterNode, nowMs: number, linkUp?: LinkUp): string[] {
  const up = linkUp ?? pingLinkUp(nowMs, DEFAULT_NODE_TIMEOUT_MS);
  const ranges = slotRangesByNode(state);
  return state.replicasOf(primary).map((r) => nodeLine(state, r, { ranges: ranges.get(r) ?? [], connected: up(r) }));
}

// ---------------------------------------------------------------------------
// Structured replies: built as values, then written (RESP2 or RESP3) by writeReply.
// ---------------------------------------------------------------------------

/** A reply tree: integer, bulk string, null, array, or map (a RESP3 map, a flat array in RESP2). */
export type ReplyValue = number | string | null | ReplyValue[] | Map<string, ReplyValue>;

/** Writes a reply tree in the client's protocol. */
export function writeReply(w: ReplyWriter, v: ReplyValue): void {
  if (typeof v === 'number') w.int(v);
  else if (typeof v === 'string') w.bulk(v);
  else if (v === null) w.nullBulk();
  else if (Array.isArray(v)) {
    w.arrayHeader(v.length);
    for (const item of v) writeReply(w, item);
  } else {
    w.mapHeader(v.size);
    for (const [k, item] of v) {
      w.bulk(k);
      writeReply(w, item);
    }
  }
}

/** The endpoint a client should use first (Redis's getPreferredEndpoint). */
function preferredEndpoint(n: ClusterNode, endpoint: EndpointType): string {
  if (endpoint === 'ip') return n.ip;
  if (endpoint === 'hostname') return n.hostname !== '' ? n.hostname : '?';
  return '';
}

/** A node in CLUSTER SLOTS: [endpoint, port, id, {the other known endpoints}]. */
function slotsNodeEntry(n: ClusterNode, endpoint: EndpointType): ReplyValue[] {
  const first: string | null = endpoint === 'unknown-endpoint' ? null : preferredEndpoint(n, endpoint);
  const extra = new Map<string, ReplyValue>();
  if (endpoint !== 'ip') extra.set('ip', n.ip);
  if (endpoint !== 'hostname' && n.hostname !== '') extra.set('hostname', n.hostname);
  return [first, n.port, n.id, extra];
}

/** Replicas CLUSTER SLOTS lists: not failed, and synced at least once (a non-zero offset). */
function replicaAvailable(n: ClusterNode): boolean {
  return !n.has(NODE_FLAG.fail) && n.replOffset !== 0;
}

/** CLUSTER SLOTS: per run of slots with the same owner, [start, end, primary, available replicas...]. */
export function clusterSlotsReply(state: ClusterState, endpoint: EndpointType = 'ip'): ReplyValue[] {
  const out: ReplyValue[] = [];
  let start = 0;
  for (let s = 1; s <= SLOT_COUNT; s++) {
    const owner = state.owners[start]!;
    if (s < SLOT_COUNT && state.owners[s] === owner) continue;
    if (owner !== null) {
      const entry: ReplyValue[] = [start, s - 1, slotsNodeEntry(owner, endpoint)];
      for (const r of state.replicasOf(owner)) if (replicaAvailable(r)) entry.push(slotsNodeEntry(r, endpoint));
      out.push(entry);
    }
    start = s;
  }
  return out;
}

/** "online", "failed" or "loading" (a replica that has not synced yet), as CLUSTER SHARDS reports health. */
function health(n: ClusterNode): string {
  if (n.has(NODE_FLAG.fail)) return 'fail';
  if (n.isReplica && n.replOffset === 0) return 'loading';
  return 'online';
}

/** One node of a CLUSTER SHARDS entry. */
function shardNodeDetails(n: ClusterNode, endpoint: EndpointType): Map<string, ReplyValue> {
  const m = new Map<string, ReplyValue>([['id', n.id]]);
  // Redis omits a zero port (a node whose address is not known yet).
  if (n.port !== 0) m.set('port', n.port);
  m.set('ip', n.ip);
  m.set('endpoint', preferredEndpoint(n, endpoint));
  if (n.hostname !== '') m.set('hostname', n.hostname);
  m.set('role', n.isReplica ? 'replica' : 'master');
  m.set('replication-offset', n.replOffset);
  m.set('health', health(n));
  return m;
}

/** CLUSTER SHARDS (7.0): one entry per primary with its slot ranges (flat) and its nodes, primary first. */
export function clusterShardsReply(state: ClusterState, endpoint: EndpointType = 'ip'): ReplyValue[] {
  const ranges = slotRangesByNode(state);
  const out: ReplyValue[] = [];
  for (const n of state.nodes.values()) {
    if (!n.isPrimary) continue;
    const slots: ReplyValue[] = (ranges.get(n) ?? []).flat();
    const nodes = [n, ...state.replicasOf(n)].map((m) => shardNodeDetails(m, endpoint));
    out.push(new Map<string, ReplyValue>([['slots', slots], ['nodes', nodes]]));
  }
  return out;
}

/** CLUSTER LINKS: one map per link. */
export function clusterLinksReply(links: readonly LinkInfo[]): ReplyValue[] {
  return links.map(
    (l) =>
      new Map<string, ReplyValue>([
        ['direction', l.direction],
        ['node', l.node],
        ['create-time', l.createTimeMs],
        ['events', l.events],
        ['send-buffer-allocated', l.sendBufferAllocated],
        ['send-buffer-used', l.sendBufferUsed],
      ]),
  );
}

/** Bus message types in Redis's type-number order (the order CLUSTER INFO lists them). */
const MESSAGE_TYPES = ['ping', 'pong', 'meet', 'fail', 'publish', 'auth-req', 'auth-ack', 'update', 'mfstart', 'module', 'publishshard'];

/** "cluster_stats_messages_<type>_<dir>:n" lines for non-zero counters, then the total. */
function messageStatsText(counts: ReadonlyMap<string, number>, dir: 'sent' | 'received'): string {
  const names = [...MESSAGE_TYPES, ...[...counts.keys()].filter((k) => !MESSAGE_TYPES.includes(k))];
  let out = '';
  let total = 0;
  for (const name of names) {
    const n = counts.get(name) ?? 0;
    if (n === 0) continue;
    total += n;
    out += `cluster_stats_messages_${name}_${dir}:${n}\r\n`;
  }
  return out + `cluster_stats_messages_${dir}:${total}\r\n`;
}

/** Slot counts of CLUSTER INFO: assigned, and among those served by a healthy, PFAIL or FAIL node. */
function slotHealth(state: ClusterState): { assigned: number; ok: number; pfail: number; fail: number } {
  const h = { assigned: 0, ok: 0, pfail: 0, fail: 0 };
  for (const owner of state.owners) {
    if (owner === null) continue;
    h.assigned++;
    if (owner.has(NODE_FLAG.fail)) h.fail++;
    else if (owner.has(NODE_FLAG.pfail)) h.pfail++;
    else h.ok++;
  }
  return h;
}

/** CLUSTER INFO text ("\r\n" line ends, as Redis). */
export function clusterInfoText(state: ClusterState, stats: BusMessageStats, linksBufferLimitExceeded = 0): string {
  const h = slotHealth(state);
  const lines = [
    `cluster_state:${state.state}`,
    `cluster_slots_assigned:${h.assigned}`,
    `cluster_slots_ok:${h.ok}`,
    `cluster_slots_pfail:${h.pfail}`,
    `cluster_slots_fail:${h.fail}`,
    `cluster_known_nodes:${state.nodes.size}`,
    `cluster_size:${state.votingPrimaries().length}`,
    `cluster_current_epoch:${state.currentEpoch}`,
    `cluster_my_epoch:${shownConfigEpoch(state, state.myself)}`,
  ];
  return (
    lines.map((l) => l + '\r\n').join('') +
    messageStatsText(stats.sent, 'sent') +
    messageStatsText(stats.received, 'received') +
    `total_cluster_links_buffer_limit_exceeded:${linksBufferLimitExceeded}\r\n`
  );
}
