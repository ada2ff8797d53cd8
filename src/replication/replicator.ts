import { Hlc, hlcPhysicalMs } from '../crdt/hlc.js';
import type { Logger } from '../log.js';
import type { Runtime, TimerHandle } from '../runtime/index.js';
import type { Database } from '../store/database.js';
import type { Keyspace } from '../store/keyspace.js';
import { PREFETCH_BATCH_KEYS, type KeyPrefetch } from '../store/prefetch.js';
import type { Entry } from '../store/entry.js';
import type { Bus, BusAddress, BusServer } from '../transport/bus.js';
import { EncodeOnce } from '../transport/codec.js';
import { ownString } from '../store/own-string.js';
import { AntiEntropy } from './anti-entropy.js';
import { DeltaLog } from './delta-log.js';
import { KeyCrdt } from './key-crdt.js';
import { LEAF_COUNT } from './merkle.js';
import { parseMessage, type Deltas, type Heartbeat, type KeyStateItem, type Nack, type ReplMessage } from './messages.js';
import { BATCH_BYTES, BATCH_KEYS, Outbox, type Batch } from './outbox.js';
import { NACK_INTERVAL_MS, PeerSession } from './peer.js';
import { PeerSync } from './peer-sync.js';
import { applyState, invalidContent, liveState, tombState } from './state-apply.js';
import { decodeEvents, decodeStates, encodeStates, type ItemEvent, type WireStates } from './wire.js';
import { Tombstone } from '../crdt/key-meta.js';
import type { KeyState } from '../crdt/key-state.js';

export interface ReplicationOptions {
  /** This node's id for this incarnation (the server's run id). */
  selfId: string;
  /** Where this node's bus listens, and how peers name it ("host:port"); null when the cluster's bus delivers our messages (receive()). */
  listen: BusAddress | null;
  /** How peers name this node: "host:port" of its bus, or the cluster node id. */
  name: string;
  peers: BusAddress[];
  /** bind-source-addr: where outgoing links originate ('' = any). */
  localAddress: string;
  deltaLogEntries: number;
  heartbeatMs: number;
  antiEntropyMs: number;
}

/** What the replicator needs from the node it runs in. */
export interface ReplicaHost {
  readonly keyspace: Keyspace;
  /** Runs fn as the node runs a command: command clock set, blocked clients served after. */
  runAsCommand(fn: () => void): void;
  /** Reads batches of keys into the CPU cache ahead of their use (the server's, shared with commands). */
  readonly keyPrefetch: KeyPrefetch;
  /** A write arrived from a peer (WATCH, notifications). */
  remoteWrite(db: Database, key: string, event: string): void;
  /** A peer's PUBLISH (shard: SPUBLISH) for this node's subscribers. */
  deliverPublished(channel: string, message: string, shard: boolean): void;
  /** The HLC up to which this node's state survives a crash (Persistence.durableHlc; Infinity without persistence). */
  durableHlc(): number;
  /** Unix ms as the running command sees it (sampled once per I/O batch and command, not per write). */
  nowMs(): number;
}

/** Batches sent to one peer per flush before yielding to clients. */
const BATCHES_PER_FLUSH = 16;
/** While deltas keep a peer current, anti-entropy with it runs this many times less often. */
const AE_BACKOFF_FACTOR = 10;
/**
 * States whose keys are prefetched together before they are merged. Fewer
 * than a command batch: a merge touches much more memory than a command, and
 * with 64 the first keys' lines were evicted again before their turn
 * (measured: a peer's CPU per replicated SET 3.4 -> 3.2 us with 16).
 */
const APPLY_PREFETCH_KEYS = 16;
/** Anti-entropy rounds in a row that may stop at their leaves while deltas stream (deferRound). */
const MAX_AE_DEFERRED = 3;
/** Deltas applied this recently mean peers are still streaming writes (see deltasInFlight). */
const DELTAS_RECENT_MS = 500;
/** How long local writes gather before being pushed to peers. */
const FLUSH_DELAY_MS = 10;

/**
 * Active-active replication of one node's keyspace with its peers: every
 * local write becomes a delta (the key's new CRDT state) in a bounded log
 * with this node's sequence numbers; deltas are pushed to every peer in
 * batches and acknowledged; a receiver that sees a hole asks for a resend
 * (nack); a heartbeat carries acks, liveness and how far deltas were sent,
 * so a lost last batch is noticed too; Merkle
 * anti-entropy repairs whatever the push missed (a long partition, a
 * restarted peer, a log overrun); tombstones are collected once every peer
 * completed an anti-entropy round that started after them.
 */
export class Replicator {
  readonly hlc: Hlc;
  readonly crdt: KeyCrdt;
  readonly log: DeltaLog;
  readonly peers: PeerSession[] = [];
  readonly ae: AntiEntropy;
  /** Catching up with the peers before serving clients (see peer-sync.ts). */
  private readonly sync = new PeerSync();
  private readonly byLabel = new Map<string, PeerSession>();
  private selfLabel: string;
  private server: BusServer | null = null;
  private timers: TimerHandle[] = [];
  private flushPending = false;
  /** The batch built in this flush, for the next peer at the same log position. */
  private batchCache: Batch | null = null;
  /** Deltas captured at the end of each I/O round, while their keys are cached. */
  private readonly outbox: Outbox;
  /** The last seq of a write made inside an atomic unit, per state holder (entry or tombstone). */
  private readonly unitWrites = new WeakMap<object, number>();
  private aeNext = 0;
  /** When deltas from a peer last brought states here (monotonic ms). */
  private deltasAppliedMs = -Infinity;
  /** Test fault (DEBUG CLUSTER-ISOLATE): nothing is sent. */
  isolated = false;
  /** Messages refused as malformed (INFO). */
  rejectedMessages = 0;
  private lastRejectLogMs = 0;

  constructor(
    private readonly host: ReplicaHost,
    private readonly runtime: Runtime,
    private readonly bus: Bus,
    private readonly log_: Logger,
    readonly options: ReplicationOptions,
  ) {
    this.hlc = new Hlc(runtime.clock);
    this.log = new DeltaLog(options.deltaLogEntries);
    this.crdt = new KeyCrdt(options.selfId, this.hlc, host.keyspace.count, (db, key, event) => this.changed(db, key, event));
    for (const db of host.keyspace.all()) db.crdt = this.crdt;
    this.outbox = new Outbox(this.log, {
      sending: () => !this.isolated && this.peers.some((p) => p.link.state === 'ready' && p.peerId !== ''),
      holder: (db, key) => this.stateHolder(db, key),
      holderHash: (h) => (h instanceof Tombstone ? h.digest : (h as Entry).hash),
      readableNow: (h) => h instanceof Tombstone || readableNow(h as Entry),
      state: (h) => (h instanceof Tombstone ? tombState(h) : liveState(this.crdt, h as Entry, (h as Entry).crdt!)),
    });
    this.selfLabel = options.name;
    this.ae = new AntiEntropy({
      crdt: this.crdt,
      dbs: () => host.keyspace.all(),
      hlcNow: () => this.hlc.now(),
      nowMs: () => this.nowMs(),
      send: (peer, m) => this.send(peer, m),
      applyWire: (peer, wire) => this.applyStates(peer, decodeStates(wire, host.keyspace.count, (why) => this.reject(why, peer.label))),
      roundMerged: (peer) => this.caughtUp(peer),
      deferRound: (peer, differingLeaves) => this.deferRound(peer, differingLeaves),
      roundEnded: (peer, complete) => {
        if (complete) this.caughtUp(peer);
        // Catching up (or repairing), an incomplete round goes on at once: the deltas in flight will not bring everything.
        if (!complete && (peer.repairing || this.sync.active || !this.deltasInFlight(peer))) {
          this.runtime.timer.setImmediate(() => peer.aeRound === null && peer.link.state === 'ready' && this.ae.start(peer));
        }
      },
    });
  }

  async start(): Promise<void> {
    if (this.options.listen !== null) this.server = await this.bus.listen(this.options.listen, (m, from) => this.receive(m, from));
    for (const address of this.options.peers) this.addPeer(`${address.host}:${address.port}`, address);
    const t = this.runtime.timer;
    this.timers.push(t.setInterval(() => this.heartbeat(), this.options.heartbeatMs));
    this.timers.push(t.setInterval(() => this.antiEntropyTick(), this.options.antiEntropyMs));
  }

  /**
   * Clients get -LOADING until a complete anti-entropy round with a peer
   * was merged here, or nothing that brings data came from any peer for
   * timeoutMs (see peer-sync.ts). Nothing to wait for without peers.
   */
  startPeerSync(timeoutMs: number): void {
    if (this.peers.length === 0) return;
    this.sync.start(this.nowMs(), timeoutMs);
    if (this.sync.active) this.log_.info({ peers: this.peers.length, timeoutMs }, 'Catching up with peers before serving clients');
  }

  /** Whether clients are refused with -LOADING (catching up with the peers). */
  get loading(): boolean {
    return this.sync.active;
  }

  /** A complete round with the peer was merged here: this node holds what the peer held when it started. */
  private caughtUp(peer: PeerSession): void {
    if (!this.sync.active) return;
    this.sync.finish();
    this.log_.info({ peer: peer.label, ms: this.sync.elapsedMs(this.nowMs()) }, 'Caught up with a peer: serving clients');
  }

  /** Nothing came from any peer for the timeout (or none is left): this node serves what it has. */
  private stopWaitingForPeers(): void {
    if (!this.sync.givesUp(this.nowMs(), this.peers.length)) return;
    this.sync.finish();
    this.log_.warn({ ms: this.sync.elapsedMs(this.nowMs()) }, 'No peer brought data in time: serving the data this node has');
  }

  /** This node's name changed (CLUSTER RESET HARD gives it a new id). */
  rename(name: string): void {
    this.selfLabel = name;
  }

  /** Starts replicating with the peer named `label` (its bus address, or cluster node id) at `address`. */
  addPeer(label: string, address: BusAddress): void {
    if (label === this.selfLabel || this.byLabel.has(label)) return;
    const localAddress = this.options.localAddress || undefined;
    const link = this.bus.connect(address, { localAddress, onStateChange: (state) => state === 'ready' && this.linkReady(label) });
    const peer = new PeerSession(address, label, link);
    this.peers.push(peer);
    this.byLabel.set(label, peer);
  }

  /** Stops replicating with a peer (cluster: it left this node's shard). Its messages are refused from now on. */
  removePeer(label: string): void {
    const peer = this.byLabel.get(label);
    if (peer === undefined) return;
    peer.link.close();
    this.byLabel.delete(label);
    this.peers.splice(this.peers.indexOf(peer), 1);
    this.aeNext = 0;
  }

  hasPeer(label: string): boolean {
    return this.byLabel.has(label);
  }

  /**
   * The replication offset of this node as a replica of `label` (what a
   * failover ranks replicas by): 0 until the primary was heard from, then 1
   * + the primary's deltas applied here without a hole. Zero means "not
   * synchronised" as in Redis, hence the 1 for an empty but linked replica.
   */
  offsetFrom(label: string): number {
    const peer = this.byLabel.get(label);
    return peer === undefined || peer.peerId === '' ? 0 : peer.appliedSeq + 1;
  }

  /** This node's offset as a primary, on the same scale as offsetFrom. */
  get ownOffset(): number {
    return this.log.lastSeq + 1;
  }

  async stop(): Promise<void> {
    for (const h of this.timers) this.runtime.timer.clearInterval(h);
    this.timers = [];
    for (const p of this.peers) p.link.close();
    await this.server?.close();
    this.server = null;
  }

  private nowMs(): number {
    return this.runtime.clock.nowMs();
  }

  // ---- local writes -> deltas ----------------------------------------------

  private changed(db: Database, key: string, event: string): void {
    // The command's clock: the stamp only serves lag_ms, and a clock read per write was 1.4% of a writer's CPU.
    const seq = this.log.append(db.id, key, this.host.nowMs(), event);
    if (this.log.inUnit) {
      const found = this.stateHolder(db.id, key);
      if (found !== undefined) this.unitWrites.set(found, seq);
    }
    this.changedSinceFlush();
  }

  /** Schedules a flush of the log to the peers (writes arriving meanwhile share it). */
  private changedSinceFlush(): void {
    if (!this.flushPending && this.peers.length > 0) {
      // Writes arriving over the next FLUSH_DELAY_MS share one message per
      // peer: per-message costs (gRPC frame, encoding setup, the peer's
      // dispatch) dominate small batches.
      this.flushPending = true;
      this.runtime.timer.setTimeout(() => this.flush(), FLUSH_DELAY_MS);
    }
  }

  /** The end of an I/O round (Server.flushRound): the round's writes are captured while their keys are cached. */
  captureRound(): void {
    if (this.peers.length > 0) this.outbox.captureRound();
  }

  private flush(): void {
    this.flushPending = false;
    this.pushToAll();
  }

  /** Sends every peer what it has not been sent: captured batches where they fit, states read now elsewhere. */
  private pushToAll(): void {
    this.sealCaptured();
    let sentSeq = Infinity;
    for (const peer of this.peers) {
      this.pushTo(peer);
      if (peer.link.state === 'ready' && peer.peerId !== '') sentSeq = Math.min(sentSeq, peer.sentSeq);
    }
    this.batchCache = null;
    if (sentSeq === Infinity) this.outbox.clear();
    else this.outbox.trim(sentSeq);
  }

  /** Before sending: what was captured so far becomes batches, and no batch read at sending time is reused. */
  private sealCaptured(): void {
    this.outbox.captureRound();
    this.outbox.seal();
    this.batchCache = null;
  }

  /** Sends the peer what it has not been sent yet, a bounded number of batches at a time. */
  private pushTo(peer: PeerSession): void {
    if (peer.link.state !== 'ready' || peer.peerId === '' || this.log.inUnit) return;
    for (let n = 0; n < BATCHES_PER_FLUSH && peer.sentSeq < this.log.lastSeq; n++) {
      const first = peer.sentSeq + 1;
      if (!this.log.holds(first)) {
        if (!this.send(peer, { k: 'gap', last: this.log.firstSeq - 1 })) return;
        peer.sentSeq = this.log.firstSeq - 1;
        peer.repairing = true;
        continue;
      }
      const batch = this.outbox.take(first) ?? this.statesFor(first, Math.min(this.log.lastSeq, first + BATCH_KEYS - 1, this.outbox.nextFirstAfter(first) - 1));
      batch.message ??= new EncodeOnce(this.stamp({ k: 'deltas', first, last: batch.last, ...batch.wire }));
      if (!this.send(peer, batch.message)) return;
      peer.sentSeq = batch.last;
    }
    if (peer.sentSeq < this.log.lastSeq && !this.flushPending) {
      this.flushPending = true;
      this.runtime.timer.setImmediate(() => this.flush());
    }
  }

  /**
   * Current states of the keys logged from `first` on, each key once, up to
   * `maxLast` or until the batch holds about BATCH_BYTES (a message must stay
   * under the bus's size bound). Returns the last seq covered. Peers at the
   * same point in the log share one batch per flush.
   */
  private statesFor(first: number, maxLast: number): Batch {
    const cached = this.batchCache;
    if (cached !== null && cached.first === first && cached.maxLast === maxLast) return cached;
    const itemOf = new Map<object, number>();
    const items: KeyStateItem[] = [];
    /** Flat [item, event name] pairs, the wire form itself (no per-write objects). */
    const events: unknown[] = [];
    let bytes = 0;
    let seq = first;
    // Past the size bounds only to finish an atomic unit, or one whose writes the states shipped already show.
    let mustReach = 0;
    for (; seq <= this.log.lastSeq && ((seq <= maxLast && bytes < BATCH_BYTES) || seq <= mustReach || this.log.joinsNext(seq - 1)); seq++) {
      if ((seq - first) % PREFETCH_BATCH_KEYS === 0) this.prefetchLogged(seq, Math.max(maxLast, mustReach));
      const db = this.log.dbAt(seq);
      const key = this.log.keyAt(seq);
      const found = this.stateHolder(db, key);
      if (found === undefined) continue;
      let item = itemOf.get(found);
      if (item === undefined) {
        item = items.length;
        itemOf.set(found, item);
        const s = found instanceof Tombstone ? tombState(found) : liveState(this.crdt, found, found.crdt!);
        items.push([db, key, s]);
        bytes += key.length + approxBytes(s.v) + 64;
        // The state is the key's latest: if a later unit wrote it, that unit's other writes come along.
        const unitSeq = this.unitWrites.get(found);
        if (unitSeq !== undefined && unitSeq > seq) mustReach = Math.max(mustReach, this.log.unitEnd(unitSeq));
      }
      // Every write's event, in log order: peers replay them to their subscribers (one state may carry several).
      events.push(item, this.log.eventAt(seq));
    }
    this.batchCache = { first, maxLast, last: seq - 1, wire: encodeStates(items, events), message: null };
    return this.batchCache;
  }

  /**
   * EXEC and scripts: the writes made until endUnit() reach every peer in one
   * deltas message, applied there as one step, so no peer shows half of them.
   * While a unit is open (a script running across event-loop turns) nothing
   * is shipped: the states would show part of it.
   */
  beginUnit(): void {
    this.log.beginUnit();
  }

  endUnit(): void {
    this.log.endUnit();
    if (!this.log.inUnit && this.log.lastSeq > 0) this.changedSinceFlush();
  }

  /** What holds a key's replicated state: its entry (live or kept hidden while empty) or its tombstone. */
  private stateHolder(db: number, key: string): Entry | Tombstone | undefined {
    const e = this.host.keyspace.all()[db]!.keys.get(key) ?? this.crdt.hidden[db]!.get(key);
    return e !== undefined && e.crdt !== null ? e : this.crdt.tombstones[db]!.get(key);
  }

  /**
   * A PUBLISH made here goes to each peer once (full mesh, never forwarded
   * further), so every subscriber in the group gets it exactly once. A peer
   * whose link is down misses it: pub/sub is at most once, as in Redis.
   */
  publish(channel: string, message: string, shard: boolean): void {
    for (const peer of this.peers) if (peer.link.state === 'ready') this.send(peer, { k: 'pub', ch: channel, msg: message, sh: shard });
  }

  /** Sends m, signed now; an EncodeOnce message was signed when it was made. */
  private send(peer: PeerSession, m: Record<string, unknown> | EncodeOnce): boolean {
    if (this.isolated) return false;
    return peer.link.send(m instanceof EncodeOnce ? m : this.stamp(m));
  }

  /** Signs m with this node's run id, name and HLC (the envelope of messages.ts). */
  private stamp(m: Record<string, unknown>): Record<string, unknown> {
    m.id = this.options.selfId;
    m.from = this.selfLabel;
    m.hlc = this.hlc.now();
    return m;
  }

  private linkReady(label: string): void {
    const peer = this.byLabel.get(label);
    if (peer === undefined) return;
    // Whatever was in flight on the old connection may be lost: resend from the last ack.
    peer.sentSeq = peer.ackedSeq;
    this.sendHeartbeat(peer);
    this.startSyncRound(peer);
  }

  /** Catching up: a peer heard from (its id known) over a ready link is asked at once, not at the next tick. */
  private startSyncRound(peer: PeerSession): void {
    if (!this.sync.active || peer.aeRound !== null || peer.link.state !== 'ready' || peer.peerId === '') return;
    peer.aeStartedMs = this.nowMs();
    this.ae.start(peer);
  }

  // ---- timers --------------------------------------------------------------

  private heartbeat(): void {
    for (const peer of this.peers) this.sendHeartbeat(peer);
    this.pushToAll();
  }

  private sendHeartbeat(peer: PeerSession): void {
    if (peer.link.state !== 'ready') return;
    this.send(peer, { k: 'hb', seq: this.log.lastSeq, ack: peer.appliedSeq, ackId: peer.peerId, sent: peer.sentSeq, dur: this.host.durableHlc() });
  }

  private antiEntropyTick(): void {
    const now = this.nowMs();
    for (const peer of this.peers) this.ae.expire(peer, this.options.antiEntropyMs * 5);
    this.stopWaitingForPeers();
    this.collectTombstones();
    for (let i = 0; i < this.peers.length; i++) {
      const peer = this.peers[(this.aeNext + i) % this.peers.length]!;
      if (peer.link.state !== 'ready' || peer.peerId === '' || peer.aeRound !== null) continue;
      if (this.deltasKeepUp(peer) && now - peer.aeStartedMs < this.options.antiEntropyMs * AE_BACKOFF_FACTOR) continue;
      this.aeNext = (this.aeNext + i + 1) % this.peers.length;
      peer.aeStartedMs = now;
      this.ae.start(peer);
      return;
    }
  }

  /**
   * Whether deltas alone keep this node and the peer current, both ways:
   * ours are acknowledged (all of them, or progressing while the log still
   * holds the oldest pending one) and theirs are applied (all they
   * announced, or progressing). Under a steady write load every Merkle leaf
   * differs by what is in flight, so a round would rescan and reship the
   * keyspace for nothing: anti-entropy then runs AE_BACKOFF_FACTOR times
   * less often. A peer that is merely slow is no reason for a round either:
   * it only adds to what that peer must process (measured: a peer behind a
   * SET P=16 load spent 42% of its CPU scanning for anti-entropy rounds).
   * What deltas cannot repair, a hole the log no longer holds, still starts
   * one at the next tick.
   */
  private deltasKeepUp(peer: PeerSession): boolean {
    const acked = peer.ackedSeq > peer.ackedAtLastTick;
    const applied = peer.appliedSeq > peer.appliedAtLastTick;
    peer.ackedAtLastTick = peer.ackedSeq;
    peer.appliedAtLastTick = peer.appliedSeq;
    const pending = peer.ackedSeq + 1;
    const outbound = pending > this.log.lastSeq || (acked && this.log.holds(pending));
    const inbound = peer.appliedSeq >= peer.peerLastSeq || applied;
    return outbound && inbound;
  }

  /**
   * Whether deltas on their way can explain what a round found different:
   * ours the peer has not acknowledged while the log still holds them, or
   * any peer's arriving here lately (in a group of three, the two receivers
   * of a third node's writes differ by what each has applied so far). An
   * incomplete round then waits for the next tick instead of rescanning at
   * once: under a steady write load back-to-back rounds kept both sides
   * scanning their keyspaces (a quarter of a peer's CPU) for states the
   * deltas were already bringing. A pair that is repairing (a log gap, a
   * restarted peer: PeerSession.repairing) goes on at once regardless.
   */
  private deltasInFlight(peer: PeerSession): boolean {
    const pending = peer.ackedSeq + 1;
    if (pending <= this.log.lastSeq && this.log.holds(pending)) return true;
    return this.runtime.clock.monotonicMs() - this.deltasAppliedMs < DELTAS_RECENT_MS;
  }

  /**
   * Whether a round should stop at its leaves: when more than a quarter of
   * them differ while deltas are in flight, the difference is mostly those
   * deltas, and scanning both keyspaces to reship states they are bringing
   * anyway cost a peer of a steady write load about a tenth of its CPU
   * (rounds between two receivers of a third node's writes, whose every leaf
   * differs by what each has applied so far). At most MAX_AE_DEFERRED rounds
   * in a row stop so: under a write load that never ends, a difference the
   * deltas cannot repair still gets a whole round. Never while catching up
   * or repairing.
   */
  private deferRound(peer: PeerSession, differingLeaves: number): boolean {
    const defer = differingLeaves > LEAF_COUNT / 4 && !peer.repairing && !this.sync.active && this.deltasInFlight(peer) && peer.aeDeferred < MAX_AE_DEFERRED;
    peer.aeDeferred = defer ? peer.aeDeferred + 1 : 0;
    return defer;
  }

  /**
   * Drops tombstones every peer is known to hold (or to hold something
   * newer): those kept since before the start of an anti-entropy round that
   * completed with each peer.
   */
  collectTombstones(): void {
    const horizon = this.tombstoneHorizon().hlc;
    if (horizon === 0) return;
    this.crdt.collectedBefore = horizon;
    for (const db of this.host.keyspace.all()) {
      const tombs = this.crdt.tombstones[db.id]!;
      for (const [key, tomb] of tombs) if (tomb.heldSince < horizon) this.crdt.dropTombstone(db, key);
    }
  }

  /**
   * Tombstones held since before this HLC may be collected: the oldest of
   * our own durability point (what we drop must not come back from an older
   * log) and each peer's last complete, durable anti-entropy round. heldBy
   * names what holds it lowest ('self', a peer's label; '' with no peers).
   */
  tombstoneHorizon(): { hlc: number; heldBy: string } {
    let hlc = this.host.durableHlc();
    let heldBy = this.peers.length === 0 ? '' : 'self';
    for (const peer of this.peers) {
      if (peer.aeCompletedHlc >= hlc) continue;
      hlc = peer.aeCompletedHlc;
      heldBy = peer.label;
    }
    return { hlc, heldBy };
  }

  // ---- receiving -----------------------------------------------------------

  /** One message from the bus (ours, or the cluster bus passing replication messages on). */
  receive(raw: unknown, transportPeer: string): void {
    const m = parseMessage(raw, this.host.keyspace.count);
    if (typeof m === 'string') return this.reject(m, transportPeer);
    const peer = this.byLabel.get(m.from);
    if (peer === undefined) return this.reject(`unknown peer ${m.from}`, transportPeer);
    if (!this.hlc.observe(m.hlc)) this.warn(`clock of ${m.from} is too far ahead; not adopted`, transportPeer);
    peer.lastContactMs = this.nowMs();
    if (peer.peerId !== m.id) this.peerRestarted(peer, m.id);
    if (this.sync.active && m.k !== 'hb' && m.k !== 'pub' && m.k !== 'nack') this.sync.progressed(this.nowMs());
    this.dispatch(peer, m);
  }

  private dispatch(peer: PeerSession, m: ReplMessage): void {
    switch (m.k) {
      case 'hb':
        return this.onHeartbeat(peer, m);
      case 'nack':
        return this.onNack(peer, m);
      case 'pub':
        this.host.deliverPublished(m.ch, m.msg, m.sh);
        return;
      case 'deltas':
        return this.onDeltas(peer, m);
      case 'gap':
        // The peer's log no longer holds what we miss: anti-entropy must repair it, now.
        if (m.last > peer.appliedSeq) peer.appliedSeq = m.last;
        peer.repairing = true;
        if (peer.aeRound === null) {
          peer.aeStartedMs = this.nowMs();
          this.ae.start(peer);
        }
        return;
      case 'ae1':
        return this.ae.onGroups(peer, m);
      case 'ae2':
        return this.ae.onLeaves(peer, m);
      case 'ae3':
        return this.ae.onKeys(peer, m);
      case 'ae4':
        return this.ae.onDiff(peer, m);
      case 'states':
        return this.ae.onStates(peer, m);
      case 'aedone':
        return this.ae.onDone(peer, m);
    }
  }

  private peerRestarted(peer: PeerSession, id: string): void {
    const known = peer.peerId !== '';
    if (known) this.log_.warn({ peer: peer.label, id }, 'Peer restarted: resyncing');
    peer.reset(id, this.nowMs());
    // Back with what its disk kept, or nothing: whatever it lost is ours to repair.
    if (known) peer.repairing = true;
    this.sendHeartbeat(peer);
    this.startSyncRound(peer);
  }

  private onHeartbeat(peer: PeerSession, m: Heartbeat): void {
    peer.peerLastSeq = m.seq;
    // A node too old to report durability is taken as durable at once (the behaviour before the field existed).
    peer.heardDurable(m.dur ?? Infinity);
    if (m.ackId === this.options.selfId && m.ack > peer.ackedSeq) {
      peer.ackedSeq = Math.min(m.ack, this.log.lastSeq);
      if (peer.sentSeq < peer.ackedSeq) peer.sentSeq = peer.ackedSeq;
    }
    // Deltas sent before this heartbeat on the same ordered link and still missing were lost.
    if (m.sent > peer.appliedSeq) this.requestResend(peer);
  }

  private onDeltas(peer: PeerSession, m: Deltas): void {
    const indexes: number[] = [];
    const items = decodeStates(m, this.host.keyspace.count, (why) => this.reject(why, peer.label), indexes);
    this.applyStates(peer, items, { indexes, events: decodeEvents(m) });
    if (items.length > 0) this.deltasAppliedMs = this.runtime.clock.monotonicMs();
    if (m.first <= peer.appliedSeq + 1 && m.last > peer.appliedSeq) peer.appliedSeq = m.last;
    else if (m.first > peer.appliedSeq + 1) this.requestResend(peer);
  }

  private requestResend(peer: PeerSession): void {
    const now = this.nowMs();
    if (now - peer.nackSentMs < NACK_INTERVAL_MS) return;
    peer.nackSentMs = now;
    this.send(peer, { k: 'nack', resendFrom: peer.appliedSeq + 1 });
  }

  /** The peer lacks our deltas from m.resendFrom on (and has everything before). */
  private onNack(peer: PeerSession, m: Nack): void {
    const has = Math.min(m.resendFrom - 1, this.log.lastSeq);
    if (has > peer.ackedSeq) peer.ackedSeq = has;
    if (peer.sentSeq > has) peer.sentSeq = Math.max(has, peer.ackedSeq);
    this.sealCaptured();
    this.pushTo(peer);
  }

  /**
   * Merges peer states. `told`: a deltas message's item indexes and write
   * events, replayed in order for the items that changed this node; without
   * them (anti-entropy) each changed key reports set or del.
   */
  private applyStates(peer: PeerSession, items: KeyStateItem[], told?: { indexes: number[]; events: ItemEvent[] | null }): void {
    const dbs = this.host.keyspace.all();
    /** Per item: the keyspace event its merge amounts to; null when it changed nothing. */
    const merged = new Array<string | null>(items.length).fill(null);
    this.host.runAsCommand(() => {
      for (let i = 0; i < items.length; i++) {
        // A batch's keys are read ahead together: a lookup per state was a third of a peer's apply time.
        if (i % APPLY_PREFETCH_KEYS === 0 && items.length - i > 1) this.prefetch(items, i, dbs);
        const [dbIndex, key, s] = items[i]!;
        merged[i] = this.mergeState(dbs[dbIndex]!, key, s, peer.label);
      }
      const events = told?.events ?? null;
      if (events === null) {
        for (let i = 0; i < items.length; i++) if (merged[i] !== null) this.host.remoteWrite(dbs[items[i]![0]]!, items[i]![1], merged[i]!);
        return;
      }
      // Events name items by their index in the message; told.indexes holds each kept item's (ascending).
      const indexes = told!.indexes;
      const keptAt = new Int32Array(indexes.length === 0 ? 0 : indexes[indexes.length - 1]! + 1).fill(-1);
      for (let i = 0; i < indexes.length; i++) keptAt[indexes[i]!] = i;
      for (const { item, name } of events) {
        const i = item < keptAt.length ? keptAt[item]! : -1;
        if (i >= 0 && merged[i] !== null) this.host.remoteWrite(dbs[items[i]![0]]!, items[i]![1], name);
      }
    });
  }

  /**
   * KeyPrefetch of the keys logged at seqs [from, min(last, from + PREFETCH_BATCH_KEYS)):
   * written up to FLUSH_DELAY_MS ago, they are often out of the cache again
   * (a state lookup was 12% of a primary's CPU under INCR P=16 with peers).
   */
  private prefetchLogged(from: number, last: number): void {
    const end = Math.min(last + 1, this.log.lastSeq + 1, from + PREFETCH_BATCH_KEYS);
    if (end - from < 2) return;
    const batch = this.host.keyPrefetch;
    const dbs = this.host.keyspace.all();
    for (let seq = from; seq < end; seq++) {
      batch.use(dbs[this.log.dbAt(seq)]!);
      batch.addKey(this.log.keyAt(seq));
    }
    batch.run();
  }

  /** KeyPrefetch of the keys of items[from .. from + APPLY_PREFETCH_KEYS). */
  private prefetch(items: readonly KeyStateItem[], from: number, dbs: readonly Database[]): void {
    const batch = this.host.keyPrefetch;
    const end = Math.min(items.length, from + APPLY_PREFETCH_KEYS);
    for (let i = from; i < end; i++) {
      const [dbIndex, key] = items[i]!;
      batch.use(dbs[dbIndex]!);
      batch.addKey(key);
    }
    batch.run();
  }

  /** Merges one peer state (shape-checked by decodeStates); returns its keyspace event, or null when it changed nothing or was refused. */
  private mergeState(db: Database, key: string, s: KeyState, from: string): string | null {
    const bad = invalidContent(s);
    if (bad !== null) {
      this.reject(`state of ${key}: ${bad}`, from);
      return null;
    }
    try {
      return applyState(this.crdt, db, key, s);
    } catch (err) {
      this.reject(`state of ${key}: ${(err as Error).message}`, from);
      return null;
    }
  }

  /**
   * States of keys another shard's primary handed over (cluster/handoff.ts):
   * merged, then logged as this node's own writes so that its replicas (which
   * never talk to that node) receive them too.
   */
  adopt(items: KeyStateItem[], from: string): void {
    const dbs = this.host.keyspace.all();
    this.host.runAsCommand(() => {
      for (const [dbIndex, item, s] of items) {
        const db = dbs[dbIndex]!;
        const event = this.mergeState(db, item, s, from);
        if (event === null) continue;
        // Logged: a key of its own, not a slice of the message's keys (wire.ts).
        const key = ownString(item);
        this.host.remoteWrite(db, key, event);
        this.changed(db, key, event);
      }
    });
  }

  /** A message (or one state in it) refused as malformed: counted (INFO) and logged. */
  private reject(reason: string, peer: string): void {
    this.rejectedMessages++;
    this.warn(reason, peer);
  }

  /** Logs at most one replication warning a second. */
  private warn(reason: string, peer: string): void {
    const now = this.nowMs();
    if (now - this.lastRejectLogMs < 1000) return;
    this.lastRejectLogMs = now;
    this.log_.warn({ peer, reason, rejected: this.rejectedMessages }, 'Replication message problem');
  }

  // ---- INFO ----------------------------------------------------------------

  /** INFO replication lines for the peers. */
  infoLines(): string[] {
    const now = this.nowMs();
    const lines = [`peers:${this.peers.length}`, `delta_log_last_seq:${this.log.lastSeq}`, `delta_log_first_seq:${this.log.firstSeq}`];
    this.peers.forEach((p, i) => {
      const lagDeltas = this.log.lastSeq - p.ackedSeq;
      const lagMs = lagDeltas > 0 && this.log.holds(p.ackedSeq + 1) ? now - this.log.timeAt(p.ackedSeq + 1) : 0;
      const contact = p.lastContactMs === 0 ? -1 : now - p.lastContactMs;
      lines.push(
        `peer${i}:addr=${p.label},id=${p.peerId || '?'},link=${p.link.state === 'ready' ? 'up' : 'down'},last_contact_ms=${contact},` +
          `lag_deltas=${lagDeltas},lag_ms=${lagMs},applied_seq=${p.appliedSeq},peer_seq=${p.peerLastSeq},ae_rounds=${p.aeRoundsCompleted},` +
          `durable_ms=${hlcInfoMs(p.durableHlc)},ae_durable_ms=${hlcInfoMs(p.aeCompletedHlc)}`,
      );
    });
    let tombstones = 0;
    for (const t of this.crdt.tombstones) tombstones += t.size;
    const horizon = this.tombstoneHorizon();
    lines.push(
      `durable_ms:${hlcInfoMs(this.host.durableHlc())}`,
      `tombstones:${tombstones}`,
      `tombstone_horizon_ms:${hlcInfoMs(horizon.hlc)}`,
      `tombstone_horizon_held_by:${horizon.heldBy}`,
      `rejected_messages:${this.rejectedMessages}`,
    );
    return lines;
  }
}

/** An HLC point for INFO: its Unix ms; 0 for none yet, -1 for "everything" (a node that keeps nothing on disk). */
function hlcInfoMs(hlc: number): number {
  if (hlc === Infinity) return -1;
  return hlc <= 0 ? 0 : hlcPhysicalMs(hlc);
}

/** Whether an entry's state changes only by a logged write (Outbox): a string's value is immutable, a collection is changed in place. */
function readableNow(e: Entry): boolean {
  return e.type === 'string' && (e.crdt!.counters !== null || typeof e.value === 'string');
}

/** Rough encoded size of a state's value, for batch sizing. */
function approxBytes(v: KeyState['v']): number {
  if (v === undefined) return 0;
  if (typeof v === 'string') return v.length;
  if (v instanceof Uint8Array) return v.byteLength;
  let n = 0;
  for (const el of v) for (const x of el) n += typeof x === 'string' ? x.length + 2 : 9;
  return n;
}
