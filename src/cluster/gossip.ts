import type { Cluster } from './cluster.js';
import type { ClusterHeader, ClusterMessageType, GossipEntry } from './messages.js';
import { ClusterNode, NODE_FLAG } from './node.js';
import { SLOT_COUNT } from './slots.js';

/** Flags a header carries about its sender (the rest is local opinion). */
const ROLE_FLAGS = NODE_FLAG.master | NODE_FLAG.slave | NODE_FLAG.nofailover;
const MAX_GOSSIP_ENTRIES = 64;
/** A pong time gossiped from another clock is trusted only this far into our future. */
const PONG_SKEW_MS = 500;

/** The header every message carries: who the sender is and what it serves. */
export function buildHeader(cluster: Cluster, t: ClusterMessageType): ClusterHeader {
  const state = cluster.state;
  const me = state.myself;
  const primary = state.shardPrimary(me);
  const h: ClusterHeader = {
    k: 'cl',
    t,
    id: me.id,
    ip: me.ip,
    port: me.port,
    cport: me.cport,
    fl: me.flags & ROLE_FLAGS,
    pr: me.isReplica ? me.primaryId : '',
    cur: state.currentEpoch,
    cfg: primary.configEpoch,
    off: cluster.myOffset(),
    sl: primary.slots.bits.slice(),
    sh: me.shardId,
    down: state.state !== 'ok',
    mf: cluster.election.manualPaused,
  };
  if (t === 'ping' || t === 'pong' || t === 'meet') h.g = gossipSample(cluster);
  return h;
}

/** Every failing node, plus a random tenth (at least three) of the others. */
function gossipSample(cluster: Cluster): GossipEntry[] {
  const me = cluster.myself;
  const candidates: ClusterNode[] = [];
  const out: GossipEntry[] = [];
  for (const n of cluster.state.nodes.values()) {
    if (n === me || n.has(NODE_FLAG.handshake) || n.has(NODE_FLAG.noaddr)) continue;
    if (n.failing && out.length < MAX_GOSSIP_ENTRIES) out.push(entryOf(n));
    else candidates.push(n);
  }
  let wanted = Math.min(candidates.length, Math.max(3, Math.floor(cluster.state.nodes.size / 10)));
  while (wanted-- > 0 && out.length < MAX_GOSSIP_ENTRIES) {
    const i = cluster.random(candidates.length);
    out.push(entryOf(candidates[i]!));
    candidates[i] = candidates[candidates.length - 1]!;
    candidates.pop();
  }
  return out;
}

function entryOf(n: ClusterNode): GossipEntry {
  return [n.id, n.ip, n.port, n.cport, n.flags & (ROLE_FLAGS | NODE_FLAG.pfail | NODE_FLAG.fail), n.pingSentMs, n.pongReceivedMs];
}

/** "ipv4:1.2.3.4:567" or "1.2.3.4:567" -> "1.2.3.4". */
function hostOf(transportPeer: string): string {
  const p = transportPeer.replace(/^ipv[46]:/, '');
  const at = p.lastIndexOf(':');
  return (at > 0 ? p.slice(0, at) : p).replace(/^\[|\]$/g, '');
}

/**
 * Finds (or, for a MEET, creates) the sender and refreshes everything the
 * header says about it. Returns null for a sender this node does not accept.
 */
export function applyHeader(cluster: Cluster, m: ClusterHeader, transportPeer: string): ClusterNode | null {
  const state = cluster.state;
  const me = state.myself;
  if (m.id === me.id) return null;
  if (m.t === 'meet' && me.ip === '' && m.to !== undefined) me.ip = m.to;
  const ip = m.ip !== '' ? m.ip : hostOf(transportPeer);
  const sender = state.node(m.id) ?? adoptSender(cluster, m, ip);
  if (sender === null) return null;
  const now = cluster.nowMs();
  sender.flags &= ~NODE_FLAG.meet;
  sender.dataReceivedMs = now;
  updateAddress(cluster, sender, ip, m);
  if (m.cur > state.currentEpoch) {
    state.currentEpoch = m.cur;
    cluster.changed();
  }
  if (m.t === 'pong') pongReceived(cluster, sender, now);
  updateRole(cluster, sender, m);
  sender.replOffset = m.off;
  if (m.sh !== '' && sender.shardId !== m.sh) sender.shardId = m.sh;
  if (sender.isPrimary) updatePrimaryClaims(cluster, sender, m);
  cluster.election.onHeader(sender, m);
  return sender;
}

/** An unknown sender: the answer of a node we MEET (a handshake), or a node introducing itself with MEET. */
function adoptSender(cluster: Cluster, m: ClusterHeader, ip: string): ClusterNode | null {
  const state = cluster.state;
  for (const n of state.nodes.values()) {
    if (!n.has(NODE_FLAG.handshake) || n.ip !== ip || n.cport !== m.cport) continue;
    cluster.dropLink(n.id);
    state.rename(n, m.id);
    n.flags = (n.flags & ~(NODE_FLAG.handshake | ROLE_FLAGS)) | (m.fl & ROLE_FLAGS);
    cluster.changed();
    return n;
  }
  if (m.t !== 'meet' || state.blacklist.has(m.id)) return null;
  const n = new ClusterNode(m.id, { ip, port: m.port, cport: m.cport, flags: m.fl & ROLE_FLAGS, shardId: m.sh, nowMs: cluster.nowMs() });
  state.addNode(n);
  cluster.changed();
  cluster.log.info({ node: m.id, ip, port: m.port }, 'Node met');
  return n;
}

function updateAddress(cluster: Cluster, n: ClusterNode, ip: string, m: ClusterHeader): void {
  if (n.ip === ip && n.port === m.port && n.cport === m.cport) return;
  n.ip = ip;
  n.port = m.port;
  n.cport = m.cport;
  cluster.dropLink(n.id);
  cluster.changed();
}

/** A pong: the node is alive; PFAIL goes, and FAIL where Redis lifts it (clearNodeFailureIfNeeded). */
function pongReceived(cluster: Cluster, n: ClusterNode, now: number): void {
  n.pongReceivedMs = now;
  n.pingSentMs = 0;
  if (n.has(NODE_FLAG.pfail)) {
    n.flags &= ~NODE_FLAG.pfail;
  } else if (n.has(NODE_FLAG.fail)) {
    const servesNothing = n.isReplica || n.slots.count === 0;
    if (servesNothing || now - n.failTimeMs > cluster.nodeTimeoutMs * 2) {
      n.flags &= ~NODE_FLAG.fail;
      n.failTimeMs = 0;
      cluster.changed();
    }
  }
}

/** The sender's role as it declares it: promoted replicas become primaries, demoted primaries give up their slots. */
function updateRole(cluster: Cluster, n: ClusterNode, m: ClusterHeader): void {
  const state = cluster.state;
  n.flags = (n.flags & ~NODE_FLAG.nofailover) | (m.fl & NODE_FLAG.nofailover);
  if ((m.fl & NODE_FLAG.slave) === 0) {
    if (n.isReplica) {
      state.setRole(n, null);
      cluster.changed();
    }
    return;
  }
  if (n.isReplica && n.primaryId === m.pr) return;
  if (n.isPrimary) for (const [a, b] of n.slots.ranges()) for (let s = a; s <= b; s++) state.unassign(s);
  n.flags = (n.flags & ~NODE_FLAG.master) | NODE_FLAG.slave;
  n.primaryId = m.pr;
  cluster.changed();
}

/** A primary's config epoch and slot claims; stale claims get an UPDATE back. */
function updatePrimaryClaims(cluster: Cluster, sender: ClusterNode, m: ClusterHeader): void {
  const state = cluster.state;
  const me = state.myself;
  if (m.cfg > sender.configEpoch) {
    sender.configEpoch = m.cfg;
    cluster.changed();
  }
  if (!sameBits(sender.slots.bits, m.sl)) cluster.updateSlotsFrom(sender, m.cfg, m.sl);
  for (let s = 0; s < SLOT_COUNT; s++) {
    if ((m.sl[s >> 3]! & (1 << (s & 7))) === 0) continue;
    const owner = state.ownerOf(s);
    // An owner that no longer claims the slot is no news worth an UPDATE (it would spread a stale view).
    if (owner === null || owner === sender || state.ownerNotClaiming[s] === 1 || owner.configEpoch <= m.cfg) continue;
    cluster.send(sender, 'update', { about: owner.id, ucfg: owner.configEpoch, usl: owner.slots.bits.slice() });
    break;
  }
  // Two primaries with one config epoch (handleConfigEpochCollision): the smaller id takes a new one.
  if (me.isPrimary && m.cfg === me.configEpoch && m.cfg !== 0 && me.id < sender.id) {
    state.currentEpoch++;
    me.configEpoch = state.currentEpoch;
    cluster.changed();
    cluster.log.info({ epoch: me.configEpoch }, 'Config epoch collision resolved: took a new epoch');
  }
}

function sameBits(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the sender says about other nodes: failure reports, fresher pongs, and nodes to meet. */
export function processGossip(cluster: Cluster, sender: ClusterNode, entries: GossipEntry[]): void {
  const state = cluster.state;
  const now = cluster.nowMs();
  const senderVotes = sender.isPrimary && sender.slots.count > 0;
  for (const [id, ip, port, cport, flags, , pongMs] of entries) {
    const n = state.node(id);
    if (n === state.myself) continue;
    if (n === undefined) {
      meetFromGossip(cluster, id, ip, port, cport, flags);
      continue;
    }
    const failing = (flags & (NODE_FLAG.pfail | NODE_FLAG.fail)) !== 0;
    if (senderVotes && failing) {
      n.failReports.set(sender.id, now);
      cluster.markFailIfNeeded(n);
    } else if (senderVotes) {
      n.failReports.delete(sender.id);
    }
    if (!failing && n.pingSentMs === 0 && n.failReports.size === 0 && pongMs > n.pongReceivedMs && pongMs <= now + PONG_SKEW_MS) {
      n.pongReceivedMs = pongMs;
    }
  }
}

function meetFromGossip(cluster: Cluster, id: string, ip: string, port: number, cport: number, flags: number): void {
  const state = cluster.state;
  if (state.blacklist.has(id) || ip === '' || cport === 0) return;
  for (const n of state.nodes.values()) if (n.has(NODE_FLAG.handshake) && n.ip === ip && n.cport === cport) return;
  const n = new ClusterNode(id, { ip, port, cport, flags: (flags & ROLE_FLAGS) | NODE_FLAG.meet, shardId: '', nowMs: cluster.nowMs() });
  state.addNode(n);
  cluster.changed();
  cluster.send(n, 'meet', { to: ip });
}
