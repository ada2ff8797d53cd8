import type { SeededRandom } from '../src/runtime/random.js';
import { checkData, checkMigration, checkRedirects, EpochSampler, readBack, servedProblem, shardsDiverge } from './cluster-checks.js';
import { ClusterModeSim, clusterOf, formCluster, waitUntil } from './cluster-mode.js';
import { ClusterWorkload, type WorkloadParams } from './cluster-workload.js';
import { drawFaultPlan, type FaultPlan, type NetworkDisruption, Scheduler, seededRandom, SimNetwork } from './runtime/index.js';

/**
 * One cluster-mode run from one seed: form the cluster, then a safety phase
 * (client traffic, slot moves, manual failovers, the seed's faults plus
 * primaries cut off from everyone), then heal everything and require that
 * every slot is served and every shard converged within a bounded time,
 * then the checkers. Everything derives from the seed: `--seed N` replays.
 */

export interface ClusterParams {
  seed: number;
  nodeTimeoutMs: number;
  safetyMs: number;
  livenessMs: number;
  workload: WorkloadParams;
  /** Mean gap between isolations of a primary from every other node (0: none). */
  isolateMeanMs: number;
  plan: FaultPlan;
}

export interface ClusterResult {
  params: ClusterParams;
  failures: string[];
  ops: Record<string, number>;
  client: Record<string, number>;
  faults: Record<string, number>;
  network: Record<string, number>;
  healedAfterMs: number | null;
  /** The highest epoch reached, less the six epochs of formation: how many elections and bumps happened. */
  epochsAdvanced: number;
}

const FORM_BUDGET_MS = 30_000;
const SAMPLE_PERIOD_MS = 200;
/** Replies time out after 8 s; this leaves room for the last command of each client. */
const DRAIN_BUDGET_MS = 12_000;
const SETTLE_STEP_MS = 250;

/**
 * Swarm testing again: each seed draws its own mix. Unless `knownIssues`,
 * one combination that loses acknowledged writes for reasons found here and
 * not fixed yet is left out (crashes, clock faults and message loss still
 * hit slot moves):
 *
 * - slot moves in a seed with network splits (partitions, cuts, clogs,
 *   isolated primaries). A slot moved to or from a node that is cut off
 *   (before anyone notices) leaves its replicas with a stale view of its
 *   slots; a later failover then claims the old set, the deposed primary
 *   keeps the moved slot, stays a primary and deletes the keys of the slots
 *   it lost. Those keys are now handed to the slot's owner before they are
 *   deleted (src/cluster/handoff.ts), which fixed seeds 13 and 120 and
 *   halved the failures of this mix (cluster seeds 1-300: 12 -> 6 failed);
 *   catching up before serving (src/replication/peer-sync.ts) fixed 186,
 *   226 and 257. What is left loses counter increments and set members:
 *   `npm run sim -- --seed 193 --scenario cluster --cluster-known-issues`
 *   (also 1, 292). Seed 193: a primary cut off keeps taking INCRs while its
 *   replica is elected; an operator then moves the slot, and the move's
 *   RESTORE is a new version of the key on the target, above the version
 *   the cut-off primary's increments belong to, so when its handoff finally
 *   arrives they lose to it (69 increments). Seed 292 is the mirror case:
 *   the slot moves to a primary that is cut off, the old shard (not told)
 *   elects a new primary that revives the key's tombstone and takes INCRs
 *   on that revival, and the moved copy's RESTORE version outranks them
 *   after healing (150 increments). Both are split-brain writes on two
 *   versions of one key, where a new version wins whole (docs/CRDT.md);
 *   keeping them would take counters that survive a newer version, or
 *   slot moves that carry the key's version. Not done.
 *   (Moves of slots holding sets are drawn too: RESTORE of a collection used
 *   to revive the key's bottom version, which a peer's uncollected tombstone
 *   then deleted; it now stamps a new version, seed 106.)
 *
 * Seed 40036 (crashes and slot moves only) lost set members: a primary
 * restarted with an empty memory took SADDs before it had caught up with
 * its replica, and the replica's RESTOREd version of the set won the key.
 * Nodes now catch up before serving (src/replication/peer-sync.ts).
 */
export function drawClusterParams(seed: number, knownIssues = false): ClusterParams {
  const r = seededRandom(seed, 'cluster-params');
  const on = (): boolean => r.next() < 0.5;
  const params: ClusterParams = {
    seed,
    nodeTimeoutMs: 1000 + r.int(2001),
    safetyMs: 15_000 + r.int(15_001),
    livenessMs: 60_000,
    workload: {
      clients: 2 + r.int(3),
      opIntervalMs: 5 + r.int(30),
      moveMeanMs: on() ? 1000 + r.int(5000) : 0,
      failoverMeanMs: on() ? 2000 + r.int(10_000) : 0,
      moveCollections: true,
    },
    isolateMeanMs: on() ? 3000 + r.int(10_000) : 0,
    plan: drawFaultPlan(seededRandom(seed, 'cluster-plan')),
  };
  if (params.workload.moveMeanMs > 0 && !knownIssues) {
    params.isolateMeanMs = 0;
    params.plan = { ...params.plan, partitionMeanIntervalMs: 0, clogMeanIntervalMs: 0 };
  }
  return params;
}

/** Replay aids: the trace of faults and node logs, and a look at the end state (both off in normal runs). */
export interface ClusterDebug {
  trace?: (line: string) => void;
  atEnd?: (sim: ClusterModeSim, workload: ClusterWorkload) => void;
}

export async function runClusterSeed(params: ClusterParams, debug: ClusterDebug = {}): Promise<ClusterResult> {
  const trace = debug.trace ?? null;
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, seededRandom(params.seed, 'cluster-network'));
  const sim = new ClusterModeSim(scheduler, network, params.seed, params.nodeTimeoutMs, params.plan, seededRandom(params.seed, 'cluster-faults'), trace);
  await sim.startAll();
  const result = emptyResult(params);
  const formed = await formCluster(sim, FORM_BUDGET_MS);
  if (formed !== null) return { ...result, failures: [`cluster did not form: ${formed}`] };
  const sampler = new EpochSampler(scheduler, sim, SAMPLE_PERIOD_MS);
  const workload = new ClusterWorkload(sim, params.seed, params.workload);
  const isolator = new PrimaryIsolator(sim, params, seededRandom(params.seed, 'cluster-isolate'));
  sampler.start();
  sim.injector.start();
  isolator.start();
  workload.start();
  await scheduler.runUntilAsync(scheduler.nowMs + params.safetyMs);
  isolator.stop();
  sim.injector.healAll();
  sim.note('healed: liveness phase');
  const { failures, healedAfterMs } = await afterHealing(sim, workload, params);
  sampler.stop();
  debug.atEnd?.(sim, workload);
  workload.close();
  failures.push(...sampler.violations, ...workload.failures);
  return { ...result, failures, ...summary(sim, workload, isolator), healedAfterMs };
}

/** Liveness, then the data and redirect checkers. */
async function afterHealing(sim: ClusterModeSim, workload: ClusterWorkload, params: ClusterParams): Promise<{ failures: string[]; healedAfterMs: number | null }> {
  const start = sim.scheduler.nowMs;
  if (!(await workload.stop(DRAIN_BUDGET_MS))) return { failures: ['client commands still running after healing'], healedAfterMs: null };
  const healed = await waitUntil(sim.scheduler, params.livenessMs, SETTLE_STEP_MS, () => servedProblem(sim) === null && shardsDiverge(sim) === null);
  if (!healed) return { failures: [`not healed ${params.livenessMs} ms after the faults ended: ${servedProblem(sim) ?? shardsDiverge(sim)}`], healedAfterMs: null };
  const healedAfterMs = sim.scheduler.nowMs - start;
  const read = await readBack(sim, workload, params.seed);
  if (typeof read === 'string') return { failures: [read], healedAfterMs };
  const failures = [...checkData(sim, workload, read), ...(await checkRedirects(sim, workload.keys(), params.seed))];
  failures.push(...(await checkMigration(sim, params.seed, workload.ops)));
  return { failures, healedAfterMs };
}

function emptyResult(params: ClusterParams): ClusterResult {
  return { params, failures: [], ops: {}, client: {}, faults: {}, network: {}, healedAfterMs: null, epochsAdvanced: 0 };
}

function summary(sim: ClusterModeSim, workload: ClusterWorkload, isolator: PrimaryIsolator): Pick<ClusterResult, 'ops' | 'client' | 'faults' | 'network' | 'epochsAdvanced'> {
  const epochs = Math.max(...sim.running().map((l) => clusterOf(l).state.currentEpoch), 0);
  return {
    ops: { ...workload.ops },
    client: workload.clientCounters(),
    faults: { ...sim.injector.counters(), isolations: isolator.count },
    network: { ...sim.network.counters() },
    epochsAdvanced: Math.max(0, epochs - sim.names.length),
  };
}

/**
 * A fault the generic injector draws only by chance: one primary (as it
 * sees itself) cut off from every other node, for about one to four node
 * timeouts, long enough for its replica to be elected while clients still
 * write to it.
 */
class PrimaryIsolator {
  count = 0;
  private readonly active = new Set<NetworkDisruption>();
  private stopped = false;

  constructor(
    private readonly sim: ClusterModeSim,
    private readonly params: ClusterParams,
    private readonly random: SeededRandom,
  ) {}

  start(): void {
    if (this.params.isolateMeanMs > 0) this.next();
  }

  stop(): void {
    this.stopped = true;
    for (const d of this.active) d.heal();
    this.active.clear();
  }

  private next(): void {
    const gapMs = Math.round(-Math.log(1 - this.random.next()) * this.params.isolateMeanMs);
    this.sim.scheduler.after(gapMs, () => {
      if (this.stopped) return;
      this.isolate();
      this.next();
    });
  }

  private isolate(): void {
    const primaries = this.sim.running().filter((l) => clusterOf(l).myself.isPrimary && clusterOf(l).myself.slots.count > 0);
    if (primaries.length === 0) return;
    const victim = primaries[this.random.int(primaries.length)]!.node;
    const d = this.sim.network.partition([victim], this.sim.names.filter((n) => n !== victim));
    this.active.add(d);
    this.count++;
    this.sim.note(`fault isolate ${victim}`);
    const ms = this.params.nodeTimeoutMs * (1 + this.random.next() * 3);
    this.sim.scheduler.after(ms, () => {
      if (!this.active.delete(d)) return;
      this.sim.note(`fault heal isolation of ${victim}`);
      d.heal();
    });
  }
}
