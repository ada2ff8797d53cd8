import { type ClusterResult, drawClusterParams, runClusterSeed } from './cluster-harness.js';
import { drawParams, runSeed, type SimResult } from './harness.js';

/**
 * npm run sim -- --seeds 1000 [--from S]   run many seeds, print a summary
 * npm run sim -- --seed N [--verbose]      replay one seed exactly
 *
 * Each seed runs one scenario: even seeds the cluster-mode scenario
 * (sim/cluster-harness.ts), odd seeds the active-active replication one
 * (sim/harness.ts); `--scenario both|replication|cluster` overrides.
 * `--cluster-known-issues` lets cluster seeds draw the fault mixes that
 * still lose writes (drawClusterParams). Exits 1 if any seed fails; each failure
 * prints its seed and every drawn parameter. `--verbose` with `--seed`
 * prints a cluster seed's trace (faults, operator actions, node logs).
 */

type Scenario = 'alternate' | 'both' | 'replication' | 'cluster';

interface Args {
  seeds: number;
  from: number;
  seed: number | null;
  verbose: boolean;
  scenario: Scenario;
  knownIssues: boolean;
}

const SCENARIOS: readonly Scenario[] = ['alternate', 'both', 'replication', 'cluster'];

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 100, from: 1, seed: null, verbose: false, scenario: 'alternate', knownIssues: false };
  for (let i = 0; i < argv.length; i++) {
    const value = Number(argv[i + 1]);
    switch (argv[i]) {
      case '--seeds':
        args.seeds = value;
        i++;
        break;
      case '--from':
        args.from = value;
        i++;
        break;
      case '--seed':
        args.seed = value;
        i++;
        break;
      case '--scenario':
        args.scenario = argv[++i] as Scenario;
        if (!SCENARIOS.includes(args.scenario)) throw new Error(`--scenario takes one of ${SCENARIOS.join(', ')}`);
        break;
      case '--cluster-known-issues':
        args.knownIssues = true;
        break;
      case '--verbose':
        args.verbose = true;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!Number.isInteger(args.seeds) || args.seeds < 1 || !Number.isInteger(args.from)) throw new Error('--seeds and --from take integers');
  return args;
}

function add(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function report(kind: string, seed: number, params: unknown, failures: string[], replay: string): void {
  process.stdout.write(`${kind} seed ${seed} FAILED\n  params: ${JSON.stringify(params)}\n`);
  for (const f of failures.slice(0, 20)) process.stdout.write(`  - ${f}\n`);
  process.stdout.write(`  replay: npm run sim -- --seed ${seed}${replay}\n`);
}

function runsReplication(args: Args, seed: number): boolean {
  return args.scenario === 'both' || args.scenario === 'replication' || (args.scenario === 'alternate' && seed % 2 !== 0);
}

function runsCluster(args: Args, seed: number): boolean {
  return args.scenario === 'both' || args.scenario === 'cluster' || (args.scenario === 'alternate' && seed % 2 === 0);
}

/** Totals of the replication scenario's seeds. */
class ReplicationTotals {
  seeds = 0;
  failed = 0;
  ops = 0;
  loadingRefused = 0;
  worstConvergeMs = 0;
  readonly network: Record<string, number> = {};
  readonly faults: Record<string, number> = {};

  add(r: SimResult): void {
    this.seeds++;
    this.ops += r.ops;
    this.loadingRefused += r.loadingRefused;
    this.worstConvergeMs = Math.max(this.worstConvergeMs, r.convergedAfterMs ?? 0);
    add(this.network, r.network);
    add(this.faults, r.faults);
  }

  print(): void {
    if (this.seeds === 0) return;
    process.stdout.write(`\nreplication: ${this.seeds} seeds, ${this.failed} failed, ${this.ops} client operations (${this.loadingRefused} more refused with -LOADING), slowest convergence ${this.worstConvergeMs} ms after healing\n`);
    process.stdout.write(`  faults injected: ${JSON.stringify(this.faults)}\n`);
    process.stdout.write(`  network: ${JSON.stringify(this.network)}\n`);
  }
}

/** Totals of the cluster scenario's seeds. */
class ClusterTotals {
  seeds = 0;
  failed = 0;
  worstHealMs = 0;
  epochs = 0;
  readonly ops: Record<string, number> = {};
  readonly client: Record<string, number> = {};
  readonly faults: Record<string, number> = {};
  readonly network: Record<string, number> = {};

  add(r: ClusterResult): void {
    this.seeds++;
    this.worstHealMs = Math.max(this.worstHealMs, r.healedAfterMs ?? 0);
    this.epochs += r.epochsAdvanced;
    add(this.ops, r.ops);
    add(this.client, r.client);
    add(this.faults, r.faults);
    add(this.network, r.network);
  }

  print(): void {
    if (this.seeds === 0) return;
    process.stdout.write(`\ncluster: ${this.seeds} seeds, ${this.failed} failed, ${this.epochs} epochs taken after formation, slowest healing ${this.worstHealMs} ms\n`);
    process.stdout.write(`  operations: ${JSON.stringify(this.ops)}\n`);
    process.stdout.write(`  client: ${JSON.stringify(this.client)}\n`);
    process.stdout.write(`  faults injected: ${JSON.stringify(this.faults)}\n`);
    process.stdout.write(`  network: ${JSON.stringify(this.network)}\n`);
  }
}

/** A run that throws (a bug in node or simulator code) fails its seed instead of ending the whole run. */
async function guarded<R>(run: () => Promise<R>): Promise<R | string> {
  try {
    return await run();
  } catch (err) {
    return `threw: ${(err as Error).stack ?? String(err)}`;
  }
}

async function runReplication(args: Args, seed: number, rep: ReplicationTotals, flag: string): Promise<void> {
  const params = drawParams(seed);
  const r = await guarded(() => runSeed(params));
  if (typeof r === 'string') rep.seeds++;
  else rep.add(r);
  const failures = typeof r === 'string' ? [r] : r.failures;
  if (failures.length > 0) {
    rep.failed++;
    report('replication', seed, params, failures, flag);
  } else if (args.verbose) process.stdout.write(`replication seed ${seed} ok: ${JSON.stringify(r)}\n`);
}

async function runCluster(args: Args, seed: number, cl: ClusterTotals, flag: string): Promise<void> {
  const params = drawClusterParams(seed, args.knownIssues);
  const trace = args.verbose && args.seed !== null ? (line: string) => process.stdout.write(`  | ${line}\n`) : undefined;
  const r = await guarded(() => runClusterSeed(params, { trace }));
  if (typeof r === 'string') cl.seeds++;
  else cl.add(r);
  const failures = typeof r === 'string' ? [r] : r.failures;
  if (failures.length > 0) {
    cl.failed++;
    report('cluster', seed, params, failures, `${flag}${args.knownIssues ? ' --cluster-known-issues' : ''}`);
  } else if (args.verbose && typeof r !== 'string') process.stdout.write(`cluster seed ${seed} ok: ${JSON.stringify({ ...r, network: undefined })}\n`);
}

async function runOne(args: Args, seed: number, rep: ReplicationTotals, cl: ClusterTotals): Promise<void> {
  const flag = args.scenario === 'alternate' ? '' : ` --scenario ${args.scenario}`;
  if (runsReplication(args, seed)) await runReplication(args, seed, rep, flag);
  if (runsCluster(args, seed)) await runCluster(args, seed, cl, flag);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const seeds = args.seed !== null ? [args.seed] : Array.from({ length: args.seeds }, (_, i) => args.from + i);
  const rep = new ReplicationTotals();
  const cl = new ClusterTotals();
  for (const seed of seeds) await runOne(args, seed, rep, cl);
  process.stdout.write(`\n${seeds.length} seeds, ${rep.failed + cl.failed} failed\n`);
  rep.print();
  cl.print();
  process.exitCode = rep.failed + cl.failed > 0 ? 1 : 0;
}

void main();
