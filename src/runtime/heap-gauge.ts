import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Large-object spaces are read live (they hold data and big values); the young generation's semi-space is left out. */
const LARGE = new Set(['new_large_object_space', 'large_object_space', 'code_large_object_space', 'shared_large_object_space']);
const TRANSIENT_OR_LARGE = new Set(['new_space', ...LARGE]);

function spaceBytes(include: (name: string) => boolean): number {
  let bytes = 0;
  for (const space of getHeapSpaceStatistics()) if (include(space.space_name)) bytes += space.space_used_size;
  return bytes;
}

/** How long after a major GC its measurement waits for the concurrent sweeping to finish. */
const SWEEP_WAIT_MS = 200;
/** Credits within this many ms of each other share one slot of the log (bounds it to ~100 slots a second). */
const CREDIT_SLOT_MS = 10;
/** Slots kept at most; past it the two oldest merge (the next measurement drops them together anyway). */
const MAX_CREDIT_SLOTS = 1024;
/**
 * How long bytes() reuses its reading of the large-object spaces: reading
 * them costs ~0.5 us and two arrays, and maxmemory asks before every command.
 * Off-heap buffers (bitmaps, values written in place, packed lists) are read
 * every time, so the command after a SETBIT sees the memory it took.
 */
const LARGE_REUSE_MS = 1;

/**
 * Memory in use as maxmemory and INFO used_memory count it, kept stable from
 * one command to the next as Redis's allocator count is: the old generation
 * (and code/shared spaces) as the last major GC left it, plus large objects
 * and off-heap buffers (bitmaps, big values) now. The young generation is
 * left out: its garbage would swing the figure by megabytes between
 * scavenges, and so would survivors promoted to the old generation between
 * major GCs; data growth shows up at the next major GC, which V8 runs as
 * the old generation grows, or which measure() forces.
 *
 * Memory the store let go of (an evicted key) is garbage until that GC:
 * released() counts it as freed at once, as Redis's allocator does, until
 * a measurement whose GC started after it.
 */
export class HeapGauge {
  private stableBytes = 0;
  private releasedBytes = 0;
  /**
   * When each credit was given (performance.now() ms) and how much: a
   * measurement drops only the credits from before its GC started, since
   * what was released later was still garbage that GC did not see.
   */
  private readonly creditTimes: number[] = [];
  private readonly creditBytes: number[] = [];
  /** Major GCs this gauge forced whose observer entries are still to come (already measured). */
  private forcedPending = 0;
  private gc: (() => void) | null | undefined;
  /** The large-object spaces as bytes() last read them, and when (performance.now() ms). */
  private largeBytes = 0;
  private largeAtMs = -Infinity;

  constructor() {
    this.remeasure();
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if ((e as unknown as { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
        if (this.forcedPending > 0) this.forcedPending--;
        else {
          // V8 sweeps the freed pages concurrently after the pause: measured at once, the
          // old generation still counts most of the garbage (a figure 100 MB over with no keys).
          const startMs = e.startTime;
          setTimeout(() => this.remeasure(startMs), SWEEP_WAIT_MS).unref();
        }
      }
    });
    observer.observe({ entryTypes: ['gc'] });
  }

  bytes(): number {
    const now = performance.now();
    if (now - this.largeAtMs >= LARGE_REUSE_MS) {
      this.largeBytes = spaceBytes((name) => LARGE.has(name));
      this.largeAtMs = now;
    }
    return Math.round(Math.max(0, this.stableBytes - this.releasedBytes) + getHeapStatistics().external_memory + this.largeBytes);
  }

  /** The heap outside the young generation as it is now: writes since the last major GC count, and so does their garbage. */
  bytesNow(): number {
    return Math.round(Math.max(0, getHeapStatistics().external_memory + spaceBytes((name) => name !== 'new_space') - this.releasedBytes));
  }

  released(bytes: number): void {
    if (!(bytes > 0)) return;
    this.releasedBytes += bytes;
    const now = performance.now();
    const last = this.creditTimes.length - 1;
    if (last >= 0 && now - this.creditTimes[last]! < CREDIT_SLOT_MS) {
      this.creditBytes[last]! += bytes;
      return;
    }
    if (this.creditTimes.length >= MAX_CREDIT_SLOTS) {
      this.creditBytes[1]! += this.creditBytes[0]!;
      this.creditTimes.shift();
      this.creditBytes.shift();
    }
    this.creditTimes.push(now);
    this.creditBytes.push(bytes);
  }

  /** Runs a major GC now and measures after it; returns the ms it took, or -1 when this V8 cannot be asked to. */
  measure(): number {
    if (this.gc === undefined) this.gc = exposeGc();
    if (this.gc === null) return -1;
    this.forcedPending++;
    const start = performance.now();
    this.gc();
    this.remeasure(start);
    return performance.now() - start;
  }

  /** Measures the old generation after a major GC that started at gcStartMs: credits from before then are in the figure now. */
  private remeasure(gcStartMs = Infinity): void {
    this.stableBytes = spaceBytes((name) => !TRANSIENT_OR_LARGE.has(name));
    this.largeAtMs = -Infinity;
    let dropped = 0;
    while (dropped < this.creditTimes.length && this.creditTimes[dropped]! < gcStartMs) dropped++;
    this.creditTimes.splice(0, dropped);
    this.creditBytes.splice(0, dropped);
    this.releasedBytes = 0;
    for (const b of this.creditBytes) this.releasedBytes += b;
  }
}

/** V8's gc() without starting node with --expose-gc: the flag holds for contexts made after it is set. */
function exposeGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
