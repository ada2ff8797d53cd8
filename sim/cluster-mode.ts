import type { Cluster } from '../src/cluster/cluster.js';
import { NODE_FLAG } from '../src/cluster/node.js';
import pino from 'pino';
import type { Logger } from '../src/log.js';
import { configFrom, createNode } from '../src/node.js';
import type { SeededRandom } from '../src/runtime/random.js';
import { ReplyError, SimClient, type Reply } from './client.js';
import { crashLife, runningLives, type Life } from './cluster.js';
import { FaultInjector, type FaultPlan, MemDisk, type Scheduler, SIM_EPOCH_MS, SimClock, type SimNetwork, simRuntime } from './runtime/index.js';

/**
 * Six real nodes in cluster mode (cluster-enabled yes) on the virtual
 * network: three primaries and three replicas, formed through commands as
 * `redis-cli --cluster create` does. Each machine keeps its clock and its
 * disk across crashes, so a restarted node reads its nodes.conf back (same
 * id, same view, the epochs it saved) with an empty keyspace: a Redis
 * cluster node without persistence.
 */

/** Log messages of src/cluster that announce an epoch taken without consensus. */
const UNILATERAL = new Set(['Epoch bumped after importing a slot', 'Config epoch collision resolved: took a new epoch']);

export const NODES = 6;
export const PRIMARIES = 3;
const CLIENT_PORT = 6379;
const BUS_PORT = 16379;
const FORM_STEP_MS = 100;

export class ClusterModeSim {
  readonly names: string[] = Array.from({ length: NODES }, (_, i) => `n${i + 1}`);
  readonly addresses: string[];
  readonly lives: Life[] = [];
  readonly injector: FaultInjector;
  private readonly clocks = new Map<string, SimClock>();
  private readonly disks = new Map<string, MemDisk>();
  private readonly current = new Map<string, Life>();
  /**
   * "nodeId@epoch" of every config epoch a node took without an election
   * (after importing a slot, or resolving a collision): Redis Cluster lets
   * those collide with an elected epoch and resolves the collision later.
   */
  readonly unilateral = new Set<string>();

  constructor(
    readonly scheduler: Scheduler,
    readonly network: SimNetwork,
    private readonly seed: number,
    private readonly nodeTimeoutMs: number,
    plan: FaultPlan,
    random: SeededRandom,
    /** Replay aid (--seed N --verbose): faults and each node's log lines at info and above, in virtual time. */
    readonly trace: ((line: string) => void) | null = null,
  ) {
    this.addresses = this.names.map((n) => this.addressOf(n));
    for (const n of this.names) {
      this.clocks.set(n, new SimClock(scheduler));
      this.disks.set(n, new MemDisk());
    }
    this.injector = new FaultInjector({
      scheduler,
      network,
      plan,
      random,
      nodes: this.names,
      clockOf: (n) => this.clocks.get(n)!,
      onCrash: (n) => this.crash(n),
      onRestart: (n) => void this.startNode(n),
      onFault: (e) => this.note(`fault ${e.kind} ${e.detail}`),
    });
  }

  hostOf(node: string): string {
    return `10.0.1.${this.names.indexOf(node) + 1}`;
  }

  addressOf(node: string): string {
    return `${this.hostOf(node)}:${CLIENT_PORT}`;
  }

  /** The running life answering at a client address, or null (down, or unknown address). */
  lifeAt(address: string): Life | null {
    const i = this.addresses.indexOf(address);
    return i < 0 ? null : (this.current.get(this.names[i]!) ?? null);
  }

  lifeOf(node: string): Life | null {
    return this.current.get(node) ?? null;
  }

  async startAll(): Promise<void> {
    for (const n of this.names) await this.startNode(n);
  }

  async startNode(node: string): Promise<void> {
    const host = this.hostOf(node);
    const runtime = simRuntime(node, this.scheduler, this.network, this.seed, { host, clock: this.clocks.get(node)!, disk: this.disks.get(node)! });
    const config = configFrom([
      ['port', String(CLIENT_PORT)],
      ['bind', host],
      ['cluster-enabled', 'yes'],
      ['cluster-port', String(BUS_PORT)],
      ['cluster-node-timeout', String(this.nodeTimeoutMs)],
      ['dir', '/data'],
      ['cluster-config-file', 'nodes.conf'],
      ['anti-entropy-interval-ms', '500'],
      // Simulated clients come from 10.0.x.x, not loopback.
      ['protected-mode', 'no'],
    ]);
    const server = createNode({ runtime, config, log: this.loggerFor(node) });
    const life: Life = { node, index: this.lives.length, runtime, server, client: null as unknown as SimClient, crashed: false };
    this.lives.push(life);
    this.current.set(node, life);
    await server.start();
    life.client = new SimClient(server);
  }

  note(line: string): void {
    this.trace?.(`${this.scheduler.nowMs - SIM_EPOCH_MS} ${line}`);
  }

  /** Each node's log lines (info and up) feed `unilateral`, and the trace when there is one. */
  private loggerFor(node: string): Logger {
    const write = (s: string): void => {
      const { msg, level: _l, ...rest } = JSON.parse(s) as Record<string, unknown>;
      if (UNILATERAL.has(String(msg))) this.unilateral.add(`${this.lifeOf(node)?.server.cluster?.myself.id}@${String(rest.epoch)}`);
      if (this.trace !== null) this.note(`${node} ${String(msg)} ${JSON.stringify(rest)}`);
    };
    return pino({ level: 'info', base: null, timestamp: false }, { write });
  }

  private crash(node: string): void {
    crashLife(this.current, node);
  }

  /** The running lives (started and not crashed), in node order. */
  running(): Life[] {
    return runningLives(this.names, this.current);
  }
}

/** A node's cluster (the harness reads its view directly; clients only see commands). */
export function clusterOf(life: Life): Cluster {
  return life.server.cluster as Cluster;
}

/** Runs a command on a node's admin connection; an error reply becomes a thrown Error with context. */
export function admin(life: Life, ...args: (string | number)[]): Reply {
  const reply = life.client.call(...args);
  if (reply instanceof ReplyError) throw new Error(`${life.node}: ${args.join(' ')} -> ${reply.message}`);
  return reply;
}

/** Runs virtual time in steps until `done` holds (true) or the budget is spent (false). */
export async function waitUntil(scheduler: Scheduler, budgetMs: number, stepMs: number, done: () => boolean): Promise<boolean> {
  const end = scheduler.nowMs + budgetMs;
  while (scheduler.nowMs < end) {
    if (done()) return true;
    await scheduler.runUntilAsync(Math.min(end, scheduler.nowMs + stepMs));
  }
  return done();
}

/** Slot range of primary i of PRIMARIES (16384 split as redis-cli splits it). */
function slotRange(i: number): [number, number] {
  const per = 16384 / PRIMARIES;
  return [Math.round(i * per), Math.round((i + 1) * per) - 1];
}

/**
 * redis-cli --cluster create: slots to the primaries, a distinct config
 * epoch to every node, MEETs, wait for the join, REPLICATE, wait for
 * cluster_state:ok everywhere. Returns null, or why the cluster did not form.
 */
export async function formCluster(sim: ClusterModeSim, budgetMs: number): Promise<string | null> {
  const lives = sim.running();
  for (let i = 0; i < PRIMARIES; i++) admin(lives[i]!, 'CLUSTER', 'ADDSLOTSRANGE', ...slotRange(i));
  lives.forEach((l, i) => admin(l, 'CLUSTER', 'SET-CONFIG-EPOCH', i + 1));
  for (const l of lives.slice(1)) admin(l, 'CLUSTER', 'MEET', sim.hostOf(lives[0]!.node), CLIENT_PORT, BUS_PORT);
  const joined = () => lives.every((l) => knowsAll(l, lives.length));
  if (!(await waitUntil(sim.scheduler, budgetMs, FORM_STEP_MS, joined))) return 'nodes did not all meet';
  for (let i = PRIMARIES; i < lives.length; i++) admin(lives[i]!, 'CLUSTER', 'REPLICATE', clusterOf(lives[i - PRIMARIES]!).myself.id);
  const ready = () => lives.every((l) => clusterOf(l).state.state === 'ok' && replicasKnown(l, lives));
  if (!(await waitUntil(sim.scheduler, budgetMs, FORM_STEP_MS, ready))) return 'cluster_state did not become ok everywhere';
  return null;
}

function knowsAll(life: Life, count: number): boolean {
  const nodes = [...clusterOf(life).state.nodes.values()];
  return nodes.length === count && nodes.every((n) => !n.has(NODE_FLAG.handshake) && !n.has(NODE_FLAG.meet));
}

/** The node's view has every replica following its primary. */
function replicasKnown(life: Life, lives: Life[]): boolean {
  const state = clusterOf(life).state;
  for (let i = PRIMARIES; i < lives.length; i++) {
    const r = state.node(clusterOf(lives[i]!).myself.id);
    if (r === undefined || r.primaryId !== clusterOf(lives[i - PRIMARIES]!).myself.id) return false;
  }
  return true;
}
