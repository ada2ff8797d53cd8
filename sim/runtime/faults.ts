import type { Random } from '../../src/runtime/random.js';
import { NO_NETWORK_FAULTS, type NetworkDisruption, type NetworkFaults, type SimNetwork } from './network.js';
import type { ScheduledEvent, Scheduler } from './scheduler.js';
import type { SimClock } from './sim-clock.js';

/**
 * The faults of one run, drawn from its seed (swarm testing: every seed tests
 * a different mix, and some seeds turn a fault off entirely, so a bug that a
 * noisy fault would mask still shows). A plain JSON object: print it with the
 * seed when a run fails. A mean interval of 0 turns that fault off.
 */
export interface FaultPlan {
  network: NetworkFaults;
  partitionMeanIntervalMs: number;
  partitionMinMs: number;
  partitionMaxMs: number;
  /** Share of partitions that are one-way cuts between two nodes rather than a symmetric split. */
  oneWayCutShare: number;
  clogMeanIntervalMs: number;
  clogMinMs: number;
  clogMaxMs: number;
  crashMeanIntervalMs: number;
  downMinMs: number;
  downMaxMs: number;
  clockJumpMeanIntervalMs: number;
  clockJumpMaxMs: number;
  /** Each machine's clock starts within ±clockSkewMaxMs of true time... */
  clockSkewMaxMs: number;
  /** ...and runs within ±clockDriftMaxPpm of the true rate. */
  clockDriftMaxPpm: number;
}

/** Half the seeds run each fault: enough to find bugs that need it, enough without it to find those it hides. */
const FAULT_ON_PROBABILITY = 0.5;

export function drawFaultPlan(random: Random): FaultPlan {
  const on = (): boolean => random.next() < FAULT_ON_PROBABILITY;
  const latencyMinMs = intIn(random, 0, 5);
  return {
    network: {
      lossProbability: on() ? uniform(random, 0, 0.2) : 0,
      duplicateProbability: on() ? uniform(random, 0, 0.1) : 0,
      reorderProbability: on() ? uniform(random, 0, 0.3) : 0,
      reorderMaxExtraMs: intIn(random, 1, 200),
      latencyMinMs,
      latencyMaxMs: latencyMinMs + (on() ? intIn(random, 0, 200) : intIn(random, 0, 5)),
      // Where in the keepalive cycle a partition starts: between one timeout and a full ping period plus it.
      linkTimeoutMs: intIn(random, 5_000, 15_000),
    },
    partitionMeanIntervalMs: on() ? intIn(random, 2_000, 20_000) : 0,
    partitionMinMs: intIn(random, 100, 1_000),
    partitionMaxMs: intIn(random, 1_000, 10_000),
    oneWayCutShare: random.next(),
    clogMeanIntervalMs: on() ? intIn(random, 2_000, 20_000) : 0,
    clogMinMs: intIn(random, 50, 500),
    clogMaxMs: intIn(random, 500, 5_000),
    crashMeanIntervalMs: on() ? intIn(random, 5_000, 60_000) : 0,
    downMinMs: intIn(random, 100, 1_000),
    downMaxMs: intIn(random, 1_000, 10_000),
    clockJumpMeanIntervalMs: on() ? intIn(random, 5_000, 30_000) : 0,
    clockJumpMaxMs: intIn(random, 10, 3_000),
    clockSkewMaxMs: on() ? intIn(random, 0, 3_000) : 0,
    clockDriftMaxPpm: on() ? intIn(random, 0, 200) : 0,
  };
}

export interface FaultEvent {
  timeMs: number;
  kind: 'partition' | 'cut' | 'clog' | 'heal' | 'unclog' | 'crash' | 'restart' | 'clockJump' | 'clockSkew';
  /** The nodes involved, e.g. "a,b | c" for a partition, "a -> b" for a cut, "+1234.5ms" for a jump. */
  detail: string;
}

export interface FaultCounters {
  partitions: number;
  cuts: number;
  clogs: number;
  crashes: number;
  restarts: number;
  clockJumps: number;
  /** Crashes not injected because the most nodes allowed down already were. */
  crashesSkipped: number;
}

export interface FaultInjectorOptions {
  scheduler: Scheduler;
  network: SimNetwork;
  plan: FaultPlan;
  random: Random;
  nodes: readonly string[];
  /** The clock of a node's machine; undefined: no clock faults on it. */
  clockOf?: (node: string) => SimClock | undefined;
  /** After network.crash(node): the harness drops the node (halts its timers, forgets its state). */
  onCrash?: (node: string) => void;
  /** After network.restart(node): the harness builds the node again (new runtime, listen). */
  onRestart?: (node: string) => void;
  /** Most nodes down at once; default a minority (at least one when there are two or more nodes). */
  maxDown?: number;
  /** Every fault as it is injected or ended, for the run log. */
  onFault?: (event: FaultEvent) => void;
}

/** A disruption in force and how to end it early (healAll). */
interface Ending {
  event: ScheduledEvent;
  end: () => void;
}

/**
 * Drives the plan's faults during the safety phase: each kind of fault is a
 * Poisson process on virtual time (exponential gaps around its mean), and each
 * fault schedules its own end. stop() stops new faults but lets those in force
 * end on schedule; healAll() ends them all now for the liveness phase.
 */
export class FaultInjector {
  private readonly arrivals = new Set<ScheduledEvent>();
  private readonly endings = new Set<Ending>();
  private readonly down = new Set<string>();
  private readonly maxDown: number;
  private started = false;
  private stopped = false;
  private readonly count: FaultCounters = {
    partitions: 0,
    cuts: 0,
    clogs: 0,
    crashes: 0,
    restarts: 0,
    clockJumps: 0,
    crashesSkipped: 0,
  };

  constructor(private readonly options: FaultInjectorOptions) {
    const n = options.nodes.length;
    this.maxDown = options.maxDown ?? (n >= 2 ? Math.max(1, Math.floor((n - 1) / 2)) : 0);
    if (new Set(options.nodes).size !== n) throw new RangeError('fault injector: node names must be distinct');
  }

  counters(): FaultCounters {
    return { ...this.count };
  }
  /** Nodes crashed by the injector and not yet restarted. */
  downNodes(): string[] {
    return [...this.down];
  }

  /** Applies the plan's message faults and clock skew, and schedules the first fault of each kind. */
  start(): void {
    if (this.started) throw new Error('fault injector: already started');
    this.started = true;
    const { plan, network } = this.options;
    network.setFaults(plan.network);
    this.skewClocks();
    this.recur(plan.partitionMeanIntervalMs, () => this.partitionSomething());
    this.recur(plan.clogMeanIntervalMs, () => this.clogSomething());
    this.recur(plan.crashMeanIntervalMs, () => this.crashSomething());
    this.recur(plan.clockJumpMeanIntervalMs, () => this.jumpSomeClock());
  }

  /** No new faults from now on; those in force still end on schedule. */
  stop(): void {
    this.stopped = true;
    for (const event of this.arrivals) event.cancel();
    this.arrivals.clear();
  }

  /** Liveness phase: stop, end every partition and clog, restart every crashed node, no more loss/dup/reorder. */
  healAll(): void {
    this.stop();
    for (const ending of [...this.endings]) {
      ending.event.cancel();
      this.endings.delete(ending);
      ending.end();
    }
    this.options.network.heal();
    this.options.network.setFaults({
      lossProbability: NO_NETWORK_FAULTS.lossProbability,
      duplicateProbability: NO_NETWORK_FAULTS.duplicateProbability,
      reorderProbability: NO_NETWORK_FAULTS.reorderProbability,
    });
  }

  /** Runs `inject` at exponential gaps around meanMs (a Poisson process) until stop(). */
  private recur(meanMs: number, inject: () => void): void {
    if (meanMs <= 0 || this.stopped) return;
    const gapMs = Math.round(-Math.log(1 - this.options.random.next()) * meanMs);
    const event = this.options.scheduler.after(gapMs, () => {
      this.arrivals.delete(event);
      inject();
      this.recur(meanMs, inject);
    });
    this.arrivals.add(event);
  }

  /** Schedules `end` after a duration drawn in [minMs, maxMs], unless healAll runs it first. */
  private endAfter(minMs: number, maxMs: number, end: () => void): void {
    const ending: Ending = {
      event: this.options.scheduler.after(intIn(this.options.random, minMs, Math.max(minMs, maxMs)), () => {
        this.endings.delete(ending);
        end();
      }),
      end,
    };
    this.endings.add(ending);
  }

  private partitionSomething(): void {
    const { nodes, network, plan, random } = this.options;
    if (nodes.length < 2) return;
    let disruption: NetworkDisruption;
    let detail: string;
    const oneWay = random.next() < plan.oneWayCutShare;
    if (oneWay) {
      const [from, to] = pickTwo(random, nodes);
      disruption = network.cut(from, to);
      detail = `${from} -> ${to}`;
      this.count.cuts++;
    } else {
      const shuffled = shuffle(random, nodes);
      const split = 1 + random.int(nodes.length - 1);
      const [a, b] = [shuffled.slice(0, split), shuffled.slice(split)];
      disruption = network.partition(a, b);
      detail = `${a.join(',')} | ${b.join(',')}`;
      this.count.partitions++;
    }
    this.note(oneWay ? 'cut' : 'partition', detail);
    this.endAfter(plan.partitionMinMs, plan.partitionMaxMs, () => {
      disruption.heal();
      this.note('heal', detail);
    });
  }

  private clogSomething(): void {
    const { nodes, network, plan, random } = this.options;
    if (nodes.length < 2) return;
    const [from, to] = pickTwo(random, nodes);
    const clog = network.clog(from, to);
    this.count.clogs++;
    this.note('clog', `${from} -> ${to}`);
    this.endAfter(plan.clogMinMs, plan.clogMaxMs, () => {
      clog.heal();
      this.note('unclog', `${from} -> ${to}`);
    });
  }

  private crashSomething(): void {
    const { nodes, network, plan, random } = this.options;
    const candidates = nodes.filter((node) => network.isUp(node));
    if (candidates.length === 0 || this.down.size >= this.maxDown) {
      this.count.crashesSkipped++;
      return;
    }
    const node = candidates[random.int(candidates.length)]!;
    network.crash(node);
    this.down.add(node);
    this.count.crashes++;
    this.note('crash', node);
    this.options.onCrash?.(node);
    this.endAfter(plan.downMinMs, plan.downMaxMs, () => {
      network.restart(node);
      this.down.delete(node);
      this.count.restarts++;
      this.note('restart', node);
      this.options.onRestart?.(node);
    });
  }

  private jumpSomeClock(): void {
    const { nodes, plan, random } = this.options;
    const node = nodes[random.int(nodes.length)];
    const clock = node === undefined ? undefined : this.options.clockOf?.(node);
    if (clock === undefined) return;
    const deltaMs = uniform(random, -plan.clockJumpMaxMs, plan.clockJumpMaxMs);
    clock.jump(deltaMs);
    this.count.clockJumps++;
    this.note('clockJump', `${node} ${deltaMs >= 0 ? '+' : ''}${deltaMs.toFixed(1)}ms`);
  }

  private skewClocks(): void {
    const { nodes, plan, random } = this.options;
    if (plan.clockSkewMaxMs === 0 && plan.clockDriftMaxPpm === 0) return;
    for (const node of nodes) {
      const clock = this.options.clockOf?.(node);
      if (clock === undefined) continue;
      const skewMs = uniform(random, -plan.clockSkewMaxMs, plan.clockSkewMaxMs);
      const driftPpm = uniform(random, -plan.clockDriftMaxPpm, plan.clockDriftMaxPpm);
      clock.jump(skewMs);
      clock.setDriftPpm(driftPpm);
      this.note('clockSkew', `${node} ${skewMs.toFixed(1)}ms ${driftPpm.toFixed(1)}ppm`);
    }
  }

  private note(kind: FaultEvent['kind'], detail: string): void {
    this.options.onFault?.({ timeMs: this.options.scheduler.nowMs, kind, detail });
  }
}

function uniform(random: Random, min: number, max: number): number {
  return min + random.next() * (max - min);
}

/** Integer in [min, max]. */
function intIn(random: Random, min: number, max: number): number {
  return min + random.int(max - min + 1);
}

function pickTwo(random: Random, nodes: readonly string[]): [string, string] {
  const i = random.int(nodes.length);
  const j = (i + 1 + random.int(nodes.length - 1)) % nodes.length;
  return [nodes[i]!, nodes[j]!];
}

/** Fisher-Yates on a copy. */
function shuffle(random: Random, items: readonly string[]): string[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
