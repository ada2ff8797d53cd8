import type { Random } from '../../src/runtime/random.js';
import type { BusLinkState } from '../../src/transport/bus.js';
import { BusCodec, DEFAULT_MAX_MESSAGE_BYTES } from '../../src/transport/codec.js';
import { DEFAULT_MAX_QUEUE_BYTES } from '../../src/transport/grpc-bus.js';
import { CONNECT_TIMEOUT_MS, INITIAL_BACKOFF_MS, MAX_BACKOFF_MS } from '../../src/transport/grpc-link.js';
import type { Scheduler } from './scheduler.js';
import { SimBus, type LinkTiming, type SimBusServer, type SimLink, addressKey } from './sim-bus.js';

/**
 * Message-level faults, read at every send: change them at any time with setFaults.
 * Duplication and reordering go beyond the Bus contract (ordered per link,
 * at-most-once) on purpose: code above the bus must survive them too.
 */
export interface NetworkFaults {
  /** Probability that a sent message silently vanishes. */
  lossProbability: number;
  /** Probability that a message is delivered a second time, at an independent delay. */
  duplicateProbability: number;
  /** Probability that a message is held back by up to reorderMaxExtraMs, so later ones overtake it. */
  reorderProbability: number;
  reorderMaxExtraMs: number;
  /** One-way delay of every message and of each half of a handshake, drawn uniformly. */
  latencyMinMs: number;
  latencyMaxMs: number;
  /** How long a ready link takes to notice that a partition cut it off (gRPC keepalive: 10 s ping + 5 s timeout). */
  linkTimeoutMs: number;
}

export const NO_NETWORK_FAULTS: Readonly<NetworkFaults> = Object.freeze({
  lossProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  reorderMaxExtraMs: 0,
  latencyMinMs: 1,
  latencyMaxMs: 1,
  linkTimeoutMs: 15_000,
});

/** Every message accepted by a link ends in exactly one of delivered or a dropped* counter (duplicates aside). */
export interface NetworkCounters {
  messagesSent: number;
  bytesSent: number;
  /** BusLink.send returned false: link not ready or its queue over the bound. */
  sendsRefused: number;
  /** Handed to a handler, duplicates included. */
  delivered: number;
  bytesDelivered: number;
  droppedByLoss: number;
  duplicated: number;
  reordered: number;
  droppedByPartition: number;
  droppedByCrash: number;
  /** Queued or on the wire of a connection that broke or was closed. */
  droppedByLinkBreak: number;
  droppedNoListener: number;
  /** Messages held back by a clog. */
  clogged: number;
  /** Symmetric partitions, one-way cuts and clogs started. */
  partitions: number;
  cuts: number;
  clogs: number;
  crashes: number;
  restarts: number;
  linkDowns: number;
  linkReadies: number;
}

export type DropReason = 'loss' | 'partition' | 'crash' | 'linkBreak' | 'noListener';

const DROP_COUNTER: Record<DropReason, keyof NetworkCounters> = {
  loss: 'droppedByLoss',
  partition: 'droppedByPartition',
  crash: 'droppedByCrash',
  linkBreak: 'droppedByLinkBreak',
  noListener: 'droppedNoListener',
};

export type NetworkTraceEvent =
  | { kind: 'deliver'; timeMs: number; from: string; to: string; bytes: number; duplicate: boolean }
  | { kind: 'drop'; timeMs: number; from: string; to: string; bytes: number; reason: DropReason }
  | { kind: 'link'; timeMs: number; from: string; to: string; state: BusLinkState };

export interface SimNetworkOptions {
  faults?: Partial<NetworkFaults>;
  /** Bytes a link may hold queued or in flight (default production's 32 MiB). */
  maxQueueBytes?: number;
  /** Largest encoded message (default production's 64 MiB). */
  maxMessageBytes?: number;
  /** Backoff and connect timeout of links (default production's). */
  linkTiming?: Partial<LinkTiming>;
  /** Open links in the whole network; more is a link leak in the node code. */
  maxLinks?: number;
  trace?: (event: NetworkTraceEvent) => void;
}

/** A machine of the simulated network, across its crashes and restarts. */
export interface SimNode {
  readonly name: string;
  host: string;
  up: boolean;
  /** Bumped by every crash: buses, servers and messages of an older incarnation are dead. */
  incarnation: number;
  bus: SimBus | null;
}

/** A partition, one-way cut or clog; heal() ends just this one (idempotent). */
export interface NetworkDisruption {
  readonly active: boolean;
  heal(): void;
}

const FIRST_LISTEN_PORT = 40_000;

/** One message on the wire, bound to the connection and server it was sent on. */
interface Packet {
  link: SimLink;
  bytes: Buffer;
  server: SimBusServer;
  connection: number;
  duplicate: boolean;
}

/** Directed node pairs with a count each, so overlapping disruptions heal independently. */
class PairCounts {
  private readonly counts = new Map<string, number>();
  has(from: string, to: string): boolean {
    return this.counts.has(pairKey(from, to));
  }
  add(pairs: readonly (readonly [string, string])[]): void {
    for (const [from, to] of pairs) this.counts.set(pairKey(from, to), (this.counts.get(pairKey(from, to)) ?? 0) + 1);
  }
  /** Returns the pairs no longer covered by any disruption. */
  remove(pairs: readonly (readonly [string, string])[]): (readonly [string, string])[] {
    const freed: (readonly [string, string])[] = [];
    for (const pair of pairs) {
      const key = pairKey(pair[0], pair[1]);
      const count = this.counts.get(key) ?? 0;
      if (count <= 1) {
        this.counts.delete(key);
        if (count === 1) freed.push(pair);
      } else this.counts.set(key, count - 1);
    }
    return freed;
  }
  clear(): void {
    this.counts.clear();
  }
  get size(): number {
    return this.counts.size;
  }
}

function pairKey(from: string, to: string): string {
  return `${from}\n${to}`;
}

/**
 * The virtual network between the nodes of one run. Each node gets a SimBus
 * (busFor); every message is encoded on send and decoded on delivery by
 * production's BusCodec (msgpackr), so the wire form is exercised, after a
 * delay drawn from the network's seeded Random. Faults come from the
 * NetworkFaults (per message) and from partitions, cuts, clogs and crashes
 * (commands, usually issued by the FaultInjector). Whether a message arrives is
 * decided twice: at send (loss, clog) and at delivery (partition, crash,
 * broken link), so a disruption also catches what is already in flight.
 */
export class SimNetwork {
  readonly maxQueueBytes: number;
  /** Production's codec, so the sim exercises the real wire form. */
  readonly codec: BusCodec;
  readonly linkTiming: LinkTiming;
  private readonly maxLinks: number;
  private currentFaults: NetworkFaults;
  private readonly nodes = new Map<string, SimNode>();
  private readonly servers = new Map<string, SimBusServer>();
  private readonly links = new Set<SimLink>();
  private readonly cuts = new PairCounts();
  private readonly clogged = new PairCounts();
  /** Bumped by heal(): handles of disruptions from before it no longer count anything down. */
  private healGeneration = 0;
  private nextPort = FIRST_LISTEN_PORT;
  private readonly count: NetworkCounters = zeroCounters();
  private readonly trace: ((event: NetworkTraceEvent) => void) | undefined;

  constructor(
    readonly scheduler: Scheduler,
    private readonly random: Random,
    options: SimNetworkOptions = {},
  ) {
    this.currentFaults = validFaults({ ...NO_NETWORK_FAULTS, ...options.faults });
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.codec = new BusCodec(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    this.linkTiming = {
      initialBackoffMs: INITIAL_BACKOFF_MS,
      maxBackoffMs: MAX_BACKOFF_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      ...options.linkTiming,
    };
    this.maxLinks = options.maxLinks ?? 100_000;
    this.trace = options.trace;
  }

  get faults(): Readonly<NetworkFaults> {
    return this.currentFaults;
  }
  setFaults(patch: Partial<NetworkFaults>): void {
    this.currentFaults = validFaults({ ...this.currentFaults, ...patch });
  }
  /** A copy of the counters, for the run summary. */
  counters(): NetworkCounters {
    return { ...this.count };
  }
  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }
  isUp(node: string): boolean {
    return this.nodeNamed(node).up;
  }
  incarnation(node: string): number {
    return this.nodeNamed(node).incarnation;
  }
  /** Partitions, cuts and clogs in force (directed pairs). */
  disruptedPairs(): { cut: number; clogged: number } {
    return { cut: this.cuts.size, clogged: this.clogged.size };
  }

  /** The bus of a node's current incarnation. A node has one live bus; after crash+restart ask again. */
  busFor(nodeName: string, host: string): SimBus {
    if (nodeName === '' || nodeName.includes('\n')) throw new RangeError(`bad node name ${JSON.stringify(nodeName)}`);
    let node = this.nodes.get(nodeName);
    if (node === undefined) {
      node = { name: nodeName, host, up: true, incarnation: 0, bus: null };
      this.nodes.set(nodeName, node);
    }
    if (!node.up) throw new Error(`node ${nodeName} is crashed: restart it before asking for its bus`);
    if (node.bus !== null) throw new Error(`node ${nodeName} already has a live bus (one per incarnation)`);
    node.host = host;
    node.bus = new SimBus(this, node, node.incarnation);
    return node.bus;
  }

  /** The node's process dies: servers stop, its links vanish, everything in flight to or from it is lost. */
  crash(nodeName: string): void {
    const node = this.nodeNamed(nodeName);
    if (!node.up) return;
    node.up = false;
    node.incarnation++;
    this.count.crashes++;
    node.bus?.kill();
    node.bus = null;
    this.reviewLinks();
  }

  /** The machine is back; the harness then builds the node again on a fresh busFor. */
  restart(nodeName: string): void {
    const node = this.nodeNamed(nodeName);
    if (node.up) return;
    node.up = true;
    this.count.restarts++;
  }

  /** Symmetric partition: nothing passes between any node of groupA and any node of groupB. */
  partition(groupA: readonly string[], groupB: readonly string[]): NetworkDisruption {
    for (const a of groupA) if (groupB.includes(a)) throw new RangeError(`node ${a} is on both sides of a partition`);
    const pairs: [string, string][] = [];
    for (const a of groupA) for (const b of groupB) pairs.push([a, b], [b, a]);
    return this.disrupt(this.cuts, pairs, 'partitions');
  }

  /** Asymmetric partition: messages from `from` to `to` are lost; the other way still works. */
  cut(from: string, to: string): NetworkDisruption {
    if (from === to) throw new RangeError(`cannot cut ${from} from itself`);
    return this.disrupt(this.cuts, [[from, to]], 'cuts');
  }

  /** Messages from `from` to `to` are held back until the clog ends, then sent on in order. */
  clog(from: string, to: string): NetworkDisruption {
    return this.disrupt(this.clogged, [[from, to]], 'clogs');
  }

  /** Ends every partition, cut and clog. Links reconnect by themselves. */
  heal(): void {
    this.healGeneration++;
    this.cuts.clear();
    this.clogged.clear();
    for (const link of [...this.links]) link.release();
  }

  canReach(from: string, to: string): boolean {
    return this.nodeNamed(from).up && this.nodeNamed(to).up && !this.cuts.has(from, to);
  }

  // ---- Used by SimBus and SimLink -------------------------------------------------

  /** Why a message from `bus`'s incarnation to `server` cannot arrive now, or null if it can. */
  blockReason(bus: SimBus, server: SimBusServer | null | undefined): DropReason | null {
    if (!bus.node.up || bus.node.incarnation !== bus.incarnation) return 'crash';
    if (server === null || server === undefined) return 'noListener';
    const peer = server.bus;
    if (!peer.node.up || peer.node.incarnation !== peer.incarnation) return 'crash';
    if (!server.isOpen) return 'noListener';
    if (this.cuts.has(bus.node.name, peer.node.name)) return 'partition';
    return null;
  }

  /** One message accepted by a ready link: lost, held by a clog, or put on the wire. */
  transmit(link: SimLink, bytes: Buffer): void {
    this.count.messagesSent++;
    this.count.bytesSent += bytes.length;
    const to = link.server!.nodeName;
    if (this.chance(this.currentFaults.lossProbability)) {
      this.drop(link, bytes.length, 'loss', to);
      return;
    }
    link.queuedBytes += bytes.length;
    if (this.clogged.has(link.bus.nodeName, to)) {
      link.held.push(bytes);
      this.count.clogged++;
      return;
    }
    this.dispatch(link, bytes);
  }

  /** Schedules the delivery of a message already counted in link.queuedBytes (and maybe a duplicate). */
  dispatch(link: SimLink, bytes: Buffer): void {
    const f = this.currentFaults;
    const now = this.scheduler.nowMs;
    let atMs = now + this.drawLatencyMs();
    if (this.chance(f.reorderProbability)) {
      // Not clamped to the link's order, and later: messages sent after it can arrive first.
      atMs += 1 + this.random.int(Math.floor(f.reorderMaxExtraMs) + 1);
      this.count.reordered++;
    } else {
      atMs = Math.max(atMs, link.lastDeliveryMs);
      link.lastDeliveryMs = atMs;
    }
    const packet: Packet = { link, bytes, server: link.server!, connection: link.connection, duplicate: false };
    this.scheduler.at(atMs, () => this.deliver(packet));
    if (this.chance(f.duplicateProbability)) {
      this.count.duplicated++;
      this.scheduler.at(now + this.drawLatencyMs(), () => this.deliver({ ...packet, duplicate: true }));
    }
  }

  drop(link: SimLink, bytes: number, reason: DropReason, to: string): void {
    this.count[DROP_COUNTER[reason]]++;
    this.trace?.({ kind: 'drop', timeMs: this.scheduler.nowMs, from: link.bus.nodeName, to, bytes, reason });
  }

  refuse(): false {
    this.count.sendsRefused++;
    return false;
  }

  /** Whole milliseconds, like a real timer's resolution: readable traces, and ties that exercise FIFO order. */
  drawLatencyMs(): number {
    const { latencyMinMs, latencyMaxMs } = this.currentFaults;
    return latencyMinMs + this.random.int(Math.floor(latencyMaxMs - latencyMinMs) + 1);
  }

  serverAt(address: string): SimBusServer | undefined {
    return this.servers.get(address);
  }
  /** Registers a listening server; false if its address is taken. */
  addServer(server: SimBusServer): boolean {
    const key = addressKey(server.address);
    if (this.servers.has(key)) return false;
    this.servers.set(key, server);
    return true;
  }
  removeServer(server: SimBusServer): void {
    const key = addressKey(server.address);
    if (this.servers.get(key) === server) this.servers.delete(key);
  }
  /** A port nobody listens on at host, like the kernel's choice for port 0. */
  freePort(host: string): number {
    while (this.servers.has(`${host}:${this.nextPort}`)) this.nextPort++;
    return this.nextPort++;
  }

  addLink(link: SimLink): void {
    if (this.links.size >= this.maxLinks) {
      throw new Error(`sim network: more than ${this.maxLinks} open links: a link leak (connect without close)`);
    }
    this.links.add(link);
  }
  removeLink(link: SimLink): void {
    this.links.delete(link);
  }
  /** Lets every ready link check its peer is still reachable (after a crash, partition or server close). */
  reviewLinks(): void {
    for (const link of [...this.links]) link.review();
  }
  noteLinkReady(): void {
    this.count.linkReadies++;
  }
  noteLinkDown(): void {
    this.count.linkDowns++;
  }
  traceLink(link: SimLink, state: BusLinkState): void {
    this.trace?.({ kind: 'link', timeMs: this.scheduler.nowMs, from: link.bus.nodeName, to: link.address, state });
  }

  private deliver(packet: Packet): void {
    const { link, bytes, server } = packet;
    // A broken connection already emptied its link's queue.
    if (!packet.duplicate && packet.connection === link.connection) {
      link.queuedBytes -= bytes.length;
      if (link.queuedBytes < 0) throw new Error(`sim network: link ${link.address} queuedBytes went negative`);
    }
    let reason = this.blockReason(link.bus, server);
    if (reason === null && packet.connection !== link.connection) reason = 'linkBreak';
    if (reason !== null) {
      this.drop(link, bytes.length, reason, server.nodeName);
      return;
    }
    this.count.delivered++;
    this.count.bytesDelivered += bytes.length;
    this.trace?.({
      kind: 'deliver',
      timeMs: this.scheduler.nowMs,
      from: link.bus.nodeName,
      to: server.nodeName,
      bytes: bytes.length,
      duplicate: packet.duplicate,
    });
    // Decoded per delivery: each receiver (and each duplicate) gets its own object, as off a real wire.
    server.onMessage(this.codec.decode(bytes), link.peer);
  }

  private chance(probability: number): boolean {
    return probability > 0 && this.random.next() < probability;
  }

  private disrupt(
    pairs: PairCounts,
    list: [string, string][],
    counter: 'partitions' | 'cuts' | 'clogs',
  ): NetworkDisruption {
    for (const [from, to] of list) {
      this.nodeNamed(from);
      this.nodeNamed(to);
    }
    pairs.add(list);
    this.count[counter]++;
    this.reviewLinks();
    const generation = this.healGeneration;
    let healed = false;
    const isActive = (): boolean => !healed && generation === this.healGeneration;
    return {
      get active() {
        return isActive();
      },
      heal: () => {
        if (!isActive()) return;
        healed = true;
        const freed = pairs.remove(list);
        if (pairs === this.clogged) this.releaseClogged(freed);
      },
    };
  }

  private releaseClogged(freed: readonly (readonly [string, string])[]): void {
    if (freed.length === 0) return;
    for (const link of [...this.links]) {
      const to = link.server?.nodeName;
      if (to !== undefined && freed.some(([f, t]) => f === link.bus.nodeName && t === to)) link.release();
    }
  }

  private nodeNamed(name: string): SimNode {
    const node = this.nodes.get(name);
    if (node === undefined) throw new RangeError(`unknown node ${name}: nodes join the network through busFor`);
    return node;
  }
}

function zeroCounters(): NetworkCounters {
  return {
    messagesSent: 0,
    bytesSent: 0,
    sendsRefused: 0,
    delivered: 0,
    bytesDelivered: 0,
    droppedByLoss: 0,
    duplicated: 0,
    reordered: 0,
    droppedByPartition: 0,
    droppedByCrash: 0,
    droppedByLinkBreak: 0,
    droppedNoListener: 0,
    clogged: 0,
    partitions: 0,
    cuts: 0,
    clogs: 0,
    crashes: 0,
    restarts: 0,
    linkDowns: 0,
    linkReadies: 0,
  };
}

function validFaults(f: NetworkFaults): NetworkFaults {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new RangeError(`network faults: ${what}`);
  };
  for (const key of ['lossProbability', 'duplicateProbability', 'reorderProbability'] as const) {
    check(f[key] >= 0 && f[key] <= 1, `${key} must be in [0, 1], got ${f[key]}`);
  }
  for (const key of ['reorderMaxExtraMs', 'latencyMinMs', 'latencyMaxMs', 'linkTimeoutMs'] as const) {
    check(Number.isFinite(f[key]) && f[key] >= 0, `${key} must be >= 0, got ${f[key]}`);
  }
  check(f.latencyMinMs <= f.latencyMaxMs, `latencyMinMs ${f.latencyMinMs} > latencyMaxMs ${f.latencyMaxMs}`);
  return { ...f };
}
