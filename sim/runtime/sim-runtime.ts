import type { Disk } from '../../src/runtime/disk.js';
import type { ProcessInfo, Runtime } from '../../src/runtime/index.js';
import { SeededRandom } from '../../src/runtime/random.js';
import type { ConnectOptions, Listener, ListenOptions, StreamSocket, Transport } from '../../src/runtime/transport.js';
import { MemDisk } from './mem-disk.js';
import type { SimNetwork } from './network.js';
import type { Scheduler } from './scheduler.js';
import { deriveSeed } from './seed.js';
import type { SimBus } from './sim-bus.js';
import { SimClock } from './sim-clock.js';
import { SimTimer } from './sim-timer.js';

/** A Runtime whose parts the harness can also drive (skew the clock, halt the timers, reach the bus). */
export interface SimRuntime extends Runtime {
  readonly node: string;
  clock: SimClock;
  timer: SimTimer;
  random: SeededRandom;
  /** The node-to-node bus of this incarnation; createBus returns it too. */
  bus: SimBus;
  createBus(): SimBus;
  /** The crash of this incarnation: its timers stop for good (the network's crash kills the bus). */
  halt(): void;
}

export interface SimRuntimeOptions {
  /** The node's host on the virtual network; default the node's name. */
  host?: string;
  /** The machine's clock, kept across a restart so skew persists; default a fresh one. */
  clock?: SimClock;
  /** The machine's disk, kept across a restart so data survives it; default a fresh one. */
  disk?: Disk;
}

const SIMULATED_RSS_BYTES = 64 * 1024 * 1024;
const SIMULATED_HEAP_BYTES = 32 * 1024 * 1024;

/**
 * The Runtime of one incarnation of one node. Its Random is seeded from the
 * run's seed, the node and the incarnation, so a restarted node does not
 * replay its previous life's draws. Call it again after network.restart(node).
 */
export function simRuntime(
  node: string,
  scheduler: Scheduler,
  network: SimNetwork,
  seed: number,
  options: SimRuntimeOptions = {},
): SimRuntime {
  const host = options.host ?? node;
  const bus = network.busFor(node, host);
  const life = `${node}#${network.incarnation(node)}`;
  const timer = new SimTimer(scheduler);
  return {
    node,
    clock: options.clock ?? new SimClock(scheduler),
    timer,
    random: new SeededRandom(deriveSeed(seed, `node:${life}`)),
    transport: new SimTransport(host),
    disk: options.disk ?? new MemDisk(),
    process: simProcessInfo(100 + (deriveSeed(seed, `pid:${life}`) % 32_000)),
    bus,
    createBus: () => bus,
    halt: () => {
      timer.halt();
    },
  };
}

function simProcessInfo(pid: number): ProcessInfo {
  return {
    pid,
    memoryRss: () => SIMULATED_RSS_BYTES,
    heapUsed: () => SIMULATED_HEAP_BYTES,
    heapNow: () => SIMULATED_HEAP_BYTES,
    released: () => undefined,
    measureHeap: () => -1,
    cpuUsage: () => ({ userUs: 0, systemUs: 0 }),
    executable: 'strata-sim',
    configFile: '',
  };
}

/**
 * Client TCP is not simulated: the harness calls the node's command path
 * directly. listen() succeeds so a node can start; connect() refuses.
 */
export class SimTransport implements Transport {
  private nextPort = 30_000;
  constructor(private readonly host: string) {}

  listen(options: ListenOptions, _onConnection: (socket: StreamSocket) => void): Promise<Listener> {
    const listener: Listener = {
      host: options.host === '' ? this.host : options.host,
      port: options.port === 0 ? this.nextPort++ : options.port,
      close: () => Promise.resolve(),
    };
    return Promise.resolve(listener);
  }

  connect(options: ConnectOptions): Promise<StreamSocket> {
    const err = Object.assign(
      new Error(`connect ECONNREFUSED ${options.host}:${options.port} (client TCP is not simulated)`),
      { code: 'ECONNREFUSED' },
    );
    return Promise.reject(err);
  }
}
