import type { Cluster } from './cluster.js';
import type { FailoverMode } from './control.js';
import type { ClusterHeader } from './messages.js';
import { NODE_FLAG, type ClusterNode } from './node.js';

/** How long a manual failover may take (Redis: CLUSTER_MF_TIMEOUT). */
const MANUAL_FAILOVER_TIMEOUT_MS = 5000;
/** Redis's repl-ping-replica-period (10 s) as it enters the replica validity check. */
const REPL_PING_PERIOD_MS = 10_000;

/**
 * Replica promotion (Redis's clusterHandleSlaveFailover and the voting
 * side, clusterSendFailoverAuthIfNeeded): a replica whose primary is FAIL
 * waits a delay that grows with its rank (replicas with more data go
 * first), takes a new epoch and asks the primaries for votes; a primary
 * votes once per epoch and at most once per failed primary within twice the
 * node timeout; with a majority the replica takes the slots with the new
 * epoch, which makes its claim win everywhere. Manual failover: the
 * primary pauses writes, the replica waits until it applied everything,
 * then wins an election the voters grant although the primary is alive.
 */
export class Failover {
  private authTimeMs = 0;
  private authSent = false;
  private authEpoch = 0;
  private readonly votes = new Set<string>();
  /** Replica side of a manual failover: deadline, the primary's final offset, ready to elect. */
  private manualEndMs = 0;
  private manualPrimaryOffset = -1;
  private manualCanStart = false;
  /** Primary side: the replica taking over while writes are paused. */
  private manualReplica: ClusterNode | null = null;
  private validityLoggedMs = 0;

  constructor(private readonly cluster: Cluster) {}

  /** The primary paused writes for a manual failover (headers carry it with the final offset). */
  get manualPaused(): boolean {
    return this.manualReplica !== null;
  }

  reset(): void {
    this.authTimeMs = 0;
    this.authSent = false;
    this.votes.clear();
    if (this.manualReplica !== null) this.cluster.host.unpauseWrites();
    this.manualReplica = null;
    this.manualEndMs = 0;
    this.manualPrimaryOffset = -1;
    this.manualCanStart = false;
  }

  /** CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica. */
  manual(mode: FailoverMode): string | null {
    const cluster = this.cluster;
    const me = cluster.myself;
    if (!me.isReplica) return 'ERR You should send CLUSTER FAILOVER to a replica';
    const primary = cluster.state.primaryOf(me);
    if (primary === null) return "ERR I'm a replica but my master is unknown to me";
    if (mode === 'default' && (primary.failing || !cluster.linkUp(primary))) {
      return 'ERR Master is down or failed, please use CLUSTER FAILOVER FORCE';
    }
    this.reset();
    this.manualEndMs = cluster.nowMs() + MANUAL_FAILOVER_TIMEOUT_MS;
    if (mode === 'takeover') {
      cluster.bumpConfigEpochWithoutConsensus();
      this.promote(primary, me.configEpoch);
    } else if (mode === 'force') {
      this.manualCanStart = true;
    } else {
      cluster.send(primary, 'mfstart');
    }
    return null;
  }

  tick(now: number): void {
    if (this.manualEndMs !== 0 && now > this.manualEndMs) {
      this.cluster.log.warn('Manual failover timed out');
      this.reset();
    }
    if (this.manualReplica !== null && this.manualEndMs === 0) this.manualEndMs = now + MANUAL_FAILOVER_TIMEOUT_MS;
    const me = this.cluster.myself;
    if (!me.isReplica) return;
    if (this.manualPrimaryOffset >= 0 && !this.manualCanStart && this.cluster.myOffset() >= this.manualPrimaryOffset) {
      this.manualCanStart = true;
      this.cluster.log.info('All of the primary\'s writes applied: starting the manual failover election');
    }
    this.replicaTick(now);
  }

  /** A header arrived: a paused primary tells its replica the offset to reach. */
  onHeader(sender: ClusterNode, m: ClusterHeader): void {
    const me = this.cluster.myself;
    if (m.mf && me.isReplica && me.primaryId === sender.id && this.manualEndMs !== 0) this.manualPrimaryOffset = m.off;
  }

  private replicaTick(now: number): void {
    const cluster = this.cluster;
    const me = cluster.myself;
    const primary = cluster.state.primaryOf(me);
    if (primary === null) return;
    const manual = this.manualEndMs !== 0 && this.manualCanStart;
    if (!manual && (!primary.has(NODE_FLAG.fail) || primary.slots.count === 0 || me.has(NODE_FLAG.nofailover))) return;
    if (!manual && !this.dataFreshEnough(primary, now)) return;
    const authTimeoutMs = Math.max(cluster.nodeTimeoutMs * 2, 2000);
    if (this.authTimeMs === 0 || now - this.authTimeMs > authTimeoutMs * 2) return this.schedule(now, manual);
    if (now < this.authTimeMs || now - this.authTimeMs > authTimeoutMs) return;
    if (!this.authSent) return this.requestVotes(manual);
    if (this.votes.size >= cluster.state.quorum()) this.promote(primary, this.authEpoch);
  }

  /** cluster-replica-validity-factor: a replica cut off from its primary for too long does not fail over. */
  private dataFreshEnough(primary: ClusterNode, now: number): boolean {
    const factor = this.cluster.options.replicaValidityFactor();
    if (factor === 0) return true;
    const ageMs = now - primary.dataReceivedMs - this.cluster.nodeTimeoutMs;
    if (ageMs <= REPL_PING_PERIOD_MS + this.cluster.nodeTimeoutMs * factor) return true;
    if (now - this.validityLoggedMs > 10_000) {
      this.validityLoggedMs = now;
      this.cluster.log.warn('Data too old to fail over (cluster-replica-validity-factor)');
    }
    return false;
  }

  /** Delay of an election: 500 ms + up to 500 ms random + 1 s per better-placed replica (none when manual). */
  private schedule(now: number, manual: boolean): void {
    this.authSent = false;
    this.votes.clear();
    const rank = manual ? 0 : this.rank();
    this.authTimeMs = manual ? now : now + 500 + this.cluster.random(500) + rank * 1000;
    this.cluster.log.info({ rank, delayMs: this.authTimeMs - now }, 'Failover election scheduled');
  }

  /** Replicas of the same primary holding more of its data than this one. */
  private rank(): number {
    const me = this.cluster.myself;
    const primary = this.cluster.state.primaryOf(me)!;
    const mine = this.cluster.myOffset();
    let rank = 0;
    for (const r of this.cluster.state.replicasOf(primary)) if (r !== me && !r.has(NODE_FLAG.nofailover) && r.replOffset > mine) rank++;
    return rank;
  }

  private requestVotes(manual: boolean): void {
    const state = this.cluster.state;
    state.currentEpoch++;
    this.authEpoch = state.currentEpoch;
    this.authSent = true;
    this.cluster.changed();
    this.cluster.log.info({ epoch: this.authEpoch }, 'Starting a failover election');
    this.cluster.broadcast('auth-req', { force: manual });
  }

  /** Takes over the primary's slots with `epoch`; everyone else follows when they see the claim. */
  private promote(primary: ClusterNode, epoch: number): void {
    const cluster = this.cluster;
    const state = cluster.state;
    const me = cluster.myself;
    const slots = primary.slots.ranges();
    state.setRole(me, null);
    me.shardId = primary.shardId;
    for (const [a, b] of slots) for (let s = a; s <= b; s++) state.assign(s, me);
    if (me.configEpoch < epoch) me.configEpoch = epoch;
    cluster.log.warn({ epoch: me.configEpoch, replaced: primary.id }, 'Failover won: I am the new primary');
    this.reset();
    cluster.configChanged();
  }

  /** A replica asks for this primary's vote. */
  onAuthRequest(requester: ClusterNode, m: ClusterHeader): void {
    const cluster = this.cluster;
    const state = cluster.state;
    const me = cluster.myself;
    if (!me.isPrimary || me.slots.count === 0) return;
    if (m.cur < state.currentEpoch || state.lastVoteEpoch === state.currentEpoch) return;
    if ((m.fl & NODE_FLAG.slave) === 0) return;
    const primary = state.node(m.pr);
    if (primary === undefined) return;
    if (!primary.has(NODE_FLAG.fail) && m.force !== true) return;
    const now = cluster.nowMs();
    if (now - primary.votedTimeMs < cluster.nodeTimeoutMs * 2) return;
    for (let s = 0; s < m.sl.length * 8; s++) {
      if ((m.sl[s >> 3]! & (1 << (s & 7))) === 0) continue;
      const owner = state.ownerOf(s);
      if (!state.unclaimed(s) && owner!.configEpoch > m.cfg) return;
    }
    state.lastVoteEpoch = state.currentEpoch;
    primary.votedTimeMs = now;
    cluster.changed();
    cluster.log.info({ replica: requester.id, epoch: state.currentEpoch }, 'Failover vote granted');
    cluster.send(requester, 'auth-ack');
  }

  onAuthAck(voter: ClusterNode, m: ClusterHeader): void {
    if (!voter.isPrimary || voter.slots.count === 0 || m.cur < this.authEpoch || !this.authSent) return;
    this.votes.add(voter.id);
  }

  /** Primary side: a replica starts a manual failover; writes pause until it took over or the time ran out. */
  onManualStart(replica: ClusterNode): void {
    const me = this.cluster.myself;
    if (!me.isPrimary || replica.primaryId !== me.id) return;
    this.reset();
    this.manualReplica = replica;
    this.manualEndMs = this.cluster.nowMs() + MANUAL_FAILOVER_TIMEOUT_MS;
    this.cluster.host.pauseWrites(this.manualEndMs);
    this.cluster.ping(replica);
  }
}
