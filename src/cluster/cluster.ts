import type { Logger } from '../log.js';
import type { PubSub } from '../server/pubsub.js';
import type { Replicator } from '../replication/replicator.js';
import type { Runtime, TimerHandle } from '../runtime/index.js';
import type { Bus, BusLink, BusServer } from '../transport/bus.js';
import type { BusMessageStats, ClusterControl, FailoverMode, LinkInfo } from './control.js';
import { Failover } from './failover.js';
import { checkFailures, markFailIfNeeded } from './failure.js';
import { applyHeader, buildHeader, processGossip } from './gossip.js';
import { parseClusterMessage, type ClusterHeader, type ClusterMessageType } from './messages.js';
import { ClusterNode, NODE_FLAG } from './node.js';
import { decodeStates } from '../replication/wire.js';
import { SlotHandoff, type HandoffHost } from './handoff.js';
import { SentinelEvents } from './sentinel-events.js';
import { keyHashSlot, SLOT_COUNT } from './slots.js';
import type { ClusterState } from './state.js';

/** Cron period of the cluster (Redis runs clusterCron 10 times a second). */
export const CLUSTER_TICK_MS = 100;
/** A FORGET keeps gossip from re-adding the node for this long (Redis: 60 s). */
const FORGET_BLACKLIST_MS = 60_000;
/** How long a primary stays down after it starts (Redis: CLUSTER_WRITABLE_DELAY). */
const WRITABLE_DELAY_MS = 2000;
/** Longest gap between two pings to one node. */
const MAX_PING_INTERVAL_MS = 1000;

/** What the cluster needs from the node it runs in (the Server). */
export interface ClusterHost {
  readonly runtime: Runtime;
  readonly log: Logger;
  readonly replication: Replicator;
  /** Delivers PUBLISH/SPUBLISH messages other nodes forward to this one's subscribers. */
  readonly pubsub: PubSub;
  /** Pauses client writes until untilMs (manual failover), or ends the pause. */
  pauseWrites(untilMs: number): void;
  unpauseWrites(): void;
  /** The node, as slot handoff uses it (keys of lost slots, merging handed-over ones). */
  readonly node: HandoffHost;
  /** Keys in db 0, and in one slot of it. */
  keyCount(): number;
  slotKeyCount(slot: number): number;
  /** Writes nodes.conf (atomically); returns an error text on failure. */
  persist(text: string): string | null;
  /** nodes.conf text of the state. */
  serialize(state: ClusterState): string;
}

export interface ClusterOptions {
  nodeTimeoutMs: number;
  requireFullCoverage: () => boolean;
  replicaValidityFactor: () => number;
  /** Where the bus listens, and the address to announce (ip '' = learn it from MEET). */
  busHost: string;
  announceIp: string;
  port: number;
  cport: number;
  localAddress: string;
  noFailover: boolean;
}

/**
 * A node's part in a Redis-compatible cluster: the cluster bus (gossip,
 * failure detection, failover votes), the slot configuration with its
 * epochs, and the link to replication: the node replicates with the members
 * of its shard (its primary and that primary's replicas), so a failover or a
 * healed partition merges CRDT state instead of discarding one side.
 */
export class Cluster implements ClusterControl {
  readonly stats: BusMessageStats = { sent: new Map(), received: new Map() };
  readonly election: Failover;
  /** Keys of slots this primary lost, on their way to the new owner. */
  private readonly handoff: SlotHandoff;
  /** Sentinel pub/sub events (+switch-master...) for sentinel-mode clients subscribed here. */
  private readonly sentinelEvents = new SentinelEvents();
  private readonly busLinks = new Map<string, { link: BusLink; createdMs: number }>();
  private server: BusServer | null = null;
  private timer: TimerHandle | null = null;
  private saveNeeded = false;
  /** When updateState first ran (Unix ms; 0: not yet). */
  private firstStateMs = 0;
  /** DEBUG CLUSTER-ISOLATE: every bus message in and out is dropped. */
  private isolated = false;

  constructor(
    readonly state: ClusterState,
    readonly host: ClusterHost,
    private readonly bus: Bus,
    readonly options: ClusterOptions,
  ) {
    this.election = new Failover(this);
    this.handoff = new SlotHandoff(host.node, (to, id, slots, states) => this.send(to, 'handoff', { hid: id, hsl: slots, hst: states }));
  }

  get myself(): ClusterNode {
    return this.state.myself;
  }

  get nodeTimeoutMs(): number {
    return this.options.nodeTimeoutMs;
  }

  nowMs(): number {
    return this.host.runtime.clock.nowMs();
  }

  random(bound: number): number {
    return this.host.runtime.random.int(bound);
  }

  get log(): Logger {
    return this.host.log;
  }

  // ---- lifecycle -------------------------------------------------------------

  async start(): Promise<void> {
    this.server = await this.bus.listen({ host: this.options.busHost, port: this.options.cport }, (m, from) => this.receive(m, from));
    for (const n of this.state.nodes.values()) if (n !== this.myself) this.linkTo(n);
    this.syncShardPeers();
    this.updateState();
    this.timer = this.host.runtime.timer.setInterval(() => this.tick(), CLUSTER_TICK_MS);
    this.save();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) this.host.runtime.timer.clearInterval(this.timer);
    this.timer = null;
    for (const { link } of this.busLinks.values()) link.close();
    this.busLinks.clear();
    await this.server?.close();
    this.server = null;
  }

  /** Replication offset: a primary's own, a replica's from its primary (see Replicator.offsetFrom). */
  myOffset(): number {
    const me = this.myself;
    const r = this.host.replication;
    return me.isReplica ? r.offsetFrom(me.primaryId) : r.ownOffset;
  }

  // ---- links and sending -----------------------------------------------------

  /** The outgoing link to n (created on first use; n's bus address may change with gossip). */
  private linkTo(n: ClusterNode): BusLink | null {
    if (n.cport === 0 || n.ip === '') return null;
    const existing = this.busLinks.get(n.id);
    if (existing !== undefined) return existing.link;
    const localAddress = this.options.localAddress || undefined;
    const link = this.bus.connect({ host: n.ip, port: n.cport }, { localAddress });
    this.busLinks.set(n.id, { link, createdMs: this.nowMs() });
    return link;
  }

  dropLink(id: string): void {
    const l = this.busLinks.get(id);
    if (l === undefined) return;
    l.link.close();
    this.busLinks.delete(id);
  }

  linkUp(n: ClusterNode): boolean {
    return n === this.myself || this.busLinks.get(n.id)?.link.state === 'ready';
  }

  /** Sends a message of type t (header + body) to n; false when its link cannot take it now. */
  send(n: ClusterNode, t: ClusterMessageType, body: Partial<ClusterHeader> = {}): boolean {
    const link = this.linkTo(n);
    if (link === null || this.isolated) return false;
    const m = Object.assign(buildHeader(this, t), body);
    if (!link.send(m)) return false;
    this.stats.sent.set(t, (this.stats.sent.get(t) ?? 0) + 1);
    return true;
  }

  /** Sends to every known node that is not in handshake. */
  broadcast(t: ClusterMessageType, body: Partial<ClusterHeader> = {}): void {
    for (const n of this.state.nodes.values()) {
      if (n === this.myself || n.has(NODE_FLAG.handshake)) continue;
      this.send(n, t, body);
    }
  }

  /** Pings n now (gossip included). */
  ping(n: ClusterNode, t: 'ping' | 'meet' = 'ping'): void {
    // Counted as sent even when the link is down: an unreachable node must time out too.
    this.send(n, t);
    n.pingAttemptMs = this.nowMs();
    if (n.pingSentMs === 0) n.pingSentMs = n.pingAttemptMs;
  }

  // ---- receiving -------------------------------------------------------------

  private receive(raw: unknown, transportPeer: string): void {
    if (this.isolated) return;
    if (raw !== null && typeof raw === 'object' && (raw as { k?: unknown }).k !== 'cl') {
      this.host.replication.receive(raw, transportPeer);
      return;
    }
    const m = parseClusterMessage(raw);
    if (typeof m === 'string') {
      this.log.warn({ peer: transportPeer, reason: m }, 'Cluster bus message refused');
      return;
    }
    this.stats.received.set(m.t, (this.stats.received.get(m.t) ?? 0) + 1);
    try {
      this.process(m, transportPeer);
    } catch (err) {
      this.log.error({ err, peer: transportPeer, type: m.t }, 'Cluster bus message failed');
    }
    this.afterChange();
  }

  private process(m: ClusterHeader, transportPeer: string): void {
    const sender = applyHeader(this, m, transportPeer);
    if (sender === null) return;
    if (m.t === 'ping' || m.t === 'meet') this.send(sender, 'pong');
    if (m.g !== undefined) processGossip(this, sender, m.g);
    switch (m.t) {
      case 'fail':
        return this.onFail(m.about!);
      case 'update':
        return this.onUpdate(m.about!, m.ucfg!, m.usl!);
      case 'auth-req':
        return this.election.onAuthRequest(sender, m);
      case 'auth-ack':
        return this.election.onAuthAck(sender, m);
      case 'mfstart':
        return this.election.onManualStart(sender);
      case 'publish':
        this.host.pubsub.publish(m.ch!, m.msg!);
        return;
      case 'publishshard':
        this.host.pubsub.publishShard(m.ch!, m.msg!);
        return;
      case 'handoff':
        return this.onHandoff(sender, m);
      case 'handoff-ack':
        return this.handoff.acked(m.hid!, sender.id, this.state);
    }
  }

  /**
   * Keys of slots another primary lost to this one (handoff.ts): merged when
   * this node is the primary serving every slot of the batch, then
   * acknowledged; otherwise ignored, and the sender retries with the owner.
   */
  private onHandoff(sender: ClusterNode, m: ClusterHeader): void {
    const me = this.myself;
    if (!me.isPrimary || !m.hsl!.every((slot) => this.state.ownerOf(slot) === me)) return;
    const slots = new Set(m.hsl!);
    const items = decodeStates(m.hst!, this.host.node.keyspace.count, (why) => this.log.warn({ from: sender.id, why }, 'Handoff state refused'));
    this.host.replication.adopt(
      items.filter(([db, key]) => db === 0 && slots.has(keyHashSlot(key))),
      sender.id,
    );
    this.send(sender, 'handoff-ack', { hid: m.hid! });
  }

  /**
   * PUBLISH reaches every node of the cluster; SPUBLISH the nodes of this
   * node's shard (clusterPropagatePublish). Local delivery is the caller's.
   */
  publish(channel: string, message: string, shard: boolean): void {
    if (!shard) return this.broadcast('publish', { ch: channel, msg: message });
    for (const n of this.state.shardMembers()) this.send(n, 'publishshard', { ch: channel, msg: message });
  }

  private onFail(id: string): void {
    const n = this.state.node(id);
    if (n === undefined || n === this.myself || n.has(NODE_FLAG.fail)) return;
    n.flags = (n.flags | NODE_FLAG.fail) & ~NODE_FLAG.pfail;
    n.failTimeMs = this.nowMs();
    this.changed();
  }

  private onUpdate(id: string, configEpoch: number, slots: Uint8Array): void {
    const n = this.state.node(id);
    if (n === undefined || n.configEpoch >= configEpoch) return;
    if (n.isReplica) this.state.setRole(n, null);
    n.configEpoch = configEpoch;
    this.updateSlotsFrom(n, configEpoch, slots);
  }

  // ---- configuration changes -------------------------------------------------

  /** The configuration changed: nodes.conf is saved when the current message or tick ends (afterChange). */
  changed(): void {
    this.saveNeeded = true;
  }

  configChanged(): void {
    this.saveNeeded = true;
    this.afterChange();
    this.broadcast('pong');
  }

  /** After a message or command: state, shard peers and nodes.conf catch up. */
  afterChange(): void {
    this.updateState();
    this.syncShardPeers();
    if (this.saveNeeded) this.save();
    const pubsub = this.host.pubsub;
    this.sentinelEvents.check(this.state, pubsub.hasChannelSubscribers, (channel, message) => pubsub.publish(channel, message));
  }

  private save(): void {
    this.saveNeeded = false;
    const err = this.host.persist(this.host.serialize(this.state));
    if (err !== null) this.log.error({ err }, 'Could not save the cluster configuration');
  }

  /**
   * A primary claims `slots` with `configEpoch` (clusterUpdateSlotsConfigWith):
   * every slot whose owner has an older epoch goes to it. When this node (or
   * its primary) loses its last slot to it, it follows it as a replica: its
   * data then merges with the new primary's instead of being thrown away.
   */
  updateSlotsFrom(sender: ClusterNode, configEpoch: number, slots: Uint8Array): void {
    const me = this.myself;
    const myPrimary = this.state.shardPrimary(me);
    const hadSlots = myPrimary.slots.count;
    const lost: number[] = [];
    for (let s = 0; s < SLOT_COUNT; s++) {
      const owner = this.state.ownerOf(s);
      if ((slots[s >> 3]! & (1 << (s & 7))) === 0) {
        // Its owner gave it up (a slot move we missed): any claim may take it (Redis 7.2).
        if (owner === sender) this.state.ownerNotClaiming[s] = 1;
        continue;
      }
      if (owner === sender) this.state.ownerNotClaiming[s] = 0;
      if (owner === sender || this.state.importingFrom[s] !== null) continue;
      if (!this.state.unclaimed(s) && owner!.configEpoch >= configEpoch) continue;
      if (owner === me && me.isPrimary) lost.push(s);
      this.state.assign(s, sender);
      this.changed();
    }
    if (hadSlots > 0 && myPrimary.slots.count === 0 && sender !== myPrimary) {
      this.log.warn({ newPrimary: sender.id }, 'Lost every slot: following the node that took them, merging my writes into it');
      this.becomeReplicaOf(sender);
    } else if (lost.length > 0) {
      this.handoff.lost(lost);
    }
  }

  becomeReplicaOf(primary: ClusterNode): void {
    const me = this.myself;
    for (const s of [...me.slots.ranges()].flatMap(([a, b]) => range(a, b))) this.state.unassign(s);
    this.state.setRole(me, primary);
    this.election.reset();
    this.changed();
  }

  /** The replication group follows the shard: peers are the other members of this node's shard. */
  syncShardPeers(): void {
    const r = this.host.replication;
    const members = this.state.shardMembers();
    const wanted = new Set(members.map((n) => n.id));
    for (const p of [...r.peers]) if (!wanted.has(p.label)) r.removePeer(p.label);
    for (const n of members) if (n.cport !== 0 && n.ip !== '' && !n.has(NODE_FLAG.handshake)) r.addPeer(n.id, { host: n.ip, port: n.cport });
  }

  /** clusterUpdateState: down when a slot is unserved (full coverage) or most primaries are unreachable. */
  updateState(): void {
    // CLUSTER_WRITABLE_DELAY: a primary that (re)starts stays down a moment, so a stale claim
    // read back from nodes.conf can be corrected before clients write to it.
    if (this.firstStateMs === 0) this.firstStateMs = this.nowMs();
    if (this.myself.isPrimary && this.state.state === 'fail' && this.nowMs() - this.firstStateMs < WRITABLE_DELAY_MS) return;
    let ok = true;
    if (this.options.requireFullCoverage()) {
      // Owners and per-node slot sets change together (ClusterState.assign), so
      // counting the slots of nodes not failed tells whether every slot is served.
      let served = 0;
      for (const n of this.state.nodes.values()) if (!n.has(NODE_FLAG.fail)) served += n.slots.count;
      ok = served === SLOT_COUNT;
    }
    const voters = this.state.votingPrimaries();
    const reachable = voters.filter((n) => !n.failing).length;
    if (voters.length === 0 || reachable < Math.floor(voters.length / 2) + 1) ok = false;
    const next = ok ? 'ok' : 'fail';
    if (next !== this.state.state) this.log.info({ state: next }, `Cluster state changed: ${next}`);
    this.state.state = next;
  }

  // ---- cron ------------------------------------------------------------------

  private tick(): void {
    const now = this.nowMs();
    this.myself.replOffset = this.myOffset();
    this.expireHandshakes(now);
    this.pingNodes(now);
    checkFailures(this, now);
    this.election.tick(now);
    this.handoff.tick(this.state, now);
    this.afterChange();
  }

  private expireHandshakes(now: number): void {
    const limit = Math.max(this.nodeTimeoutMs, 1000);
    for (const n of [...this.state.nodes.values()]) {
      if (n.has(NODE_FLAG.handshake) && now - n.createdMs > limit) {
        this.dropLink(n.id);
        this.state.removeNode(n);
      }
    }
    for (const [id, until] of this.state.blacklist) if (until <= now) this.state.blacklist.delete(id);
  }

  /** Pings nodes not heard from lately; handshake nodes get MEETs until they answer. */
  private pingNodes(now: number): void {
    const interval = Math.min(MAX_PING_INTERVAL_MS, Math.max(100, this.nodeTimeoutMs / 4));
    for (const n of this.state.nodes.values()) {
      if (n === this.myself) continue;
      if (n.has(NODE_FLAG.handshake) || n.has(NODE_FLAG.meet)) {
        this.send(n, 'meet');
        continue;
      }
      // An outstanding ping is repeated: a lost ping or pong must not turn into a failure report.
      const due = n.pingSentMs === 0 ? now - n.pongReceivedMs >= interval : now - n.pingAttemptMs >= interval;
      if (due) this.ping(n);
    }
  }

  // ---- ClusterControl: commands ----------------------------------------------

  meet(ip: string, port: number, cport: number): boolean {
    if (port <= 0 || port > 65535 || cport <= 0 || cport > 65535 || !/^[\w.:-]+$/.test(ip)) return false;
    for (const n of this.state.nodes.values()) if (n.has(NODE_FLAG.handshake) && n.ip === ip && n.cport === cport) return true;
    const id = this.host.runtime.random.bytes(20).toString('hex');
    const n = new ClusterNode(id, { ip, port, cport, flags: NODE_FLAG.handshake | NODE_FLAG.meet, shardId: '', nowMs: this.nowMs() });
    this.state.addNode(n);
    this.send(n, 'meet', { to: ip });
    return true;
  }

  forget(node: ClusterNode): string | null {
    if (node === this.myself) return "ERR I tried hard but I can't forget myself...";
    if (this.myself.isReplica && this.myself.primaryId === node.id) return "ERR Can't forget my master!";
    this.state.blacklist.set(node.id, this.nowMs() + FORGET_BLACKLIST_MS);
    this.dropLink(node.id);
    this.state.removeNode(node);
    this.changed();
    this.afterChange();
    return null;
  }

  replicate(primary: ClusterNode): string | null {
    const me = this.myself;
    if (primary === me) return "ERR Can't replicate myself";
    if (!primary.isPrimary) return 'ERR I can only replicate a master, not a replica.';
    if (me.isPrimary && (me.slots.count > 0 || this.host.keyCount() > 0)) {
      return 'ERR To set a master the node must be empty and without assigned slots.';
    }
    this.becomeReplicaOf(primary);
    this.configChanged();
    return null;
  }

  failover(mode: FailoverMode): string | null {
    return this.election.manual(mode);
  }

  reset(hard: boolean): void {
    const me = this.myself;
    if (me.isReplica) this.state.setRole(me, null);
    for (let s = 0; s < SLOT_COUNT; s++) {
      this.state.importingFrom[s] = null;
      this.state.migratingTo[s] = null;
      this.state.unassign(s);
    }
    for (const n of [...this.state.nodes.values()]) {
      if (n === me) continue;
      this.dropLink(n.id);
      this.state.removeNode(n);
    }
    if (hard) {
      this.state.currentEpoch = 0;
      this.state.lastVoteEpoch = 0;
      me.configEpoch = 0;
      const newId = this.host.runtime.random.bytes(20).toString('hex');
      this.state.rename(me, newId);
      this.host.replication.rename(newId);
      me.shardId = this.host.runtime.random.bytes(20).toString('hex');
    }
    this.election.reset();
    this.configChanged();
  }

  saveConfig(): string | null {
    this.saveNeeded = false;
    const err = this.host.persist(this.host.serialize(this.state));
    return err === null ? null : `ERR error saving the cluster node config: ${err}`;
  }

  setConfigEpoch(epoch: number): string | null {
    if (epoch < 0) return `ERR Invalid config epoch specified: ${epoch}`;
    if (this.state.nodes.size > 1) return 'ERR The user can assign a config epoch only when the node does not know any other node.';
    if (this.myself.configEpoch !== 0) return 'ERR Node config epoch is already non-zero';
    this.myself.configEpoch = epoch;
    if (this.state.currentEpoch < epoch) this.state.currentEpoch = epoch;
    this.changed();
    this.afterChange();
    return null;
  }

  bumpEpoch(): string {
    const bumped = this.bumpConfigEpochWithoutConsensus();
    this.afterChange();
    return `${bumped ? 'BUMPED' : 'STILL'} ${this.myself.configEpoch}`;
  }

  /**
   * clusterBumpConfigEpochWithoutConsensus: takes a new epoch unless this
   * node already has the unique highest one (or `always`).
   */
  bumpConfigEpochWithoutConsensus(always = false): boolean {
    const max = this.state.maxConfigEpoch();
    const me = this.myself;
    if (!always && me.configEpoch !== 0 && me.configEpoch === max && ![...this.state.nodes.values()].some((n) => n !== me && n.configEpoch === max)) return false;
    this.state.currentEpoch++;
    me.configEpoch = this.state.currentEpoch;
    this.changed();
    return true;
  }

  setSlotNode(slot: number, node: ClusterNode): string | null {
    const me = this.myself;
    if (this.state.ownerOf(slot) === me && node !== me && this.host.slotKeyCount(slot) > 0) {
      return `ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`;
    }
    if (this.host.slotKeyCount(slot) === 0 && this.state.migratingTo[slot] !== null) this.state.migratingTo[slot] = null;
    if (node === me && this.state.importingFrom[slot] !== null) {
      // The import ended: claim the slot with a fresh epoch so the new ownership wins everywhere.
      this.state.importingFrom[slot] = null;
      this.state.assign(slot, me);
      // Always a new epoch, even when ours looks like the unique maximum: the source's
      // last claims may be in flight with a newer epoch we have not heard of yet, and
      // one of them arriving now would take the slot back (and its keys with it).
      if (this.bumpConfigEpochWithoutConsensus(true)) this.log.info({ slot, epoch: me.configEpoch }, 'Epoch bumped after importing a slot');
    } else {
      this.state.assign(slot, node);
    }
    this.configChanged();
    return null;
  }

  isolate(on: boolean): void {
    this.isolated = on;
    this.host.replication.isolated = on;
    this.log.warn({ isolated: on }, 'DEBUG CLUSTER-ISOLATE');
  }

  links(): LinkInfo[] {
    const out: LinkInfo[] = [];
    for (const [id, l] of this.busLinks) {
      out.push({ direction: 'to', node: id, createTimeMs: l.createdMs, events: 'rw', sendBufferAllocated: l.link.queuedBytes, sendBufferUsed: l.link.queuedBytes });
    }
    return out;
  }

  /** Called by failure.ts when a node is found failing by a majority. */
  nodeFailed(n: ClusterNode): void {
    this.log.warn({ node: n.id }, 'Marking node as failing (quorum reached)');
    this.broadcast('fail', { about: n.id });
    this.changed();
  }

  markFailIfNeeded(n: ClusterNode): void {
    markFailIfNeeded(this, n);
  }
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}
