import type {
  Bus,
  BusAddress,
  BusConnectOptions,
  BusLink,
  BusLinkState,
  BusMessageHandler,
  BusServer,
} from '../../src/transport/bus.js';
import type { ScheduledEvent } from './scheduler.js';
import type { DropReason, SimNetwork, SimNode } from './network.js';

/** A bus address as the network keys it. */
export function addressKey(address: BusAddress): string {
  return `${address.host}:${address.port}`;
}

/** Hosts that mean "every interface of this machine". */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::']);

/** Local ports given to outgoing links, only so the receiver's `peer` looks like a real socket's. */
const FIRST_EPHEMERAL_PORT = 50_000;

/**
 * One incarnation of one node's bus. A crash kills it (its servers close, its
 * links vanish silently: the process is gone); the restarted node gets a new
 * SimBus from network.busFor, so code left over from the dead incarnation can
 * neither send nor listen.
 */
export class SimBus implements Bus {
  readonly servers = new Set<SimBusServer>();
  readonly links = new Set<SimLink>();
  private dead = false;
  private nextLocalPort = FIRST_EPHEMERAL_PORT;

  constructor(
    readonly network: SimNetwork,
    readonly node: SimNode,
    /** The node's incarnation this bus belongs to. */
    readonly incarnation: number,
  ) {}

  get isDead(): boolean {
    return this.dead;
  }
  get nodeName(): string {
    return this.node.name;
  }

  listen(address: BusAddress, onMessage: BusMessageHandler): Promise<BusServer> {
    if (this.dead) return Promise.reject(new Error(`bus of crashed node ${this.node.name}: cannot listen`));
    const host = WILDCARD_HOSTS.has(address.host) ? this.node.host : address.host;
    if (!Number.isInteger(address.port) || address.port < 0 || address.port > 65535) {
      return Promise.reject(new RangeError(`bus listen: bad port ${address.port}`));
    }
    const port = address.port === 0 ? this.network.freePort(host) : address.port;
    const server = new SimBusServer(this, { host, port }, onMessage);
    if (!this.network.addServer(server)) {
      return Promise.reject(new Error(`listen EADDRINUSE: address already in use ${addressKey(server.address)}`));
    }
    this.servers.add(server);
    return Promise.resolve(server);
  }

  connect(to: BusAddress, options: BusConnectOptions = {}): BusLink {
    const localHost = options.localAddress ?? this.node.host;
    const peer = `${localHost}:${this.nextLocalPort++}`;
    const link = new SimLink(this, addressKey(to), peer, options.onStateChange);
    if (this.dead) {
      link.kill();
      return link;
    }
    this.links.add(link);
    this.network.addLink(link);
    link.start();
    return link;
  }

  /** The node crashed: everything of this incarnation stops without telling anyone. */
  kill(): void {
    this.dead = true;
    for (const server of [...this.servers]) server.shut();
    for (const link of [...this.links]) link.kill();
  }
}

export class SimBusServer implements BusServer {
  private open = true;

  constructor(
    readonly bus: SimBus,
    readonly address: BusAddress,
    readonly onMessage: BusMessageHandler,
  ) {}

  get isOpen(): boolean {
    return this.open;
  }
  get nodeName(): string {
    return this.bus.node.name;
  }

  close(): Promise<void> {
    this.shut();
    this.bus.network.reviewLinks();
    return Promise.resolve();
  }

  /** Stops accepting: links bound to this server notice on their next review. */
  shut(): void {
    if (!this.open) return;
    this.open = false;
    this.bus.servers.delete(this);
    this.bus.network.removeServer(this);
  }
}

/** Reconnect and handshake timing of a link: production's (grpc-link.ts) unless a test overrides it. */
export interface LinkTiming {
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A handshake into a partition (SYN blackholed) fails after this long. */
  connectTimeoutMs: number;
}

/**
 * An outgoing link, mimicking GrpcLink: 'connecting' while a handshake (one
 * round trip) is under way, 'ready' once it reached a listening, reachable
 * server, 'down' when an attempt failed or the connection broke, then
 * 'connecting' again after a backoff that doubles up to a maximum. A ready
 * link notices a crashed peer or closed server after one trip (the peer's OS
 * resets the connection) and a partition after the keepalive timeout
 * (silence); a break drops what the link held.
 *
 * The model is per direction: a link from A to B needs only A->B to be open,
 * so an asymmetric cut B->A leaves it ready while B's links to A break.
 * queuedBytes counts what is held by a clog or on the wire of the current
 * connection (production counts what gRPC has not taken yet); it is the
 * backpressure a clog builds up.
 */
export class SimLink implements BusLink {
  private linkState: BusLinkState = 'connecting';
  private closed = false;
  /** The one pending step of this link's state machine: a handshake, a failure detection or a backoff. */
  private step: ScheduledEvent | null = null;
  private backoffMs: number;
  queuedBytes = 0;
  /** Messages held back by a clog, in send order. */
  readonly held: Buffer[] = [];
  /** The server the current connection reached; null unless ready. */
  server: SimBusServer | null = null;
  /** Bumped when a connection breaks: messages still on the wire of the old one never arrive. */
  connection = 0;
  /** Latest delivery time of an in-order message, so per-link order holds unless reordering is injected. */
  lastDeliveryMs = 0;

  constructor(
    readonly bus: SimBus,
    /** "host:port" of the peer's bus. */
    readonly address: string,
    /** What the receiver sees as `peer`. */
    readonly peer: string,
    private readonly onStateChange: ((state: BusLinkState) => void) | undefined,
  ) {
    this.backoffMs = bus.network.linkTiming.initialBackoffMs;
  }

  get state(): BusLinkState {
    return this.linkState;
  }
  get isClosed(): boolean {
    return this.closed;
  }

  /** As GrpcLink.send: false when not ready, oversize, or over the queue bound (an empty queue takes any one message). */
  send(message: unknown): boolean {
    const network = this.bus.network;
    if (this.linkState !== 'ready' || this.closed) return network.refuse();
    const frame = network.codec.encode(message);
    if (frame.length > network.codec.maxMessageBytes) return network.refuse();
    if (this.queuedBytes > 0 && this.queuedBytes + frame.length > network.maxQueueBytes) return network.refuse();
    network.transmit(this, frame);
    return true;
  }

  /** Closed by its owner: in-flight messages still arrive, held ones are dropped; reports 'down' as GrpcLink does. */
  close(): void {
    if (this.closed) return;
    this.stop('linkBreak');
    this.setState('down');
  }

  /** The owning node crashed: as close, silently, and messages on the wire die with the connection. */
  kill(): void {
    if (this.closed) return;
    this.connection++;
    this.stop('crash');
    this.linkState = 'down';
  }

  /** Begins the first handshake. */
  start(): void {
    this.attempt();
  }

  /** Called after any change of topology: a ready link whose peer is now unreachable starts noticing it. */
  review(): void {
    if (this.closed || this.linkState !== 'ready' || this.step !== null) return;
    const network = this.bus.network;
    const reason = network.blockReason(this.bus, this.server);
    if (reason === null) return;
    const detectMs = reason === 'partition' ? network.faults.linkTimeoutMs : network.drawLatencyMs();
    this.step = network.scheduler.after(detectMs, () => {
      this.step = null;
      if (network.blockReason(this.bus, this.server) !== null) this.breakConnection();
    });
  }

  /** Sends everything a clog held back, in order. */
  release(): void {
    const held = this.held.splice(0);
    for (const frame of held) this.bus.network.dispatch(this, frame);
  }

  private attempt(): void {
    this.setState('connecting');
    if (this.closed) return; // onStateChange may have closed the link
    const network = this.bus.network;
    const roundTripMs = 2 * network.drawLatencyMs();
    this.step = network.scheduler.after(roundTripMs, () => {
      this.step = null;
      const server = network.serverAt(this.address);
      const reason = network.blockReason(this.bus, server);
      if (reason === null) {
        this.connected(server!);
      } else if (reason === 'partition') {
        // The handshake vanished into the partition: it hangs until the connect timeout.
        const waitMs = Math.max(0, network.linkTiming.connectTimeoutMs - roundTripMs);
        this.step = network.scheduler.after(waitMs, () => {
          this.step = null;
          this.fail();
        });
      } else {
        this.fail(); // refused: nobody listens there now
      }
    });
  }

  private connected(server: SimBusServer): void {
    this.server = server;
    this.backoffMs = this.bus.network.linkTiming.initialBackoffMs;
    this.bus.network.noteLinkReady();
    this.setState('ready');
  }

  /** An attempt failed or the connection broke: 'down', and try again after the backoff. */
  private fail(): void {
    const delayMs = this.backoffMs;
    this.backoffMs = Math.min(2 * delayMs, this.bus.network.linkTiming.maxBackoffMs);
    // Scheduled before notifying: the callback may close the link, which cancels this step.
    this.step = this.bus.network.scheduler.after(delayMs, () => {
      this.step = null;
      this.attempt();
    });
    this.setState('down');
  }

  private breakConnection(): void {
    this.connection++;
    this.dropHeld('linkBreak');
    this.server = null;
    // As GrpcLink.detach: the queue belonged to the dead connection.
    this.queuedBytes = 0;
    this.bus.network.noteLinkDown();
    this.fail();
  }

  private stop(reason: DropReason): void {
    this.closed = true;
    this.step?.cancel();
    this.step = null;
    this.dropHeld(reason);
    this.bus.links.delete(this);
    this.bus.network.removeLink(this);
  }

  private dropHeld(reason: DropReason): void {
    for (const frame of this.held.splice(0)) {
      this.queuedBytes -= frame.length;
      this.bus.network.drop(this, frame.length, reason, this.server?.nodeName ?? this.address);
    }
  }

  /** Reports changes only, as GrpcLink does. */
  private setState(state: BusLinkState): void {
    if (state === this.linkState) return;
    this.linkState = state;
    this.bus.network.traceLink(this, state);
    this.onStateChange?.(state);
  }
}
