import type { Random } from '../../src/runtime/random.js';
import type { CrashKind, CrashLoss } from './mem-disk.js';

/**
 * The disk side of a run, drawn from its seed (its own stream, so the
 * network and crash plans of existing seeds stay as they were): the fsync
 * mode every node runs with, and what a crash does to the disk of the
 * crashed node's machine. A plain JSON object, printed with a failing seed.
 */
export interface DiskPlan {
  appendfsync: 'always' | 'everysec' | 'no';
  /** Share of crashes that take the machine down (unsynced data lost) rather than only the process. */
  machineCrashShare: number;
  /** Share of machine crashes that tear the unsynced tail instead of dropping it cleanly. */
  tornShare: number;
  /**
   * Isolate-then-crash probe (sim/durability.ts): a node cut off from every
   * peer acknowledges writes nobody else has, then its machine crashes.
   */
  probe: boolean;
  /** auto-aof-rewrite-min-size: small in some seeds, so background rewrites (new base, manifest switch) meet crashes. */
  rewriteMinSize: number;
  /** `save` points: some seeds take BGSAVEs during the run. */
  save: string;
}

export function drawDiskPlan(random: Random): DiskPlan {
  const m = random.next();
  return {
    // Mostly always: that is the mode with a promise a checker can hold to any write.
    appendfsync: m < 0.6 ? 'always' : m < 0.85 ? 'everysec' : 'no',
    machineCrashShare: random.next() < 0.2 ? 0 : random.next(),
    tornShare: random.next() < 0.3 ? 0 : random.next(),
    probe: random.next() < 0.7,
    rewriteMinSize: random.next() < 0.5 ? 16_384 + random.int(256 * 1024) : 64 * 1024 * 1024,
    save: random.next() < 0.3 ? `${1 + random.int(5)} ${1 + random.int(100)}` : '',
  };
}

export function drawCrashKind(plan: DiskPlan, random: Random): CrashKind {
  if (random.next() >= plan.machineCrashShare) return 'process';
  return random.next() < plan.tornShare ? 'torn' : 'machine';
}

/** Disk faults of one run, reported beside the other fault kinds. */
export interface DiskCounters {
  processCrashes: number;
  machineCrashes: number;
  tornCrashes: number;
  unsyncedBytesLost: number;
  tornWrites: number;
  garbageWrites: number;
  dirEntriesUndone: number;
  restartsFromDisk: number;
}

export function emptyDiskCounters(): DiskCounters {
  return { processCrashes: 0, machineCrashes: 0, tornCrashes: 0, unsyncedBytesLost: 0, tornWrites: 0, garbageWrites: 0, dirEntriesUndone: 0, restartsFromDisk: 0 };
}

export function countCrash(c: DiskCounters, kind: CrashKind, loss: CrashLoss): void {
  if (kind === 'process') c.processCrashes++;
  else if (kind === 'machine') c.machineCrashes++;
  else c.tornCrashes++;
  c.unsyncedBytesLost += loss.bytesLost;
  c.tornWrites += loss.tornWrites;
  c.garbageWrites += loss.garbageWrites;
  c.dirEntriesUndone += loss.entriesUndone;
}
