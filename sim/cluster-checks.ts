import { NODE_FLAG } from '../src/cluster/node.js';
import { keyHashSlot, SLOT_COUNT } from '../src/cluster/slots.js';
import { compareVersion } from '../src/crdt/key-state.js';
import { ReplyError, type Reply } from './client.js';
import { ClusterClient } from './cluster-client.js';
import type { Life } from './cluster.js';
import { type ClusterModeSim, clusterOf, waitUntil } from './cluster-mode.js';
import { call, type ClusterWorkload, copyKey, COUNTERS, counterKey, failed, type RegisterWrite, SETS, setKey, type SlotMove, type Stamp } from './cluster-workload.js';
import type { Scheduler } from './runtime/index.js';
import { seededRandom } from './runtime/index.js';
import { type Version, viewOf } from './workload.js';

/**
 * The cluster checkers:
 * (1) EpochSampler: at most one primary claims a slot per config epoch, over
 *     every view of every node sampled during the whole run;
 * (2) servedProblem: after healing, all nodes agree on the slot map, every
 *     slot's owner is up, not failing, and serves it in its own view,
 *     cluster_state is ok everywhere; shardsDiverge: replicas hold their
 *     primary's data;
 * (3) checkData: no acknowledged write lost, read back through a cluster client;
 * (4) checkRedirects: a fresh client reaches the owner of every key within 2 redirects.
 */

const MAX_REPORTED = 10;

/** Per config epoch, per owner id, the slots seen claimed by that owner with that epoch. */
export class EpochSampler {
  readonly violations: string[] = [];
  samples = 0;
  private readonly claims = new Map<number, Map<string, Uint8Array>>();
  private stopped = false;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly sim: ClusterModeSim,
    private readonly periodMs: number,
  ) {}

  start(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.sample();
      this.scheduler.after(this.periodMs, tick);
    };
    this.scheduler.after(this.periodMs, tick);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Every running node's view: each node it shows holding slots is a claim (owner, owner's epoch, slots). */
  sample(): void {
    this.samples++;
    for (const life of this.sim.running()) {
      for (const n of clusterOf(life).state.nodes.values()) {
        if (n.slots.count > 0) this.claim(life, n.id, n.configEpoch, n.slots.bits);
      }
    }
  }

  private claim(viewer: Life, owner: string, epoch: number, bits: Uint8Array): void {
    let byOwner = this.claims.get(epoch);
    if (byOwner === undefined) this.claims.set(epoch, (byOwner = new Map()));
    const unilateral = this.sim.unilateral;
    for (const [other, seen] of byOwner) {
      // Epochs taken without an election may collide by design; the collision rule settles them (checked by liveness).
      if (other === owner || unilateral.has(`${owner}@${epoch}`) || unilateral.has(`${other}@${epoch}`)) continue;
      const slot = firstCommon(bits, seen);
      if (slot >= 0 && this.violations.length < MAX_REPORTED) {
        this.violations.push(`slot ${slot} claimed by ${owner.slice(0, 8)} and ${other.slice(0, 8)} with the same config epoch ${epoch} (seen by ${viewer.node} at ${this.scheduler.nowMs})`);
      }
    }
    const mine = byOwner.get(owner);
    if (mine === undefined) byOwner.set(owner, bits.slice());
    else for (let i = 0; i < bits.length; i++) mine[i]! |= bits[i]!;
  }
}

function firstCommon(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const both = a[i]! & b[i]!;
    if (both !== 0) return i * 8 + (31 - Math.clz32(both & -both));
  }
  return -1;
}

// ---- (2) every slot served ----------------------------------------------------

/** null when every node is up, serves clients and agrees on a healthy slot map; else the first problem. */
export function servedProblem(sim: ClusterModeSim): string | null {
  const lives = sim.running();
  if (lives.length !== sim.names.length) return `${sim.names.length - lives.length} node(s) down`;
  const byId = new Map(lives.map((l) => [clusterOf(l).myself.id, l]));
  for (const l of lives) {
    // Still catching up after its start: its clients get -LOADING.
    if (l.server.replication?.loading === true) return `${l.node}: loading`;
    const problem = viewProblem(l, byId) ?? mapDiffers(l, lives[0]!);
    if (problem !== null) return problem;
  }
  return null;
}

/** One node's view: state ok, every slot owned by a running primary that owns it in its own view, nobody failing. */
function viewProblem(l: Life, byId: Map<string, Life>): string | null {
  const state = clusterOf(l).state;
  if (state.state !== 'ok') return `${l.node}: cluster_state ${state.state}`;
  for (const n of state.nodes.values()) {
    if (n.failing || n.has(NODE_FLAG.handshake)) return `${l.node} sees ${n.id.slice(0, 8)} as ${n.has(NODE_FLAG.fail) ? 'fail' : n.failing ? 'pfail' : 'handshake'}`;
  }
  for (let s = 0; s < SLOT_COUNT; s++) {
    const owner = state.owners[s];
    if (owner === null || owner === undefined) return `${l.node}: slot ${s} has no owner`;
    const ownerLife = byId.get(owner.id);
    if (ownerLife === undefined) return `${l.node}: slot ${s} owned by unknown ${owner.id.slice(0, 8)}`;
    const own = clusterOf(ownerLife);
    if (!own.myself.isPrimary || own.state.ownerOf(s) !== own.myself) return `${l.node}: slot ${s} owned by ${ownerLife.node}, which does not serve it`;
  }
  return null;
}

function mapDiffers(l: Life, first: Life): string | null {
  const a = clusterOf(l).state.owners;
  const b = clusterOf(first).state.owners;
  for (let s = 0; s < SLOT_COUNT; s++) {
    if (a[s]?.id !== b[s]?.id) return `${l.node} and ${first.node} disagree on slot ${s}`;
  }
  return null;
}

/** null when every replica shows exactly its primary's data (the shards are converged). */
export function shardsDiverge(sim: ClusterModeSim): string | null {
  const lives = sim.running();
  const byId = new Map(lives.map((l) => [clusterOf(l).myself.id, l]));
  for (const l of lives) {
    const me = clusterOf(l).myself;
    if (!me.isReplica) continue;
    const primary = byId.get(me.primaryId);
    if (primary === undefined) return `${l.node} follows unknown ${me.primaryId.slice(0, 8)}`;
    if (viewOf(l) !== viewOf(primary)) return `${l.node} differs from its primary ${primary.node}`;
  }
  return null;
}

// ---- (3) no acknowledged write lost ---------------------------------------------

/** What the read-back found for a key: the reply and the answering node's version of it. */
export interface ReadBack {
  reply: Reply;
  version: Version | null;
  node: string;
}

/** Reads every workload key through a fresh cluster client (reads go to the slot owner). */
export async function readBack(sim: ClusterModeSim, workload: ClusterWorkload, seed: number): Promise<Map<string, ReadBack> | string> {
  const random = seededRandom(seed, 'cluster-readback');
  const client = new ClusterClient(sim.scheduler, (a) => sim.lifeAt(a), sim.addresses, (n) => random.int(n));
  const out = new Map<string, ReadBack>();
  try {
    for (const key of workload.keys()) {
      const o = await client.run(key, key.startsWith('s:') ? ['SMEMBERS', key] : ['GET', key]);
      if (o.kind !== 'ok' || o.reply instanceof ReplyError) return `read of ${key} failed: ${o.kind === 'ok' ? String((o.reply as ReplyError).message) : o.kind === 'refused' ? o.message : o.why}`;
      out.set(key, { reply: o.reply, version: null, node: o.life.node });
      const e = o.life.server.keyspace.db(0).keys.get(key);
      if (e?.crdt) out.get(key)!.version = [e.crdt.ts, e.crdt.origin, e.crdt.gen];
    }
  } finally {
    client.close();
  }
  return out;
}

function cmp(a: Version, b: Version): number {
  return compareVersion(a[0], a[1], a[2], b[0], b[1], b[2]);
}

function sameWrite(a: Version, b: Version): boolean {
  return a[0] === b[0] && a[1] === b[1];
}

/** Lives that crashed; and per key, the point before which its data may be lost with a move's target that crashed. */
interface Exempt {
  crashed: Set<number>;
  /** key -> order of the latest move to a target life that crashed (what moved may be gone with it). */
  lostWithMove: Map<string, number>;
}

function exemptions(sim: ClusterModeSim, moves: SlotMove[]): Exempt {
  const crashed = new Set(sim.lives.filter((l) => l.crashed).map((l) => l.index));
  const lostWithMove = new Map<string, number>();
  for (const m of moves) if (crashed.has(m.target)) for (const k of m.keys) lostWithMove.set(k.key, m.order);
  return { crashed, lostWithMove };
}

/** Must this acknowledged write survive? Not when its node crashed (no persistence), nor when a later move's target crashed. */
function mustSurvive(e: Exempt, o: Stamp & { key: string }): boolean {
  return o.status === 'acked' && !e.crashed.has(o.life) && o.order > (e.lostWithMove.get(o.key) ?? -1);
}

export function checkData(sim: ClusterModeSim, w: ClusterWorkload, read: Map<string, ReadBack>): string[] {
  const e = exemptions(sim, w.moves);
  const out: string[] = [];
  for (const key of w.keys()) {
    if (key.startsWith('r:')) out.push(...checkRegister(key, w, read.get(key)!, e));
  }
  for (let i = 0; i < COUNTERS; i++) out.push(...checkCounter(counterKey(i), w, read.get(counterKey(i))!, e));
  for (let i = 0; i < SETS; i++) out.push(...checkSet(setKey(i), w, read.get(setKey(i))!, e));
  return out;
}

/** A state of a register at some point: its version and value (null: absent). */
interface RegisterState {
  version: Version | null;
  value: string | null;
}

/**
 * A register is written by one client at a time; slot moves re-stamp it
 * (RESTORE makes a new version on the target), so its history is cut into
 * segments at the moves of its slot. Each segment ends in a state (the
 * source's at the move, or the final one) that must be at or above every
 * version acknowledged in the segment, and be a write some client or move made.
 */
function checkRegister(key: string, w: ClusterWorkload, final: ReadBack, e: Exempt): string[] {
  const writes = w.registers.filter((o) => o.key === key);
  const restores: RegisterWrite[] = [];
  const out: string[] = [];
  let from = -1;
  let start: RegisterWrite[] = [];
  for (const m of w.moves.filter((x) => x.slot === keyHashSlot(key))) {
    const k = m.keys.find((x) => x.key === key);
    const segment = [...start, ...writes.filter((o) => o.order > from && o.order < m.order)];
    const state: RegisterState = k === undefined ? { version: null, value: null } : { version: k.from, value: k.value };
    out.push(...judgeRegister(`${key} when slot ${m.slot} moved at ${m.timeMs}`, state, segment, writes, restores, e));
    start = [];
    if (k !== undefined) {
      // The copy on the target is a new version of the same value, acknowledged by the target.
      start = [{ key, value: k.value!, status: 'acked', version: k.to, life: m.target, order: m.order, timeMs: m.timeMs }];
      restores.push(start[0]!);
    }
    from = m.order;
  }
  const segment = [...start, ...writes.filter((o) => o.order > from)];
  const value = typeof final.reply === 'string' ? final.reply : null;
  out.push(...judgeRegister(`${key} (final, on ${final.node})`, { version: value === null ? null : final.version, value }, segment, writes, restores, e));
  return out;
}

function judgeRegister(what: string, state: RegisterState, segment: RegisterWrite[], all: RegisterWrite[], restores: RegisterWrite[], e: Exempt): string[] {
  const sure = segment.filter((o) => mustSurvive(e, o));
  const floor = sure.reduce<Version | null>((m, o) => (m === null || cmp(o.version!, m) > 0 ? o.version! : m), null);
  if (state.version === null || state.value === null) return floor === null ? [] : [`${what}: gone, but version ${JSON.stringify(floor)} was acknowledged`];
  if (floor !== null && cmp(state.version, floor) < 0) return [`${what}: version ${JSON.stringify(state.version)} below acknowledged ${JSON.stringify(floor)}`];
  const known = [...all, ...restores].find((o) => o.version !== null && sameWrite(o.version, state.version!));
  if (known !== undefined) return known.value === state.value ? [] : [`${what}: value ${state.value}, but version ${JSON.stringify(state.version)} wrote ${known.value}`];
  if (all.some((o) => o.status === 'unknown' && o.value === state.value)) return [];
  return [`${what}: value ${state.value} (version ${JSON.stringify(state.version)}) was never written`];
}

/** A counter: the sum of increments that must survive, at most the sum of all that may have applied. */
function checkCounter(key: string, w: ClusterWorkload, final: ReadBack, e: Exempt): string[] {
  const ops = w.increments.filter((o) => o.key === key);
  const total = ops.reduce((s, o) => s + o.amount, 0);
  const sure = ops.filter((o) => mustSurvive(e, o)).reduce((s, o) => s + o.amount, 0);
  const value = final.reply === null ? 0 : Number(final.reply);
  if (!Number.isInteger(value) || value < sure || value > total) return [`${key} on ${final.node}: ${String(final.reply)}, expected ${sure}..${total}`];
  return [];
}

/** A set: every member that must survive is there, and nothing never added. */
function checkSet(key: string, w: ClusterWorkload, final: ReadBack, e: Exempt): string[] {
  const ops = w.members.filter((o) => o.key === key);
  const present = new Set(Array.isArray(final.reply) ? (final.reply as string[]) : []);
  const added = new Set(ops.map((o) => o.member));
  const lost = ops.filter((o) => mustSurvive(e, o) && !present.has(o.member));
  const foreign = [...present].filter((m) => !added.has(m));
  const out: string[] = [];
  if (lost.length > 0) out.push(`${key} on ${final.node}: lost acknowledged members ${lost.slice(0, 5).map((o) => o.member).join(',')} (${lost.length})`);
  if (foreign.length > 0) out.push(`${key} on ${final.node}: members never added ${foreign.slice(0, 5).join(',')}`);
  return out;
}

// ---- (4) redirects ---------------------------------------------------------------

/** A client that knows nothing, starting at a random node, reaches each key's owner within 2 redirects. */
export async function checkRedirects(sim: ClusterModeSim, keys: string[], seed: number): Promise<string[]> {
  const random = seededRandom(seed, 'cluster-redirects');
  const out: string[] = [];
  for (const key of keys) {
    const client = new ClusterClient(sim.scheduler, (a) => sim.lifeAt(a), sim.addresses, (n) => random.int(n));
    const o = await client.run(key, ['EXISTS', key]);
    client.close();
    const owner = clusterOf(sim.running()[0]!).state.ownerOf(keyHashSlot(key));
    if (o.kind !== 'ok' || o.reply instanceof ReplyError) out.push(`${key}: ${o.kind === 'ok' ? (o.reply as ReplyError).message : o.kind === 'refused' ? o.message : o.why}`);
    else if (o.redirects > 2) out.push(`${key}: ${o.redirects} redirects`);
    else if (clusterOf(o.life).myself.id !== owner?.id) out.push(`${key}: answered by ${o.life.node}, not the owner`);
  }
  return out;
}

// ---- (4b) redirects during a slot migration ------------------------------------

/** A fresh client's outcome for one command, as "node/redirects" or the refusal; its redirects are tallied. */
async function freshRun(sim: ClusterModeSim, random: () => number, tally: Record<string, number>, key: string, args: (string | number)[]): Promise<string> {
  const client = new ClusterClient(sim.scheduler, (a) => sim.lifeAt(a), sim.addresses, (n) => Math.floor(random() * n));
  const o = await client.run(key, args);
  client.close();
  for (const k of ['moved', 'asked', 'refused'] as const) tally[`migrationCheck_${k}`] = (tally[`migrationCheck_${k}`] ?? 0) + client.count[k];
  if (o.kind === 'unknown') return `unknown: ${o.why}`;
  if (o.kind === 'refused') return `refused: ${o.message.split(' ')[0]}`;
  return o.reply instanceof ReplyError ? `error: ${o.reply.message}` : `${o.life.node}/${o.redirects}`;
}

/**
 * With every node healed, one slot is half migrated (IMPORTING/MIGRATING,
 * one of its keys moved): fresh clients must reach the source for a key
 * still there, the target (by -ASK) for the moved key and for a new key,
 * get -TRYAGAIN for a multi-key command spanning both, all within 2
 * redirects; once the slot is closed, the target for every key.
 */
export async function checkMigration(sim: ClusterModeSim, seed: number, tally: Record<string, number>): Promise<string[]> {
  const r = seededRandom(seed, 'cluster-migration');
  const random = (): number => r.next();
  // A manual failover started just before the faults ended may still hold writes (and change roles).
  if (!(await writesFlow(sim))) return ['writes still paused (manual failover) long after healing'];
  const primaries = sim.running().filter((l) => clusterOf(l).myself.isPrimary && clusterOf(l).myself.slots.count > 0);
  if (primaries.length < 2) return [];
  const source = primaries[r.int(primaries.length)]!;
  const target = primaries.find((l) => l !== source)!;
  const slot = clusterOf(source).myself.slots.ranges()[0]![0];
  const tag = `{${tagFor(slot)}}`;
  const [stay, go, fresh] = [`${tag}stay`, `${tag}go`, `${tag}new`];
  for (const k of [stay, go]) if (failed(call(source, 'SET', k, k)) !== null) return [`SET ${k} on the slot owner failed`];
  const opened = failed(call(target, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', clusterOf(source).myself.id)) ?? failed(call(source, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', clusterOf(target).myself.id));
  if (opened !== null) return [`opening slot ${slot}: ${opened}`];
  const moved = copyKey(go, source, target);
  if (typeof moved === 'string') return [`moving ${go}: ${moved}`];
  const out: string[] = [];
  const expect = async (what: string, key: string, args: (string | number)[], ok: (got: string) => boolean): Promise<void> => {
    const got = await freshRun(sim, random, tally, key, args);
    if (!ok(got)) out.push(`slot ${slot} migrating ${source.node} -> ${target.node}: ${what} got ${got}`);
  };
  const at = (l: Life) => (got: string) => new RegExp(`^${l.node}/[0-2]$`).test(got);
  await expect(`GET ${stay}`, stay, ['GET', stay], at(source));
  await expect(`GET ${go}`, go, ['GET', go], at(target));
  await expect(`SET ${fresh}`, fresh, ['SET', fresh, 'x'], at(target));
  await expect(`MGET ${stay} ${go}`, stay, ['MGET', stay, go], (got) => got === 'refused: TRYAGAIN');
  out.push(...(await closeMigration(sim, slot, source, target, [stay, go, fresh], random, tally)));
  return out;
}

/** Moves what is left, SETSLOT NODE on every primary, then every key is reached at the target. */
async function closeMigration(sim: ClusterModeSim, slot: number, source: Life, target: Life, keys: string[], random: () => number, tally: Record<string, number>): Promise<string[]> {
  if (!(await writesFlow(sim))) return ['writes still paused (manual failover) long after healing'];
  const left = call(source, 'CLUSTER', 'GETKEYSINSLOT', slot, 1000);
  for (const k of Array.isArray(left) ? (left as string[]) : []) {
    const moved = copyKey(k, source, target);
    if (typeof moved === 'string') return [`moving ${k}: ${moved}`];
  }
  for (const l of [target, source, ...sim.running().filter((x) => x !== source && x !== target && clusterOf(x).myself.isPrimary)]) {
    const err = failed(call(l, 'CLUSTER', 'SETSLOT', slot, 'NODE', clusterOf(target).myself.id));
    if (err !== null) return [`closing slot ${slot} on ${l.node}: ${err}`];
  }
  const out: string[] = [];
  for (const k of keys) {
    const got = await freshRun(sim, random, tally, k, ['GET', k]);
    if (!new RegExp(`^${target.node}/[0-2]$`).test(got)) out.push(`slot ${slot} after moving to ${target.node}: GET ${k} got ${got}`);
  }
  return out;
}

/**
 * Waits until no node holds writes for a manual failover (at most its 5 s
 * timeout): the operator's key copies run on synchronous admin connections.
 */
function writesFlow(sim: ClusterModeSim): Promise<boolean> {
  return waitUntil(sim.scheduler, 10_000, 50, () => sim.running().every((l) => l.server.pauseKind === null));
}

/** A hash tag whose slot is `slot` (the first "t<n>" that hashes there). */
function tagFor(slot: number): string {
  for (let i = 0; ; i++) if (keyHashSlot(`t${i}`) === slot) return `t${i}`;
}
