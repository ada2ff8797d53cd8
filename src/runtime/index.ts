import { SystemClock, type Clock } from './clock.js';
import { RealDisk, type Disk } from './disk.js';
import { HeapGauge } from './heap-gauge.js';
import { SystemRandom, type Random } from './random.js';
import { SystemTimer, type Timer } from './timer.js';
import { TcpTransport, type Transport } from './transport.js';
import type { Logger } from '../log.js';
import type { Bus } from '../transport/bus.js';
import { GrpcBus } from '../transport/grpc-bus.js';

export type { Clock } from './clock.js';
export type { Disk } from './disk.js';
export type { Random } from './random.js';
export type { Timer, TimerHandle } from './timer.js';
export type { Transport, StreamSocket, Listener, ListenOptions, ConnectOptions } from './transport.js';
export { SeededRandom } from './random.js';

/** Everything a node needs from the outside world. Production and the simulator each build one. */
export interface Runtime {
  clock: Clock;
  timer: Timer;
  random: Random;
  transport: Transport;
  disk: Disk;
  /** The node-to-node message bus (replication, later cluster gossip): gRPC, or the simulator's network. */
  createBus(log: Logger): Bus;
  /** Process-level facts (pid, memory) for INFO; virtualised in the simulator. */
  process: ProcessInfo;
}

export interface ProcessInfo {
  pid: number;
  memoryRss(): number;
  heapUsed(): number;
  /**
   * The heap outside the young generation as it is now: data written since
   * the last major collection counts at once, and so does garbage until the
   * next one (an upper bound: whether heapUsed() may be stale).
   */
  heapNow(): number;
  /** Memory the store let go of (an evicted key's estimated size): heapUsed() drops by it until the next measurement. */
  released(bytes: number): void;
  /** Measures heapUsed() again now (a major GC); returns the ms that took, -1 where it is not possible. */
  measureHeap(): number;
  cpuUsage(): { userUs: number; systemUs: number };
  executable: string;
  configFile: string;
}

export function realRuntime(configFile = ''): Runtime {
  const timer = new SystemTimer();
  return {
    clock: new SystemClock(),
    timer,
    random: new SystemRandom(),
    transport: new TcpTransport(),
    disk: new RealDisk(),
    createBus: (log) => new GrpcBus({ timer, log }),
    process: {
      pid: process.pid,
      memoryRss: () => process.memoryUsage.rss(),
      heapUsed: liveHeapBytes,
      heapNow: () => heapGauge().bytesNow(),
      released: (bytes) => heapGauge().released(bytes),
      measureHeap: () => heapGauge().measure(),
      cpuUsage: () => {
        const u = process.cpuUsage();
        return { userUs: u.user, systemUs: u.system };
      },
      executable: process.argv[1] ?? '',
      configFile,
    },
  };
}

let gauge: HeapGauge | null = null;

function heapGauge(): HeapGauge {
  gauge ??= new HeapGauge();
  return gauge;
}

function liveHeapBytes(): number {
  return heapGauge().bytes();
}
