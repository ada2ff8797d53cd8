import { SlotBitmap } from './slots.js';

/** Node flags with Redis's CLUSTER NODES names. */
export const NODE_FLAG = {
  myself: 1,
  master: 2,
  slave: 4,
  pfail: 8,
  fail: 16,
  handshake: 32,
  noaddr: 64,
  meet: 128,
  nofailover: 512,
} as const;

/** Flag bits in the order CLUSTER NODES prints them, with the printed names. */
const FLAG_NAMES: [number, string][] = [
  [NODE_FLAG.myself, 'myself'],
  [NODE_FLAG.master, 'master'],
  [NODE_FLAG.slave, 'slave'],
  [NODE_FLAG.pfail, 'fail?'],
  [NODE_FLAG.fail, 'fail'],
  [NODE_FLAG.handshake, 'handshake'],
  [NODE_FLAG.noaddr, 'noaddr'],
  [NODE_FLAG.nofailover, 'nofailover'],
];

/** "myself,master", "slave,fail?", or "noflags". */
export function flagsText(flags: number): string {
  const names = FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  return names.length > 0 ? names.join(',') : 'noflags';
}

/** Parses a flags field back into bits (nodes.conf); unknown names are ignored. */
export function parseFlags(text: string): number {
  let bits = 0;
  for (const name of text.split(',')) {
    const hit = FLAG_NAMES.find(([, n]) => n === name);
    if (hit !== undefined) bits |= hit[0];
  }
  return bits;
}

/** A 40-hex-digit node or shard id. */
export const NODE_ID_RE = /^[0-9a-f]{40}$/;

/**
 * What this node knows about one cluster member (Redis's clusterNode):
 * address, role, slots claimed and with which config epoch, and the
 * liveness facts failure detection works from.
 */
export class ClusterNode {
  flags: number;
  ip: string;
  port: number;
  /** Cluster bus port. */
  cport: number;
  hostname = '';
  shardId: string;
  /** For a replica: the id of its primary ('' when unknown or a primary). */
  primaryId = '';
  configEpoch = 0;
  readonly slots = new SlotBitmap();
  /** Unix ms of the outstanding ping (0: none in flight), of the last pong and of the last message of any kind. */
  pingSentMs = 0;
  pongReceivedMs = 0;
  /** Last time a ping went out (the outstanding one is repeated: the bus may lose it). */
  pingAttemptMs = 0;
  dataReceivedMs = 0;
  /** When the node was marked FAIL (Unix ms, 0: not failed). */
  failTimeMs = 0;
  /** When this node (a primary) last voted for one of this node's replicas. */
  votedTimeMs = 0;
  /** The node's replication offset as last gossiped (deltas applied from its primary). */
  replOffset = 0;
  /** Primaries that reported this node as failing: reporter id -> Unix ms of the latest report. */
  readonly failReports = new Map<string, number>();
  /** Unix ms this node entry was created (handshakes time out). */
  readonly createdMs: number;

  constructor(
    public id: string,
    opts: { ip: string; port: number; cport: number; flags: number; shardId: string; nowMs: number },
  ) {
    this.ip = opts.ip;
    this.port = opts.port;
    this.cport = opts.cport;
    this.flags = opts.flags;
    this.shardId = opts.shardId;
    this.createdMs = opts.nowMs;
  }

  has(flag: number): boolean {
    return (this.flags & flag) !== 0;
  }

  get isPrimary(): boolean {
    return (this.flags & NODE_FLAG.master) !== 0;
  }

  get isReplica(): boolean {
    return (this.flags & NODE_FLAG.slave) !== 0;
  }

  get failing(): boolean {
    return (this.flags & (NODE_FLAG.pfail | NODE_FLAG.fail)) !== 0;
  }

  /** "ip:port@cport" as CLUSTER NODES shows it (with ",hostname" when one is set). */
  get address(): string {
    return `${this.ip}:${this.port}@${this.cport}${this.hostname ? `,${this.hostname}` : ''}`;
  }

  /** Counts reports younger than maxAgeMs, dropping older ones. */
  liveFailReports(nowMs: number, maxAgeMs: number): number {
    for (const [reporter, at] of this.failReports) if (nowMs - at > maxAgeMs) this.failReports.delete(reporter);
    return this.failReports.size;
  }
}
