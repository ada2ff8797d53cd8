import { compareVersion } from '../src/crdt/key-state.js';
import { elementsOf, isContainer, recomputeElementsDigest } from '../src/replication/elements.js';
import { entryDigest, tombDigest } from '../src/replication/key-crdt.js';
import { MerkleSummary } from '../src/replication/merkle.js';
import type { Random } from '../src/runtime/random.js';
import { ReplyError, type Reply } from './client.js';
import { ContainerWorkload, containerText } from './workload-containers.js';
import { ListWorkload } from './workload-lists.js';
import type { QuickList } from '../src/store/list.js';
import type { Life } from './cluster.js';

/**
 * Client traffic for the safety phase and what it acknowledged, plus the
 * checkers that judge the converged state against the semantics table:
 * registers (SET/DEL/EXPIRE/PERSIST) end at the largest acknowledged
 * version or one above it, counters equal the sum of acknowledged
 * increments, deletes do not come back.
 */

export type Version = [ts: number, origin: string, gen: number];

interface RegisterOp {
  key: string;
  kind: 'set' | 'del' | 'expire' | 'persist';
  value: string;
  /** The key's version on the acknowledging node right after the command. */
  version: Version;
  life: number;
  /** Virtual time of the acknowledgement. */
  at: number;
}

interface IncrOp {
  key: string;
  amount: number;
  life: number;
  at: number;
}

/**
 * Whether the checkers excuse the loss of a write that life `life`
 * acknowledged at virtual time `atMs` (it crashed before the write was
 * durable or replicated, by the run's fsync mode). Set<number> of lives fits.
 */
export interface MayLose {
  has(life: number, atMs: number): boolean;
}

const REGISTER_KEYS = 8;
const COUNTER_KEYS = 4;

export class Workload {
  readonly containers: ContainerWorkload;
  readonly lists: ListWorkload;
  readonly registers: RegisterOp[] = [];
  readonly increments: IncrOp[] = [];
  readonly failures: string[] = [];
  opsRun = 0;
  /** Commands refused with -LOADING (a node catching up after its start). */
  loadingRefused = 0;
  private nextValue = 0;

  constructor(
    private readonly random: Random,
    /** Virtual time, stamped on every acknowledged write. */
    private readonly now: () => number = () => 0,
    /** Runs fn after ms of virtual time (a command that must come in a later I/O round). */
    private readonly later: (ms: number, fn: () => void) => void = (_ms, fn) => fn(),
  ) {
    this.containers = new ContainerWorkload(random, now);
    this.lists = new ListWorkload(random, now);
  }

  /** Runs one random command on the given node and records what it acknowledged. */
  step(life: Life): void {
    // A node catching up with its peers answers -LOADING to everything (src/replication/peer-sync.ts): a client tries later.
    const ping = life.client.call('PING');
    if (ping instanceof ReplyError) {
      if (ping.message.startsWith('LOADING ')) this.loadingRefused++;
      else this.failures.push(`PING answered an error: ${ping.message}`);
      return;
    }
    this.opsRun++;
    const kind = this.random.next();
    if (kind < 0.25) return this.containers.step(life);
    if (kind < 0.4) return this.lists.step(life);
    const r = this.random.next();
    if (r < 0.35) return this.incr(life);
    const key = `r${this.random.int(REGISTER_KEYS)}`;
    if (r < 0.7) return this.register(life, key, 'set', ['SET', key, `v${++this.nextValue}`]);
    if (r < 0.82) return this.register(life, key, 'del', ['DEL', key]);
    if (r < 0.92) return this.register(life, key, 'expire', ['EXPIRE', key, 1000 + this.random.int(4000)]);
    if (r < 0.96) return this.register(life, key, 'persist', ['PERSIST', key]);
    if (r < 0.97) return this.rename(life, key, `r${this.random.int(REGISTER_KEYS)}`);
    if (r < 0.98) {
      // A write, and a RENAME of that key a millisecond later: the next I/O round of the same
      // replication batch, where the moved entry once went out under its old name.
      this.register(life, key, 'set', ['SET', key, `v${++this.nextValue}`]);
      const to = `r${this.random.int(REGISTER_KEYS)}`;
      this.later(1, () => {
        if (!life.client.closed) this.rename(life, key, to);
      });
      return;
    }
    if (r < 0.99) {
      // Short-lived keys: they really expire during the run (each node by its own, skewed clock).
      this.expectNoError(life.client.call('SET', `t${this.random.int(4)}`, `v${++this.nextValue}`, 'PX', String(200 + this.random.int(2800))), 'SET PX');
      return;
    }
    this.expectNoError(life.client.call('GET', key), 'GET');
  }

  private incr(life: Life): void {
    const key = `c${this.random.int(COUNTER_KEYS)}`;
    const amount = 1 + this.random.int(10);
    const reply = life.client.call('INCRBY', key, amount);
    if (this.expectNoError(reply, 'INCRBY')) this.increments.push({ key, amount, life: life.index, at: this.now() });
  }

  private register(life: Life, key: string, kind: RegisterOp['kind'], args: (string | number)[]): void {
    const reply = life.client.call(...args);
    if (!this.expectNoError(reply, kind)) return;
    // DEL/EXPIRE/PERSIST of a missing key (or PERSIST without TTL) changed nothing.
    if (kind !== 'set' && reply === 0) return;
    this.registers.push({ key, kind, value: kind === 'set' ? String(args[2]) : '', version: versionOf(life, key)!, life: life.index, at: this.now() });
  }

  /** RENAME: a delete of the source and a write of its value to the destination. */
  private rename(life: Life, from: string, to: string): void {
    const reply = life.client.call('RENAME', from, to);
    if (reply instanceof ReplyError) {
      if (reply.message !== 'ERR no such key') this.failures.push(`RENAME answered ${reply.message}`);
      return;
    }
    const e = life.server.keyspace.db(0).keys.get(to)!;
    if (from !== to) this.registers.push({ key: from, kind: 'del', value: '', version: versionOf(life, from)!, life: life.index, at: this.now() });
    this.registers.push({ key: to, kind: 'set', value: String(e.value), version: versionOf(life, to)!, life: life.index, at: this.now() });
  }

  private expectNoError(reply: Reply, what: string): boolean {
    if (!(reply instanceof ReplyError)) return true;
    this.failures.push(`${what} answered an error: ${reply.message}`);
    return false;
  }
}

/** The version of key on a node right now (live or tombstone), or null. */
export function versionOf(life: Life, key: string): Version | null {
  const crdt = life.server.replication!.crdt;
  const e = life.server.keyspace.db(0).keys.get(key);
  if (e !== undefined && e.crdt !== null) return [e.crdt.ts, e.crdt.origin, e.crdt.gen];
  const t = crdt.tombstones[0]!.get(key);
  return t === undefined ? null : [t.ts, t.origin, t.gen];
}

/** What clients can observe on a node: every live key of db 0 with type, value and TTL. */
export function viewOf(life: Life): string {
  const rows: string[] = [];
  for (const e of life.server.keyspace.db(0).entries()) {
    const value = e.type === 'list' ? JSON.stringify((e.value as QuickList).toArray()) : e.type === 'string' ? String(e.value) : containerText(e);
    rows.push(JSON.stringify([e.key, e.type, value, e.expireAt]));
  }
  return rows.sort().join('\n');
}

function cmp(a: Version, b: Version): number {
  return compareVersion(a[0], a[1], a[2], b[0], b[1], b[2]);
}

/**
 * Registers: writes acknowledged by a life that never crashed must survive
 * or be superseded by a larger version; the final version must be one some
 * client was acknowledged (a crashed life's write may win or be lost).
 */
export function checkRegisters(w: Workload, final: Life, crashedLives: MayLose): string[] {
  const out: string[] = [];
  for (let k = 0; k < REGISTER_KEYS; k++) {
    const key = `r${k}`;
    const ops = w.registers.filter((o) => o.key === key);
    const mustSurvive = ops.filter((o) => !crashedLives.has(o.life, o.at));
    if (ops.length === 0) continue;
    const floor = mustSurvive.reduce<Version | null>((m, o) => (m === null || cmp(o.version, m) > 0 ? o.version : m), null);
    const e = final.server.keyspace.db(0).keys.get(key);
    if (e !== undefined) {
      const v = versionOf(final, key)!;
      if (floor !== null && cmp(v, floor) < 0) out.push(`${key}: final version ${v} is below acknowledged ${floor}`);
      const origin = ops.find((o) => o.kind === 'set' && cmp(o.version, [v[0], v[1], 0]) === 0);
      if (origin === undefined) out.push(`${key}: final version ${v} was never acknowledged to a client`);
      else if (String(e.value) !== origin.value) out.push(`${key}: value ${String(e.value)} but version ${v} wrote ${origin.value}`);
    } else if (floor !== null && !ops.some((o) => o.kind === 'del' && cmp(o.version, floor) >= 0)) {
      out.push(`${key}: gone, but no acknowledged delete covers acknowledged ${floor}`);
    }
  }
  return out;
}

/** Counters: exactly the acknowledged sum, or between survivors' sum and the total when a crashed life incremented. */
/**
 * Short-lived keys: one whose expire time passed more than a cron period ago
 * (by this node's clock) must be gone, and it must not have come back.
 */
export function checkExpired(final: Life): string[] {
  const db = final.server.keyspace.db(0);
  const now = final.runtime.clock.nowMs();
  const out: string[] = [];
  for (let i = 0; i < 4; i++) {
    const e = db.keys.get(`t${i}`);
    if (e !== undefined && (e.expireAt === 0 || e.expireAt < now - 1000)) out.push(`t${i} outlived its TTL (expire at ${e.expireAt}, now ${now})`);
  }
  return out;
}

export function checkCounters(w: Workload, final: Life, crashedLives: MayLose): string[] {
  const out: string[] = [];
  for (let k = 0; k < COUNTER_KEYS; k++) {
    const key = `c${k}`;
    const ops = w.increments.filter((o) => o.key === key);
    const total = ops.reduce((s, o) => s + o.amount, 0);
    const sure = ops.filter((o) => !crashedLives.has(o.life, o.at)).reduce((s, o) => s + o.amount, 0);
    const e = final.server.keyspace.db(0).keys.get(key);
    const value = e === undefined ? 0 : Number(String(e.value));
    if (value < sure || value > total) out.push(`${key}: value ${value}, acknowledged ${sure} (${total} counting crashed nodes)`);
  }
  return out;
}

/** A node's incrementally kept Merkle summary equals one rebuilt from its keys and tombstones. */
export function checkMerkle(life: Life): string[] {
  const crdt = life.server.replication!.crdt;
  const db = life.server.keyspace.db(0);
  const fresh = new MerkleSummary();
  for (const e of db.entries()) {
    if (e.crdt === null) continue;
    if (isContainer(e) && recomputeElementsDigest(e.crdt, elementsOf(e, crdt.containers.limits)) !== e.crdt.elementsDigest) {
      return [`${life.node}: element digest of ${e.key} drifted from its elements`];
    }
    fresh.update(e.key, 0, entryDigest(e));
  }
  for (const [key, t] of crdt.tombstones[0]!) fresh.update(key, 0, tombDigest(key, t));
  for (const [key, h] of crdt.hidden[0]!) fresh.update(key, 0, entryDigest(h));
  const kept = crdt.merkle[0]!.leaves;
  for (let i = 0; i < kept.length; i++) if (kept[i] !== fresh.leaves[i]) return [`${life.node}: Merkle leaf ${i} drifted from its keys`];
  return [];
}
