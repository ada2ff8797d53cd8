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
 * the next measurement.
 */
export class HeapGauge {
  private stableBytes = 0;
  private releasedBytes = 0;
  /** Major GCs this gauge forced whose observer entries are still to come (already measured). */
  private forcedPending = 0;
  private gc: (() => void) | null | undefined;

  constructor() {
    this.remeasure();
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if ((e as unknown as { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
        if (this.forcedPending > 0) this.forcedPending--;
        else this.remeasure();
      }
    });
    observer.observe({ entryTypes: ['gc'] });
  }

  bytes(): number {
    return Math.max(0, this.stableBytes - this.releasedBytes) + getHeapStatistics().external_memory + spaceBytes((name) => LARGE.has(name));
  }

  /** The heap outside the young generation as it is now: writes since the last major GC count, and so does their garbage. */
  bytesNow(): number {
    return Math.max(0, getHeapStatistics().external_memory + spaceBytes((name) => name !== 'new_space') - this.releasedBytes);
  }

  released(bytes: number): void {
    this.releasedBytes += bytes;
  }

  /** Runs a major GC now and measures after it; returns the ms it took, or -1 when this V8 cannot be asked to. */
  measure(): number {
    if (this.gc === undefined) this.gc = exposeGc();
    if (this.gc === null) return -1;
    this.forcedPending++;
    const start = performance.now();
    this.gc();
    this.remeasure();
    return performance.now() - start;
  }

  private remeasure(): void {
    this.stableBytes = spaceBytes((name) => !TRANSIENT_OR_LARGE.has(name));
    this.releasedBytes = 0;
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
