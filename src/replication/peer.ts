import type { BusAddress, BusLink } from '../transport/bus.js';

/** Minimum time between two resend requests to one peer (a hole is reported once, not per batch). */
export const NACK_INTERVAL_MS = 500;

/** An anti-entropy round this node started with a peer. */
export interface AeRound {
  round: number;
  /** HLC when the round started: a complete round means the peer has every state we had then. */
  startHlc: number;
  /** Last time (Unix ms) the round made progress: a stalled round is abandoned. */
  progressMs: number;
  /** False once the initiator had to leave differing keys for a later round. */
  complete: boolean;
}

/**
 * What this node knows about one configured peer: the link to it, how far
 * each side has applied the other's deltas, and anti-entropy progress.
 */
export class PeerSession {
  /** The peer's current run id ('' until heard from). A new id means it restarted with an empty memory. */
  peerId = '';
  /** Highest own seq sent on the link, and the highest the peer acknowledged. */
  sentSeq = 0;
  ackedSeq = 0;
  /** When this node last asked the peer to resend (a nack): at most one per NACK_INTERVAL_MS. */
  nackSentMs = -Infinity;
  /** Highest seq of the peer's own deltas applied here without a hole (our vector-clock entry for it). */
  appliedSeq = 0;
  /** The peer's newest seq as it last told us. */
  peerLastSeq = 0;
  /** Unix ms of the last message from the peer (0: never). */
  lastContactMs = 0;
  /** The round this node runs with the peer, if any. */
  aeRound: AeRound | null = null;
  /** When this node last started a round with the peer (Unix ms), and the ack seen at the last tick. */
  aeStartedMs = -Infinity;
  /** Rounds in a row that stopped at their leaves because deltas in flight explained the difference (Replicator.deferRound). */
  aeDeferred = 0;
  ackedAtLastTick = 0;
  appliedAtLastTick = 0;
  /**
   * startHlc of the last complete round the peer has also made durable: the
   * peer holds every tombstone we held before it, and would still after a
   * crash. Tombstones older than this (with every peer) may be collected.
   */
  aeCompletedHlc = 0;
  aeRoundsCompleted = 0;
  /**
   * Set when deltas cannot bring this pair back in step (a log gap either
   * way, the peer back with an empty memory): incomplete rounds then follow
   * each other at once until one completes, whatever else is in flight.
   */
  repairing = false;
  /** The peer's durability point as it last told us (Persistence.durableHlc, its HLC; 0: not heard). */
  durableHlc = 0;
  /**
   * A complete round the peer had not made durable yet when it ended
   * (doneHlc: the peer's HLC then): it counts once durableHlc reaches doneHlc.
   * A node whose log lost its unsynced tail in a crash would otherwise come
   * back with elements whose removal every peer has already collected.
   */
  aeUndurable: { startHlc: number; doneHlc: number } | null = null;
  /** The newest complete round waiting for the peer's durability (null: none newer than aeUndurable). */
  aeUndurableLatest: { startHlc: number; doneHlc: number } | null = null;

  constructor(
    readonly address: BusAddress,
    /** "host:port" of the peer's bus, as configured: how messages name it. */
    readonly label: string,
    readonly link: BusLink,
  ) {}

  /** The peer came back with a new identity: everything it had applied is gone. */
  reset(peerId: string, nowMs: number): void {
    this.peerId = peerId;
    this.sentSeq = 0;
    this.ackedSeq = 0;
    this.nackSentMs = nowMs - NACK_INTERVAL_MS;
    this.appliedSeq = 0;
    this.peerLastSeq = 0;
    this.aeRound = null;
    this.aeCompletedHlc = 0;
    this.durableHlc = 0;
    this.aeUndurable = null;
    this.aeUndurableLatest = null;
    this.ackedAtLastTick = 0;
    this.appliedAtLastTick = 0;
  }

  /**
   * A complete anti-entropy round that started at startHlc (ours) and ended
   * at doneHlc (the peer's HLC). The oldest round still waiting for the
   * peer's durability is kept (the first to count) and the newest (the
   * furthest it can count once the peer's disk catches up with it).
   */
  roundCompleted(startHlc: number, doneHlc: number): void {
    this.aeRoundsCompleted++;
    this.repairing = false;
    const round = { startHlc, doneHlc };
    if (this.aeUndurable === null) this.aeUndurable = round;
    else this.aeUndurableLatest = round;
    this.countDurableRound();
  }

  /**
   * The peer reported its durability point (a heartbeat, in order on the
   * link). Taken as told, even when lower: a node's point can go back (its
   * first snapshot after reporting none, appendonly switched), and a stale
   * higher one would let rounds count that its disk does not cover.
   */
  heardDurable(durableHlc: number): void {
    this.durableHlc = durableHlc;
    this.countDurableRound();
  }

  /** Waiting rounds count once the peer has made their end durable: the newest covered one. */
  private countDurableRound(): void {
    const latest = this.aeUndurableLatest;
    if (latest !== null && this.durableHlc >= latest.doneHlc) {
      this.aeCompletedHlc = Math.max(this.aeCompletedHlc, latest.startHlc);
      this.aeUndurable = this.aeUndurableLatest = null;
      return;
    }
    const r = this.aeUndurable;
    if (r === null || !(this.durableHlc >= r.doneHlc)) return;
    this.aeCompletedHlc = Math.max(this.aeCompletedHlc, r.startHlc);
    this.aeUndurable = latest;
    this.aeUndurableLatest = null;
  }
}

/** "host:port" → BusAddress; null when malformed. */
export function parseBusAddress(text: string): BusAddress | null {
  const at = text.lastIndexOf(':');
  if (at <= 0) return null;
  const port = Number(text.slice(at + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host: text.slice(0, at), port };
}
