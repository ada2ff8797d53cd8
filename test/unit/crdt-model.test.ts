import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplyError, SimClient, type Reply } from '../../sim/client.js';
import { SimCluster, type Life } from '../../sim/cluster.js';
import { drawFaultPlan, Scheduler, seededRandom, SimNetwork } from '../../sim/runtime/index.js';
import { checkMerkle } from '../../sim/workload.js';

/**
 * Model-based test (fc.commands): a replicating node (its CRDT bookkeeping
 * on, its peers unreachable) answers string and key commands exactly as a
 * plain map with TTLs does, and after every command its Merkle summary
 * equals one rebuilt from scratch.
 */

interface Model {
  values: Map<string, { value: string; ttl: number }>;
}

interface Real {
  client: SimClient;
  life: Life;
}

const keys = fc.constantFrom('a', 'b', 'c');


/** A command run on both sides; `expected` computes the model's reply and updates the model. */
function command(name: string, args: (string | number)[], expected: (m: Model) => Reply | 'error'): fc.Command<Model, Real> {
  return {
    check: () => true,
    run(m, r) {
      const want = expected(m);
      const got = r.client.call(name, ...args);
      if (want === 'error') expect(got).toBeInstanceOf(ReplyError);
      else expect(got).toEqual(want);
      expect(checkMerkle(r.life)).toEqual([]);
    },
    toString: () => `${name} ${args.join(' ')}`,
  };
}

const commands = [
  fc.tuple(keys, fc.constantFrom('1', '2', 'x')).map(([k, v]) =>
    command('SET', [k, v], (m) => {
      m.values.set(k, { value: v, ttl: -1 });
      return 'OK';
    }),
  ),
  keys.map((k) => command('GET', [k], (m) => m.values.get(k)?.value ?? null)),
  keys.map((k) => command('DEL', [k], (m) => (m.values.delete(k) ? 1 : 0))),
  keys.map((k) => command('EXISTS', [k], (m) => (m.values.has(k) ? 1 : 0))),
  fc.tuple(keys, fc.integer({ min: -5, max: 5 })).map(([k, n]) =>
    command('INCRBY', [k, n], (m) => {
      const cur = m.values.get(k);
      // Redis's string2ll: no leading zeros, no "-0" (APPEND can make "09").
      if (cur !== undefined && !/^(0|-?[1-9]\d*)$/.test(cur.value)) return 'error';
      const next = BigInt(cur?.value ?? '0') + BigInt(n);
      m.values.set(k, { value: String(next), ttl: cur?.ttl ?? -1 });
      return Number(next);
    }),
  ),
  fc.tuple(keys, fc.constantFrom('z', '9')).map(([k, s]) =>
    command('APPEND', [k, s], (m) => {
      const cur = m.values.get(k);
      const value = (cur?.value ?? '') + s;
      m.values.set(k, { value, ttl: cur?.ttl ?? -1 });
      return value.length;
    }),
  ),
  fc.tuple(keys, fc.integer({ min: 100, max: 1000 })).map(([k, s]) =>
    command('EXPIRE', [k, s], (m) => {
      const cur = m.values.get(k);
      if (cur === undefined) return 0;
      cur.ttl = s;
      return 1;
    }),
  ),
  keys.map((k) =>
    command('PERSIST', [k], (m) => {
      const cur = m.values.get(k);
      if (cur === undefined || cur.ttl === -1) return 0;
      cur.ttl = -1;
      return 1;
    }),
  ),
  keys.map((k) => command('TTL', [k], (m) => m.values.get(k)?.ttl ?? -2)),
  fc.tuple(keys, keys).map(([a, b]) =>
    command('RENAME', [a, b], (m) => {
      const cur = m.values.get(a);
      if (cur === undefined) return 'error';
      m.values.delete(a);
      m.values.set(b, cur);
      return 'OK';
    }),
  ),
];

async function replicatingNode(): Promise<Real> {
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, seededRandom(1, 'network'));
  const plan = drawFaultPlan(seededRandom(1, 'plan'));
  // Two nodes configured, one started: the node replicates into the void.
  const cluster = new SimCluster(scheduler, network, 1, 2, plan, seededRandom(1, 'faults'));
  await cluster.startNode('n1');
  const life = cluster.running()[0]!;
  // Its peer never answers: the node serves once peer-sync-timeout-ms has passed (peer-sync.ts).
  for (let i = 0; i < 100 && life.server.replication!.loading; i++) await scheduler.runUntilAsync(scheduler.nowMs + 100);
  expect(life.server.replication!.loading).toBe(false);
  return { client: life.client, life };
}

describe('replicating node vs reference model', () => {
  it('answers like a map with TTLs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60 }), async (cmds) => {
        const real = await replicatingNode();
        fc.modelRun(() => ({ model: { values: new Map() }, real }), cmds);
      }),
      { numRuns: 150 },
    );
  });
});
