import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { SystemClock, type Clock } from './clock.js';
import { RealDisk, type Disk } from './disk.js';
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
  /** Major collections so far: the part of heapUsed() that data lives in is measured again at each. */
  heapEpoch(): number;
  /**
   * The heap outside the young generation as it is now: data written since
   * the last major collection counts at once, and so does garbage until the
   * next one (an upper bound; maxmemory eviction uses it).
   */
  heapNow(): number;
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
      heapEpoch: () => heapGauge().epoch,
      heapNow: () => heapGauge().bytesNow(),
      cpuUsage: () => {
        const u = process.cpuUsage();
        return { userUs: u.user, systemUs: u.system };
      },
      executable: process.argv[1] ?? '',
      configFile,
    },
  };
}

/**
 * Memory in use as maxmemory and INFO used_memory count it, kept stable from
 * one command to the next as Redis's allocator count is: the old generation
 * (and code/shared spaces) as the last major GC left it, plus large objects
 * and off-heap buffers (bitmaps, big values) now. The young generation is
 * left out: its garbage would swing the figure by megabytes between
 * scavenges, and so would survivors promoted to the old generation between
 * major GCs; data growth shows up at the next major GC, which V8 runs as
 * the old generation grows.
 */
class HeapGauge {
  private stableBytes = spaceBytes((name) => !TRANSIENT_OR_LARGE.has(name));
  epoch = 0;

  constructor() {
    const observer = new PerformanceObserver((list) => {
      const major = list.getEntries().some((e) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
      if (!major) return;
      this.stableBytes = spaceBytes((name) => !TRANSIENT_OR_LARGE.has(name));
      this.epoch++;
    });
    observer.observe({ entryTypes: ['gc'] });
  }

  bytes(): number {
    return this.stableBytes + getHeapStatistics().external_memory + spaceBytes((name) => LARGE.has(name));
  }

  bytesNow(): number {
    return getHeapStatistics().external_memory + spaceBytes((name) => name !== 'new_space');
  }
}

/** Large-object spaces are read live (they hold data and big values); the young generation's semi-space is left out. */
const LARGE = new Set(['new_large_object_space', 'large_object_space', 'code_large_object_space', 'shared_large_object_space']);
const TRANSIENT_OR_LARGE = new Set(['new_space', ...LARGE]);

function spaceBytes(include: (name: string) => boolean): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) if (include(space.space_name)) bytes += space.space_used_size;
  return bytes;
}

let gauge: HeapGauge | null = null;

function heapGauge(): HeapGauge {
  gauge ??= new HeapGauge();
  return gauge;
}

function liveHeapBytes(): number {
  return heapGauge().bytes();
}
