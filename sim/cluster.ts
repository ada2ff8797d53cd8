import { silentLogger } from '../src/log.js';
import { configFrom, createNode, startNode as startServer } from '../src/node.js';
import type { Server } from '../src/server/server.js';
import { SimClient } from './client.js';
import {
  countCrash,
  type CrashKind,
  type DiskCounters,
  type DiskPlan,
  drawCrashKind,
  emptyDiskCounters,
  FaultInjector,
  type FaultPlan,
  MemDisk,
  type Scheduler,
  seededRandom,
  SimClock,
  type SimNetwork,
  simRuntime,
  type SimRuntime,
} from './runtime/index.js';
import type { SeededRandom } from '../src/runtime/random.js';

/** Ends a node's current life: its runtime halts (timers, network) and it is no longer current. */
export function crashLife(current: Map<string, Life>, node: string, crash?: LifeCrash): Life | undefined {
  const life = current.get(node);
  if (life === undefined) return undefined;
  life.crashed = true;
  if (crash !== undefined) life.crash = crash;
  life.runtime.halt();
  current.delete(node);
  return life;
}

/** When and how a life ended. */
export interface LifeCrash {
  /** Virtual (true) time of the crash. */
  atMs: number;
  kind: CrashKind;
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
  /** Set when the life crashed in a run whose nodes persist (what its disk lost depends on the kind). */
  crash?: LifeCrash;
}

const CLIENT_PORT = 6379;

/**
 * N real Strata nodes (createNode, the production classes) on the virtual
 * network, each with its own clock (skew survives restarts) and its own
 * disk: nodes run with appendonly yes and the plan's appendfsync, a crash
 * takes the process or the whole machine down (MemDisk.crash: unsynced data
 * lost, possibly torn) and a restart loads from what the disk kept
 * (startNode, as production starts a node) before serving.
 */
export class SimCluster {
  readonly names: string[];
  readonly disk: DiskCounters = emptyDiskCounters();
  /** Nodes that could not start (e.g. refused their files): each one a failure of the run. */
  readonly startFailures: string[] = [];
  private readonly clocks = new Map<string, SimClock>();
  private readonly disks = new Map<string, MemDisk>();
  private readonly diskRandom: SeededRandom;
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
    /** null: nodes run without persistence (a restart comes back empty), as before disks were simulated. */
    readonly diskPlan: DiskPlan | null = null,
  ) {
    this.names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    this.diskRandom = seededRandom(seed, 'disk');
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
    });
  }

  get nowMs(): number {
    return this.scheduler.nowMs;
  }

  hostOf(node: string): string {
    return `10.0.0.${this.names.indexOf(node) + 1}`;
  }

  async startAll(): Promise<void> {
    for (const n of this.names) await this.startNode(n);
  }

  async startNode(node: string): Promise<void> {
    const host = this.hostOf(node);
    const disk = this.disks.get(node)!;
    const runtime = simRuntime(node, this.scheduler, this.network, this.seed, { host, clock: this.clocks.get(node)!, disk });
    const peers = this.names.filter((n) => n !== node).map((n) => `${this.hostOf(n)}:${CLIENT_PORT}`);
    const config = configFrom([
      ['port', String(CLIENT_PORT)],
      ['bind', host],
      ['peers', peers.join(',')],
      ['anti-entropy-interval-ms', '500'],
      // Simulated clients come from 10.0.0.x, not loopback.
      ['protected-mode', 'no'],
      ['dir', '/data'],
      ...(this.diskPlan === null
        ? []
        : ([
            ['appendonly', 'yes'],
            ['appendfsync', this.diskPlan.appendfsync],
            ['auto-aof-rewrite-min-size', String(this.diskPlan.rewriteMinSize)],
            ['save', this.diskPlan.save],
          ] as [string, string][])),
    ]);
    const server = createNode({ runtime, config, log: silentLogger() });
    const life: Life = { node, index: this.lives.length, runtime, server, client: null as unknown as SimClient, crashed: false };
    const restart = this.lives.some((l) => l.node === node);
    this.lives.push(life);
    this.current.set(node, life);
    try {
      // As production starts a node: its files are read through the Disk and loaded before it serves.
      await startServer(server);
    } catch (err) {
      this.startFailures.push(`${node} did not ${restart ? 're' : ''}start at ${this.scheduler.nowMs}: ${(err as Error).message}`);
      crashLife(this.current, node);
      return;
    }
    if (restart) this.disk.restartsFromDisk++;
    life.client = new SimClient(server);
  }

  /** Crashes a node's process, or its machine (the plan's kind unless given): its disk keeps what survives. */
  crash(node: string, kind?: CrashKind): void {
    const k = kind ?? (this.diskPlan === null ? 'process' : drawCrashKind(this.diskPlan, this.diskRandom));
    if (crashLife(this.current, node, { atMs: this.scheduler.nowMs, kind: k }) === undefined) return;
    countCrash(this.disk, k, this.disks.get(node)!.crash(k, this.diskRandom));
  }

  /** The running lives (started and not crashed), in node order. */
  running(): Life[] {
    return runningLives(this.names, this.current);
  }
}
