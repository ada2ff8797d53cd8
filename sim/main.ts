import { drawParams, runSeed, type SimResult } from './harness.js';

/**
 * npm run sim -- --seeds 1000 [--from S]   run many seeds, print a summary
 * npm run sim -- --seed N [--verbose]      replay one seed exactly
 *
 * Exits 1 if any seed fails; each failure prints its seed and every drawn
 * parameter.
 */

interface Args {
  seeds: number;
  from: number;
  seed: number | null;
  verbose: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 100, from: 1, seed: null, verbose: false };
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

function report(result: SimResult): void {
  process.stdout.write(`seed ${result.params.seed} FAILED\n  params: ${JSON.stringify(result.params)}\n`);
  for (const f of result.failures.slice(0, 20)) process.stdout.write(`  - ${f}\n`);
  process.stdout.write(`  replay: npm run sim -- --seed ${result.params.seed}\n`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const seeds = args.seed !== null ? [args.seed] : Array.from({ length: args.seeds }, (_, i) => args.from + i);
  const network: Record<string, number> = {};
  const faults: Record<string, number> = {};
  let failed = 0;
  let ops = 0;
  let worstConvergeMs = 0;
  for (const seed of seeds) {
    const result = await runSeed(drawParams(seed));
    add(network, result.network);
    add(faults, result.faults);
    ops += result.ops;
    worstConvergeMs = Math.max(worstConvergeMs, result.convergedAfterMs ?? 0);
    if (result.failures.length > 0) {
      failed++;
      report(result);
    } else if (args.verbose) {
      process.stdout.write(`seed ${seed} ok: ${JSON.stringify(result)}\n`);
    }
  }
  process.stdout.write(`\n${seeds.length} seeds, ${failed} failed, ${ops} client operations, slowest convergence ${worstConvergeMs} ms after healing\n`);
  process.stdout.write(`faults injected: ${JSON.stringify(faults)}\n`);
  process.stdout.write(`network: ${JSON.stringify(network)}\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
