import { SimCluster, type Life } from '../../sim/cluster.js';
import { drawFaultPlan, Scheduler, seededRandom, SimNetwork } from '../../sim/runtime/index.js';

/** Two replicating nodes on the simulator's network, started and linked, without injected faults. */
export interface TwoNodes {
  a: Life;
  b: Life;
  cluster: SimCluster;
  network: SimNetwork;
  /** Runs virtual time forward. */
  settle(ms: number): Promise<void>;
}

export async function twoSimNodes(seed: number): Promise<TwoNodes> {
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, seededRandom(seed, 'network'));
  const cluster = new SimCluster(scheduler, network, seed, 2, drawFaultPlan(seededRandom(seed, 'plan')), seededRandom(seed, 'faults'));
  await cluster.startAll();
  const settle = (ms: number): Promise<void> => scheduler.runUntilAsync(scheduler.nowMs + ms).then(() => undefined);
  await settle(1000);
  const [a, b] = cluster.running();
  return { a: a!, b: b!, cluster, network, settle };
}
