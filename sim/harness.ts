import { SimCluster, type Life } from './cluster.js';
import { DurabilityProbe, mayLose } from './durability.js';
import { type DiskPlan, drawDiskPlan, drawFaultPlan, type FaultPlan, Scheduler, seededRandom, SimNetwork } from './runtime/index.js';
import { checkCounters, checkExpired, checkMerkle, checkRegisters, type MayLose, viewOf, Workload } from './workload.js';

/**
 * One simulator run from one seed: a safety phase (client traffic with the
 * seed's faults) then a liveness phase (everything healed, every node up)
 * that must converge within a bounded virtual time, then the checkers.
 * Everything — fault rates, node count, traffic, delays — derives from the
 * seed, so `--seed N` replays a run exactly.
 */

export interface SimParams {
  seed: number;
  nodes: number;
  safetyMs: number;
  livenessMs: number;
  opIntervalMs: number;
  plan: FaultPlan;
  /** appendfsync, what crashes do to disks, and whether the isolate-then-crash probe runs. */
  disk: DiskPlan;
}

export interface SimResult {
  params: SimParams;
  failures: string[];
  ops: number;
  /** Client commands refused with -LOADING while a node caught up with its peers. */
  loadingRefused: number;
  lives: number;
  convergedAfterMs: number | null;
  network: Record<string, number>;
  faults: Record<string, number>;
}

const SETTLE_STEP_MS = 250;

export function drawParams(seed: number): SimParams {
  const r = seededRandom(seed, 'params');
  return {
    seed,
    nodes: 3 + r.int(3),
    safetyMs: 10_000 + r.int(10_000),
    livenessMs: 60_000,
    opIntervalMs: 2 + r.int(15),
    plan: drawFaultPlan(seededRandom(seed, 'plan')),
    disk: drawDiskPlan(seededRandom(seed, 'disk-plan')),
  };
}

export async function runSeed(params: SimParams): Promise<SimResult> {
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, seededRandom(params.seed, 'network'));
  const cluster = new SimCluster(scheduler, network, params.seed, params.nodes, params.plan, seededRandom(params.seed, 'faults'), params.disk);
  const workload = new Workload(
    seededRandom(params.seed, 'workload'),
    () => scheduler.nowMs,
    (ms, fn) => scheduler.after(ms, fn),
  );
  const probe = new DurabilityProbe(scheduler, network, cluster, seededRandom(params.seed, 'probe'));
  await cluster.startAll();
  await scheduler.runUntilAsync(scheduler.nowMs + 1000);
  cluster.injector.start();
  if (params.disk.probe) probe.start(params.safetyMs);
  const traffic = trafficLoop(scheduler, cluster, workload, params.opIntervalMs);
  await scheduler.runUntilAsync(scheduler.nowMs + params.safetyMs);
  traffic.stop();
  cluster.injector.healAll();
  await probe.finish();
  const convergedAfterMs = await settle(scheduler, cluster, params.livenessMs);
  const failures = [...workload.failures, ...cluster.startFailures];
  const excused = mayLose(cluster, params.disk);
  if (convergedAfterMs === null) failures.push(`no convergence within ${params.livenessMs} ms of healing: ${unsettled(cluster.running())}`);
  else failures.push(...judge(cluster, workload, excused), ...probe.check(cluster.running(), excused));
  if (convergedAfterMs !== null && !(await tombstonesCollected(scheduler, cluster, params.livenessMs))) {
    failures.push(`tombstones still held ${params.livenessMs} ms after convergence: ${cluster.running().map((l) => tombstoneCount(l)).join(',')}`);
  }
  // Every short TTL of the safety phase has run out by now (they are at most 3 s).
  await scheduler.runUntilAsync(scheduler.nowMs + 4000);
  for (const life of cluster.running()) failures.push(...checkExpired(life));
  return {
    params,
    failures,
    ops: workload.opsRun,
    loadingRefused: workload.loadingRefused,
    lives: cluster.lives.length,
    convergedAfterMs,
    network: { ...network.counters() },
    faults: {
      ...cluster.injector.counters(),
      ...cluster.disk,
      aofRewrites: cluster.lives.reduce((n, l) => n + (l.server.persistence?.info.aofRewrites ?? 0), 0),
      snapshots: cluster.lives.reduce((n, l) => n + (l.server.persistence?.info.rdbSaves ?? 0), 0),
      probes: probe.ran ? 1 : 0,
      probeWrites: probe.writes.length,
      probeWritesPromised: probe.required(excused),
    },
  };
}

/** Schedules client commands at random intervals on random running nodes until stopped. */
function trafficLoop(scheduler: Scheduler, cluster: SimCluster, workload: Workload, meanIntervalMs: number): { stop(): void } {
  const random = seededRandom(scheduler.nowMs, 'traffic');
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    const running = cluster.running();
    if (running.length > 0) workload.step(running[random.int(running.length)]!);
    scheduler.after(1 + random.int(2 * meanIntervalMs), tick);
  };
  scheduler.after(1, tick);
  return { stop: () => (stopped = true) };
}

/** Runs until every node is up and all show the same data; returns how long it took, or null. */
async function settle(scheduler: Scheduler, cluster: SimCluster, budgetMs: number): Promise<number | null> {
  const start = scheduler.nowMs;
  while (scheduler.nowMs - start <= budgetMs) {
    await scheduler.runUntilAsync(scheduler.nowMs + SETTLE_STEP_MS);
    const running = cluster.running();
    if (running.length === cluster.names.length && unsettled(running) === '') return scheduler.nowMs - start;
  }
  return null;
}

function tombstoneCount(life: Life): number {
  return life.server.replication!.crdt.tombstones.reduce((n, t) => n + t.size, 0);
}

/** With every peer up and healed, every tombstone must eventually be collected everywhere. */
async function tombstonesCollected(scheduler: Scheduler, cluster: SimCluster, budgetMs: number): Promise<boolean> {
  const start = scheduler.nowMs;
  while (scheduler.nowMs - start <= budgetMs) {
    if (cluster.running().every((l) => tombstoneCount(l) === 0)) return true;
    await scheduler.runUntilAsync(scheduler.nowMs + SETTLE_STEP_MS);
  }
  return false;
}

/** '' when all lives show the same data and serve clients, else what does not. */
function unsettled(lives: Life[]): string {
  // A node still catching up with its peers refuses its clients with -LOADING: not healed yet.
  const loading = lives.find((l) => l.server.replication?.loading === true);
  return loading === undefined ? divergence(lives) : `${loading.node} still loading`;
}

/** '' when all lives show the same data, else which node differs from the first. */
function divergence(lives: Life[]): string {
  if (lives.length === 0) return 'no node running';
  const first = viewOf(lives[0]!);
  for (const l of lives.slice(1)) {
    if (viewOf(l) !== first) return `${l.node} differs from ${lives[0]!.node}`;
  }
  return '';
}

function judge(cluster: SimCluster, workload: Workload, crashed: MayLose): string[] {
  const final = cluster.running()[0]!;
  const merkle = cluster.running().flatMap((l) => checkMerkle(l));
  return [...checkRegisters(workload, final, crashed), ...checkCounters(workload, final, crashed), ...workload.containers.check(final, crashed), ...workload.lists.check(final, crashed), ...merkle];
}
