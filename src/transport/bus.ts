/**
 * The node-to-node message bus (replication now, cluster gossip later).
 *
 * A Bus carries plain msgpack-encodable objects between nodes. Production uses
 * gRPC (grpc-bus.ts); the simulator supplies a virtual network with faults.
 * Delivery is one-way, ordered per link and at-most-once: a message can be
 * lost when a link breaks or its queue is full, so everything built on the
 * bus acknowledges and retries (replication) or repeats itself (gossip).
 */

export interface BusAddress {
  host: string;
  port: number;
}

/** Receives every decoded message; `peer` says where it came from (transport-level, for logs only). */
export type BusMessageHandler = (message: unknown, peer: string) => void;

export type BusLinkState = 'connecting' | 'ready' | 'down';

export interface BusConnectOptions {
  /** Local address the link originates from (bind-source-addr). */
  localAddress?: string;
  /** Told whenever the link's state changes (e.g. 'ready' after a reconnect: time to resend). */
  onStateChange?: (state: BusLinkState) => void;
}

/** An outgoing link to one peer. It reconnects by itself until closed. */
export interface BusLink {
  /**
   * Queues one message. Returns false, dropping it, when the link is not
   * ready or its queue is over its byte bound: the caller retries later.
   */
  send(message: unknown): boolean;
  readonly state: BusLinkState;
  /** Bytes queued and not yet handed to the network. */
  readonly queuedBytes: number;
  close(): void;
}

export interface BusServer {
  readonly address: BusAddress;
  close(): Promise<void>;
}

export interface Bus {
  /** Serves the bus on host:port (port 0: any free port, reported in the result). */
  listen(address: BusAddress, onMessage: BusMessageHandler): Promise<BusServer>;
  /** Opens a link to a peer's bus. Never throws for an unreachable peer: the link stays 'connecting'. */
  connect(to: BusAddress, options?: BusConnectOptions): BusLink;
}
