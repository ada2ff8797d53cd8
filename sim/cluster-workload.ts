import { keyHashSlot } from '../src/cluster/slots.js';
import type { SeededRandom } from '../src/runtime/random.js';
import { ReplyError, type Reply } from './client.js';
import { ClusterClient, type Outcome } from './cluster-client.js';
import type { Life } from './cluster.js';
import { type ClusterModeSim, clusterOf, waitUntil } from './cluster-mode.js';
import { seededRandom } from './runtime/index.js';
import { type Version, versionOf } from './workload.js';

/**
 * Cluster traffic and what it acknowledged. Each logical client runs one
 * command at a time through its own ClusterClient: SETs of unique values to
 * keys only it writes, INCRBYs of shared counters, SADDs of unique members
 * to shared sets, GETs of its own keys. An operator moves slots now and then
 * (keys copied with DUMP + RESTORE-ASKING + DEL inside one event, since the
 * sim has no socket for MIGRATE) and starts manual failovers.
 */

/** acked: the client got the success reply; unknown: no reply (maybe applied). Refused commands are not recorded. */
export type Status = 'acked' | 'unknown';

/** Who acknowledged a write (life index, -1 unknown) and its place in the run's sequence of replies and slot moves. */
export interface Stamp {
  status: Status;
  life: number;
  order: number;
  timeMs: number;
}

export interface RegisterWrite extends Stamp {
  key: string;
  value: string;
  /** The key's version on the acknowledging node as it replied (acked only). */
  version: Version | null;
}

export interface Increment extends Stamp {
  key: string;
  amount: number;
}

export interface MemberAdd extends Stamp {
  key: string;
  member: string;
}

/** One slot move; per key moved, its version on the source before and on the target after. */
export interface SlotMove {
  slot: number;
  order: number;
  timeMs: number;
  source: number;
  target: number;
  keys: { key: string; from: Version; to: Version; value: string | null }[];
}

export interface WorkloadParams {
  clients: number;
  opIntervalMs: number;
  moveMeanMs: number;
  failoverMeanMs: number;
  /** Whether slots holding a set may move (see drawClusterParams). */
  moveCollections: boolean;
}

export const REGISTERS_PER_CLIENT = 4;
export const COUNTERS = 4;
export const SETS = 3;
const MAX_KEYS_PER_MOVE = 1000;
const RETRY_BACKOFF_MS = 100;

interface ClientState {
  id: number;
  client: ClusterClient;
  random: SeededRandom;
  seq: number;
}

export class ClusterWorkload {
  readonly registers: RegisterWrite[] = [];
  readonly increments: Increment[] = [];
  readonly members: MemberAdd[] = [];
  readonly moves: SlotMove[] = [];
  readonly failures: string[] = [];
  readonly ops: Record<string, number> = {};
  private readonly clients: ClientState[] = [];
  /** "key=value" of every SET sent (acknowledged or not): what a GET may return. */
  private readonly written = new Set<string>();
  private readonly admin: SeededRandom;
  private stopped = false;
  private active = 0;
  private order = 0;

  constructor(
    private readonly sim: ClusterModeSim,
    seed: number,
    private readonly params: WorkloadParams,
  ) {
    this.admin = seededRandom(seed, 'cluster-admin');
    for (let id = 0; id < params.clients; id++) {
      const random = seededRandom(seed, `cluster-client-${id}`);
      const client = new ClusterClient(sim.scheduler, (a) => sim.lifeAt(a), sim.addresses, (n) => random.int(n));
      this.clients.push({ id, client, random, seq: 0 });
    }
  }

  /** Every key the workload touches (for the read-back and for picking slots to move). */
  keys(): string[] {
    const out: string[] = [];
    for (const c of this.clients) for (let i = 0; i < REGISTERS_PER_CLIENT; i++) out.push(registerKey(c.id, i));
    for (let i = 0; i < COUNTERS; i++) out.push(counterKey(i));
    for (let i = 0; i < SETS; i++) out.push(setKey(i));
    return out;
  }

  start(): void {
    for (const c of this.clients) {
      this.active++;
      void this.loop(c)
        .catch((err: Error) => this.failures.push(`client ${c.id} threw: ${err.stack ?? String(err)}`))
        .finally(() => this.active--);
    }
    this.recur(this.params.moveMeanMs, () => this.moveSomeSlot());
    this.recur(this.params.failoverMeanMs, () => this.manualFailover());
  }

  /** Stops new commands; resolves once every client's last command ended (replies time out in bounded time). */
  async stop(budgetMs: number): Promise<boolean> {
    this.stopped = true;
    return waitUntil(this.sim.scheduler, budgetMs, 50, () => this.active === 0);
  }

  clientCounters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.clients) for (const [k, v] of Object.entries(c.client.count)) out[k] = (out[k] ?? 0) + v;
    return out;
  }

  close(): void {
    for (const c of this.clients) c.client.close();
  }

  private count(what: string): void {
    this.ops[what] = (this.ops[what] ?? 0) + 1;
  }

  private async loop(c: ClientState): Promise<void> {
    await c.client.refresh();
    while (!this.stopped) {
      const refused = c.client.count.refused + c.client.count.unreachable;
      await this.step(c);
      // A refused command is retried after a pause, as clients back off while the cluster reconfigures.
      const backoff = c.client.count.refused + c.client.count.unreachable > refused ? RETRY_BACKOFF_MS : 0;
      await this.sleep(backoff + 1 + c.random.int(2 * this.params.opIntervalMs));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.sim.scheduler.after(ms, resolve));
  }

  private step(c: ClientState): Promise<void> {
    const r = c.random.next();
    if (r < 0.35) return this.set(c);
    if (r < 0.6) return this.incr(c);
    if (r < 0.8) return this.sadd(c);
    return this.get(c);
  }

  private set(c: ClientState): Promise<void> {
    const key = registerKey(c.id, c.random.int(REGISTERS_PER_CLIENT));
    const value = `${c.id}.${++c.seq}`;
    this.written.add(`${key}=${value}`);
    const record = (life: Life | null, status: Status): RegisterWrite => ({ key, value, status, version: life && versionOf(life, key), ...this.stamp(life) });
    return this.write(c, key, ['SET', key, value], (r) => r === 'OK', record, this.registers);
  }

  private incr(c: ClientState): Promise<void> {
    const key = counterKey(c.random.int(COUNTERS));
    const amount = 1 + c.random.int(10);
    const record = (life: Life | null, status: Status): Increment => ({ key, amount, status, ...this.stamp(life) });
    return this.write(c, key, ['INCRBY', key, amount], (r) => typeof r === 'number', record, this.increments);
  }

  private sadd(c: ClientState): Promise<void> {
    const key = setKey(c.random.int(SETS));
    const member = `${c.id}.${++c.seq}`;
    const record = (life: Life | null, status: Status): MemberAdd => ({ key, member, status, ...this.stamp(life) });
    return this.write(c, key, ['SADD', key, member], (r) => r === 1, record, this.members);
  }

  /** Who acknowledged, and where in the run's order of replies and moves. */
  private stamp(life: Life | null): Omit<Stamp, 'status'> {
    return { life: life?.index ?? -1, order: this.order++, timeMs: this.sim.scheduler.nowMs };
  }

  /**
   * Runs a write and records it: acknowledged ones at the reply itself (the
   * node's version of the key then, and the order against slot moves), ones
   * without a reply as unknown, refused ones not at all.
   */
  private async write<T>(c: ClientState, key: string, args: (string | number)[], ok: (r: Reply) => boolean, record: (life: Life | null, status: Status) => T, into: T[]): Promise<void> {
    const box: { acked: T | null } = { acked: null };
    const o = await c.client.run(key, args, (life, reply) => {
      if (ok(reply)) box.acked = record(life, 'acked');
    });
    const status = this.statusOf(o, String(args[0]).toLowerCase(), ok);
    if (status === 'acked') into.push(box.acked!);
    else if (status === 'unknown') into.push(record(null, 'unknown'));
  }

  /** A read of one's own key returns a value this client wrote to it (or nothing). */
  private async get(c: ClientState): Promise<void> {
    const key = registerKey(c.id, c.random.int(REGISTERS_PER_CLIENT));
    const o = await c.client.run(key, ['GET', key]);
    if (this.statusOf(o, 'get', (r) => r === null || typeof r === 'string') !== 'acked' || o.kind !== 'ok') return;
    if (o.reply !== null && !this.written.has(`${key}=${o.reply}`)) {
      this.failures.push(`GET ${key} on ${o.life.node} returned ${String(o.reply)}, never written`);
    }
  }

  /** acked / unknown / null (refused: not applied); an unexpected reply is a failure. */
  private statusOf(o: Outcome, what: string, expected: (r: Reply) => boolean): Status | null {
    if (o.kind === 'unknown') {
      this.count(`${what}Unknown`);
      return 'unknown';
    }
    if (o.kind === 'refused') {
      this.count(`${what}Refused`);
      return null;
    }
    if (expected(o.reply)) {
      this.count(`${what}Acked`);
      return 'acked';
    }
    this.failures.push(`${what} on ${o.life.node} answered ${o.reply instanceof ReplyError ? o.reply.message : JSON.stringify(o.reply)}`);
    return null;
  }

  // ---- the operator ---------------------------------------------------------

  /** Runs `act` at exponential gaps around meanMs while the workload runs. */
  private recur(meanMs: number, act: () => void): void {
    if (meanMs <= 0) return;
    const gapMs = Math.round(-Math.log(1 - this.admin.next()) * meanMs);
    this.sim.scheduler.after(gapMs, () => {
      if (this.stopped) return;
      act();
      this.recur(meanMs, act);
    });
  }

  /** CLUSTER FAILOVER on a random replica whose primary is up. */
  private manualFailover(): void {
    const replicas = this.sim.running().filter((l) => clusterOf(l).myself.isReplica);
    if (replicas.length === 0) return;
    const life = replicas[this.admin.int(replicas.length)]!;
    const reply = life.client.call('CLUSTER', 'FAILOVER');
    this.count(reply instanceof ReplyError ? 'failoverRefused' : 'failoverStarted');
    this.sim.note(`operator CLUSTER FAILOVER on ${life.node}: ${reply instanceof ReplyError ? reply.message : String(reply)}`);
  }

  /** Moves a slot (usually one holding workload keys) between two primaries, as an operator would. */
  private moveSomeSlot(): void {
    const keys = this.keys();
    const slot = this.admin.next() < 0.8 ? keyHashSlot(keys[this.admin.int(keys.length)]!) : this.admin.int(16384);
    if (!this.params.moveCollections && keys.some((k) => k.startsWith('s:') && keyHashSlot(k) === slot)) return this.count('moveSkipped');
    const source = this.sim.running().find((l) => ownsInOwnView(l, slot));
    const targets = this.sim.running().filter((l) => l !== source && clusterOf(l).myself.isPrimary && clusterOf(l).myself.slots.count > 0);
    if (source === undefined || targets.length === 0) return this.count('moveSkipped');
    const target = targets[this.admin.int(targets.length)]!;
    if (!this.healthy(source) || !this.healthy(target)) return this.count('moveSkipped');
    if (!configAgreed(this.sim.running())) return this.count('moveDisagreed');
    const move = migrateSlot(slot, source, target, this.sim.running());
    if (move === null) this.count('moveRefused');
    else if (typeof move === 'string') this.failures.push(`moving slot ${slot} from ${source.node} to ${target.node}: ${move}`);
    else {
      this.moves.push({ ...move, order: this.order++, timeMs: this.sim.scheduler.nowMs });
      this.sim.note(`operator moved slot ${slot} from ${source.node} to ${target.node} with keys ${move.keys.map((k) => k.key).join(',')}`);
      this.count('slotsMoved');
      this.ops.keysMoved = (this.ops.keysMoved ?? 0) + move.keys.length;
    }
  }

  /** An operator moves slots only between nodes that see the cluster ok and run writes now (not paused, not loading). */
  private healthy(l: Life): boolean {
    return clusterOf(l).state.state === 'ok' && l.server.pauseKind === null && l.server.replication?.loading !== true;
  }
}

/**
 * redis-cli reshards only when every node agrees about the configuration
 * ("Nodes don't agree about configuration!"): the same slots for each node.
 * This operator also wants the same config epochs. Without them a target
 * could close an import with an epoch below one the source had just taken
 * for another slot; the source's claims still in flight then took the slot
 * back everywhere, and the source itself, which had given it away, did not
 * serve it (cluster seed 6460; Redis's rules end the same way).
 */
function configAgreed(running: readonly Life[]): boolean {
  let agreed: string | null = null;
  for (const l of running) {
    const signature = configSignature(l);
    if (signature === null || (agreed !== null && signature !== agreed)) return false;
    agreed = signature;
  }
  return true;
}

/** A node's CLUSTER NODES reduced to what the nodes must agree on: each node's id, config epoch and slots. */
function configSignature(l: Life): string | null {
  const nodes = call(l, 'CLUSTER', 'NODES');
  if (typeof nodes !== 'string') return null;
  const lines = nodes.trim().split('\n');
  // Fields: id, address, flags, primary, ping sent, pong received, config epoch, link state, then slots (and [migrations]).
  return lines
    .map((line) => {
      const f = line.split(' ');
      return [f[0], f[6], ...f.slice(8).filter((s) => !s.startsWith('['))].join(' ');
    })
    .sort()
    .join('\n');
}

function ownsInOwnView(l: Life, slot: number): boolean {
  const cl = clusterOf(l);
  return cl.myself.isPrimary && cl.state.ownerOf(slot) === cl.myself;
}

export function registerKey(client: number, i: number): string {
  return `r:${client}:${i}`;
}
export function counterKey(i: number): string {
  return `c:${i}`;
}
export function setKey(i: number): string {
  return `s:${i}`;
}

/** Sends one command on a node's admin connection; an error reply is returned as its text. */
export function call(l: Life, ...args: (string | number)[]): Reply {
  return l.client.call(...args);
}

export function failed(r: Reply): string | null {
  return r instanceof ReplyError ? r.message : null;
}

/**
 * redis-cli --cluster reshard for one slot, with the keys copied by the
 * operator: IMPORTING on the target, MIGRATING on the source, each key
 * DUMPed, RESTORE-ASKING'd and DELeted, then SETSLOT NODE on the target,
 * the source and every other primary. Runs inside one event, so no client
 * command interleaves with a key's copy and delete (MIGRATE is atomic too).
 */
function migrateSlot(slot: number, source: Life, target: Life, all: Life[]): Omit<SlotMove, 'timeMs' | 'order'> | string | null {
  const srcId = clusterOf(source).myself.id;
  const tgtId = clusterOf(target).myself.id;
  // The target may refuse (its view differs from the source's): the operator backs out, nothing moved.
  const opened = failed(call(target, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', srcId)) ?? failed(call(source, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', tgtId));
  if (opened !== null) {
    call(target, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
    call(source, 'CLUSTER', 'SETSLOT', slot, 'STABLE');
    return null;
  }
  const keys: SlotMove['keys'] = [];
  const listed = call(source, 'CLUSTER', 'GETKEYSINSLOT', slot, MAX_KEYS_PER_MOVE);
  if (!Array.isArray(listed)) return `GETKEYSINSLOT answered ${failed(listed)}`;
  for (const key of listed as string[]) {
    const moved = copyKey(key, source, target);
    if (typeof moved === 'string') return `key ${key}: ${moved}`;
    keys.push(moved);
  }
  for (const l of [target, source, ...all.filter((x) => x !== source && x !== target && clusterOf(x).myself.isPrimary)]) {
    const err = failed(call(l, 'CLUSTER', 'SETSLOT', slot, 'NODE', tgtId));
    if (err !== null && (l === source || l === target)) return `closing on ${l.node}: ${err}`;
  }
  return { slot, source: source.index, target: target.index, keys };
}

export function copyKey(key: string, source: Life, target: Life): SlotMove['keys'][number] | string {
  const from = versionOf(source, key);
  const payload = call(source, 'DUMP', key);
  if (typeof payload !== 'string' || from === null) return `DUMP answered ${JSON.stringify(payload)}`;
  const type = source.server.keyspace.db(0).keys.get(key)!.type;
  const value = type === 'string' ? String(source.server.keyspace.db(0).keys.get(key)!.value) : null;
  const restored = failed(call(target, 'RESTORE-ASKING', key, 0, payload, 'REPLACE'));
  if (restored !== null) return `RESTORE-ASKING: ${restored}`;
  const deleted = call(source, 'DEL', key);
  if (deleted !== 1) return `DEL answered ${JSON.stringify(deleted)}`;
  return { key, from, to: versionOf(target, key)!, value };
}
