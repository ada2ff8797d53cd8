import type { ClusterNode } from './node.js';
import type { ClusterState } from './state.js';

/** CLUSTER FAILOVER's option. */
export type FailoverMode = 'default' | 'force' | 'takeover';

/** One bus link as CLUSTER LINKS reports it. */
export interface LinkInfo {
  direction: 'to' | 'from';
  node: string;
  createTimeMs: number;
  events: string;
  sendBufferAllocated: number;
  sendBufferUsed: number;
}

/** Message counters by type, as CLUSTER INFO names them (ping, pong, meet, fail, publish, auth-req, auth-ack, update, mfstart). */
export interface BusMessageStats {
  sent: Map<string, number>;
  received: Map<string, number>;
}

/**
 * What the CLUSTER commands, routing and INFO need from the running cluster
 * (src/cluster/cluster.ts implements it; the commands stay thin). Methods
 * that can be refused return Redis's error text (without "-"), or null.
 */
export interface ClusterControl {
  readonly state: ClusterState;
  readonly myself: ClusterNode;
  readonly stats: BusMessageStats;
  /** cluster-node-timeout in ms. */
  readonly nodeTimeoutMs: number;

  /** Starts a handshake with ip:port (bus on cport). False if the address is invalid. */
  meet(ip: string, port: number, cport: number): boolean;
  /** Forgets a node (and blacklists it for a minute so gossip does not bring it back). */
  forget(node: ClusterNode): string | null;
  /** Makes this node a replica of `primary`. */
  replicate(primary: ClusterNode): string | null;
  /** Manual failover from a replica. */
  failover(mode: FailoverMode): string | null;
  /** CLUSTER RESET SOFT/HARD. Caller checked that a primary holds no keys. */
  reset(hard: boolean): void;
  /** Writes nodes.conf now. */
  saveConfig(): string | null;
  setConfigEpoch(epoch: number): string | null;
  /** CLUSTER BUMPEPOCH: "BUMPED n" or "STILL n". */
  bumpEpoch(): string;
  /** CLUSTER SETSLOT <slot> NODE <node>, with Redis's side effects (closing an import bumps the epoch). */
  setSlotNode(slot: number, node: ClusterNode): string | null;
  /** DEBUG CLUSTER-ISOLATE: drop all bus traffic (a partition for tests), or stop doing so. */
  isolate(on: boolean): void;
  /** CLUSTER LINKS. */
  links(): LinkInfo[];
  /** Forwards a PUBLISH to every other node, or an SPUBLISH to the other nodes of this shard. */
  publish(channel: string, message: string, shard: boolean): void;
  /**
   * The configuration was changed by a command (ADDSLOTS, DELSLOTS, SETSLOT,
   * FLUSHSLOTS...): recompute the cluster state, persist nodes.conf and tell
   * the other nodes.
   */
  configChanged(): void;
}
