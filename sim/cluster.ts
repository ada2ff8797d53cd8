import { silentLogger } from '../src/log.js';
import { configFrom, createNode } from '../src/node.js';
import type { Server } from '../src/server/server.js';
import { SimClient } from './client.js';
import { FaultInjector, type FaultPlan, type Scheduler, SimClock, type SimNetwork, simRuntime, type SimRuntime } from './runtime/index.js';
import type { SeededRandom } from '../src/runtime/random.js';

/** Ends a node's current life: its runtime halts (timers, network) and it is no longer current. */
export function crashLife(current: Map<string, Life>, node: string): void {
  const life = current.get(node);
  if (life === undefined) return;
  life.crashed = true;
  life.runtime.halt();
  current.delete(node);
}

/** The lives started and not crashed, in node order. */
export function runningLives(names: readonly string[], current: ReadonlyMap<string, Life>): Life[] {
  return names.map((n) => current.get(n)).filter((l): l is Life => l !== undefined && l.client !== null);
}

/** One life of a node: from a (re)start to its crash. */
export interface Life {
  node: string;
  index: number;
  runtime: SimRuntime;
  server: Server;
  client: SimClient;
  crashed: boolean;
}

const CLIENT_PORT = 6379;

/**
 * N real Strata nodes (createNode, the production classes) on the virtual
 * network, each with its own clock (skew survives restarts) and a fresh
 * memory after every crash, as a node without persistence has.
 */
export class SimCluster {
  readonly names: string[];
  private readonly clocks = new Map<string, SimClock>();
  private readonly current = new Map<string, Life>();
  readonly lives: Life[] = [];
  readonly injector: FaultInjector;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: SimNetwork,
    private readonly seed: number,
    count: number,
    plan: FaultPlan,
    random: SeededRandom,
  ) {
    this.names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    for (const n of this.names) this.clocks.set(n, new SimClock(scheduler));
    this.injector = new FaultInjector({
      scheduler,
      network,
      plan,
      random,
      nodes: this.names,
      clockOf: (n) => this.clocks.get(n)!,
      onCrash: (n) => this.crash(n),
      onRestart: (n) => void this.startNode(n),
    });
  }

  hostOf(node: string): string {
    return `10.0.0.${this.names.indexOf(node) + 1}`;
  }

  async startAll(): Promise<void> {
    for (const n of this.names) await this.startNode(n);
  }

  async startNode(node: string): Promise<void> {
    const host = this.hostOf(node);
    const runtime = simRuntime(node, this.scheduler, this.network, this.seed, { host, clock: this.clocks.get(node)! });
    const peers = this.names.filter((n) => n !== node).map((n) => `${this.hostOf(n)}:${CLIENT_PORT}`);
    const config = configFrom([
      ['port', String(CLIENT_PORT)],
      ['bind', host],
      ['peers', peers.join(',')],
      ['anti-entropy-interval-ms', '500'],
      // Simulated clients come from 10.0.0.x, not loopback.
      ['protected-mode', 'no'],
    ]);
    const server = createNode({ runtime, config, log: silentLogger() });
    const life: Life = { node, index: this.lives.length, runtime, server, client: null as unknown as SimClient, crashed: false };
    this.lives.push(life);
    this.current.set(node, life);
    await server.start();
    life.client = new SimClient(server);
  }

  private crash(node: string): void {
    crashLife(this.current, node);
  }

  /** The running lives (started and not crashed), in node order. */
  running(): Life[] {
    return runningLives(this.names, this.current);
  }
}
