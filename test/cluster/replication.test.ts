import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, peerLines, StrataCluster, type StrataProcess } from '../helpers/processes.js';
import type { NodeRedisClient } from '../helpers/server.js';
import { differences, snapshot, type Snapshot } from './keyspace.js';

/**
 * Three real strata-server processes on 127.0.0.1-3 replicating to each
 * other: writes anywhere show up everywhere, counters add up, SET/DEL races
 * converge, and a node killed with SIGKILL (it comes back empty, with a new
 * run id) recovers everything from its peers. Nothing here asserts speed:
 * every wait polls a condition with a generous bound (PATIENCE_MS).
 */

/** A command sender, so one scenario runs over ioredis and node-redis alike. */
type Send = (...args: (string | number)[]) => Promise<unknown>;

function viaIoredis(c: Redis): Send {
  return (cmd, ...rest) => c.call(String(cmd), ...rest.map(String));
}

function viaNodeRedis(c: NodeRedisClient): Send {
  return (...args) => c.sendCommand(args.map(String));
}

/** mulberry32: seeded, so a failing run's random choices (not its interleavings) can be reused from the seed it logged. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env.STRATA_SEED ?? Date.now() % 2 ** 31);
const random = seeded(SEED);
const randomInt = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Until every node returns the same thing for `read`; returns that common value. */
async function agreed<T>(what: string, nodes: readonly StrataProcess[], read: (n: StrataProcess) => Promise<T>): Promise<T> {
  let common: T | undefined;
  await eventually(what, async () => {
    const seen = await Promise.all(nodes.map(read));
    const texts = seen.map((s) => JSON.stringify(s));
    const odd = texts.findIndex((t) => t !== texts[0]);
    if (odd >= 0) return `${nodes[0]!.label} has ${texts[0]!.slice(0, 300)}, ${nodes[odd]!.label} has ${texts[odd]!.slice(0, 300)}`;
    common = seen[0];
    return null;
  });
  return common!;
}

/** Until all nodes hold identical keyspaces (full SCAN + value + expire time per key); returns it. */
async function converged(nodes: readonly StrataProcess[]): Promise<Snapshot> {
  const readers = nodes.map((n) => n.ioredis());
  let common: Snapshot | undefined;
  try {
    await eventually('all nodes hold identical keyspaces', async () => {
      const snaps = await Promise.all(readers.map(snapshot));
      for (let i = 1; i < snaps.length; i++) {
        const d = differences(snaps[0]!, snaps[i]!);
        if (d !== null) return `${nodes[0]!.label} vs ${nodes[i]!.label}: ${d}`;
      }
      common = snaps[0];
      return null;
    });
  } catch (err) {
    // What each node thinks of its peers is the first thing to look at when they do not converge.
    const states = await Promise.all(
      nodes.map(async (n) => `${n.label}:\n${replicationLines(await n.info('replication'))}\n  last log lines:\n${n.recentOutput(5)}`),
    );
    throw new Error(`${(err as Error).message}\n${states.join('\n')}`);
  } finally {
    for (const r of readers) r.disconnect();
  }
  return common!;
}

function replicationLines(info: Map<string, string>): string {
  return [...info].filter(([k]) => /^(peer|tombstones|rejected|delta_log)/.test(k)).map(([k, v]) => `  ${k}:${v}`).join('\n');
}

async function dbsize(n: StrataProcess): Promise<number> {
  return Number(await n.command('DBSIZE'));
}

/**
 * Null once INFO replication of every node is clean: no message refused,
 * every link up, and every peer has acknowledged all of the node's deltas
 * and told it of the peer's newest, all applied.
 */
async function replicationSettled(nodes: readonly StrataProcess[]): Promise<string | null> {
  for (const n of nodes) {
    const info = await n.info('replication');
    if (info.get('rejected_messages') !== '0') return `${n.label} refused ${info.get('rejected_messages')} messages`;
    for (const p of peerLines(info)) {
      if (p.link !== 'up' || p.lag_deltas !== '0' || p.applied_seq !== p.peer_seq) return `${n.label} peer ${p.addr}: ${JSON.stringify(p)}`;
    }
  }
  return null;
}

// ---- the kill -9 scenario's writers ---------------------------------------

/** What a writer expects of one of its keys after its last acknowledged command. */
interface Expected {
  value: string | null;
  ttl: boolean;
}

/**
 * One client writing its own keys (so nothing another writer does can
 * change them) with a window of commands in flight on its connection.
 * Replies come back in command order, so recording each acknowledgement as
 * it arrives leaves `acked` holding the effect of the last acknowledged
 * command per key. The first error (its node was killed) ends the writer.
 */
class Writer {
  readonly acked = new Map<string, Expected>();
  /** Highest INCRBY reply on the writer's counter: the value it must end with. */
  counter = 0;
  ops = 0;
  error: Error | null = null;
  private n = 0;
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    readonly name: string,
    readonly node: StrataProcess,
    private readonly send: Send,
    window = 16,
  ) {
    this.done = Promise.all(Array.from({ length: window }, () => this.loop())).then(() => undefined);
  }

  get counterKey(): string {
    return `kill:${this.name}:ctr`;
  }

  stop(): Promise<void> {
    this.stopped = true;
    return this.done;
  }

  private async loop(): Promise<void> {
    while (!this.stopped && this.error === null) {
      const n = this.n++;
      const [args, record] = this.command(n);
      try {
        record(await this.send(...args));
        this.ops++;
      } catch (err) {
        this.error ??= err as Error;
      }
    }
  }

  /** Mostly SETs of fresh keys, some with a TTL; some DELs of earlier keys; some INCRBYs. */
  private command(n: number): [(string | number)[], (reply: unknown) => void] {
    const key = `kill:${this.name}:${n}`;
    if (n % 8 === 7) {
      return [['INCRBY', this.counterKey, randomInt(1, 9)], (r) => (this.counter = Math.max(this.counter, Number(r)))];
    }
    if (n % 7 === 6 && n >= 5) {
      const old = `kill:${this.name}:${n - 5}`;
      return [['DEL', old], () => this.acked.set(old, { value: null, ttl: false })];
    }
    const value = `${n}-${randomInt(0, 1e9)}`;
    if (n % 5 === 4) return [['SET', key, value, 'PX', 3_600_000], () => this.acked.set(key, { value, ttl: true })];
    return [['SET', key, value], () => this.acked.set(key, { value, ttl: false })];
  }
}

async function startWriters(node: StrataProcess, tag: string): Promise<Writer[]> {
  return [new Writer(`${tag}io`, node, viaIoredis(node.ioredis())), new Writer(`${tag}nr`, node, viaNodeRedis(await node.nodeRedis(3)))];
}

/** Until every writer acknowledged `more` commands beyond what it had when this was called. */
async function progressed(writers: readonly Writer[], more: number): Promise<void> {
  const goal = writers.map((w) => w.ops + more);
  await eventually(`writers acknowledge ${more} more commands`, async () => {
    const dead = writers.find((w) => w.error !== null);
    if (dead) throw new Error(`writer ${dead.name} failed: ${dead.error!.message}`);
    const behind = writers.findIndex((w, i) => w.ops < goal[i]!);
    return behind < 0 ? null : `${writers[behind]!.name} at ${writers[behind]!.ops}/${goal[behind]}`;
  });
}

/** How a writer's acknowledged effects differ from the final keyspace. */
function missingWrites(w: Writer, final: Snapshot): string[] {
  const bad: string[] = [];
  for (const [key, want] of w.acked) {
    const got = final.get(key);
    if (want.value === null) {
      if (got !== undefined) bad.push(`${key}: deleted, but holds ${got}`);
      continue;
    }
    const [type, expireAt, value] = got === undefined ? [] : got.split('|');
    if (type !== 'string' || value !== want.value) bad.push(`${key}: wrote ${want.value}, holds ${got ?? '(missing)'}`);
    else if (want.ttl !== Number(expireAt) > 0) bad.push(`${key}: TTL ${want.ttl ? 'lost' : 'appeared'} (${expireAt})`);
  }
  if (w.counter > 0) {
    const got = final.get(w.counterKey)?.split('|')[2];
    if (Number(got) !== w.counter) bad.push(`${w.counterKey}: INCRBY replied ${w.counter}, holds ${got ?? '(missing)'}`);
  }
  return bad;
}

// ---- the suite ----------------------------------------------------------------

// Sequential: the tests share one cluster and kill its nodes. The timeout only bounds a hung run (waits poll up to PATIENCE_MS each).
describe.sequential('replication between three strata-server processes', { timeout: 120_000 }, () => {
  let cluster: StrataCluster;
  const node = (i: number): StrataProcess => cluster.node(i);

  beforeAll(async () => {
    console.log(`replication.test.ts seed ${SEED} (STRATA_SEED=<seed> reuses it)`);
    cluster = await StrataCluster.start(3);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('makes a write on any node readable on the others, with ioredis and node-redis', async () => {
    // Each node writes every replicated type once, through alternating client libraries.
    const writers: Send[] = [viaIoredis(node(0).ioredis()), viaNodeRedis(await node(1).nodeRedis(2)), viaNodeRedis(await node(2).nodeRedis(3))];
    for (const [i, send] of writers.entries()) {
      const p = `rw:${i}:`;
      await send('SET', `${p}str`, `héllo ☃ from ${i}`);
      await send('SET', `${p}ttl`, 'expiring', 'PX', 600_000);
      await send('HSET', `${p}hash`, 'f1', 'v1', 'f2', 'v2');
      await send('RPUSH', `${p}list`, 'a', 'b', 'c');
      await send('SADD', `${p}set`, 'x', 'y', 'z');
      await send('ZADD', `${p}zset`, 1, 'one', 2.5, 'two');
      await send('INCRBY', `${p}counter`, 42);
    }
    // Readers of the other library than the writer's, on every node.
    const readers: Send[] = [viaNodeRedis(await node(0).nodeRedis(3)), viaIoredis(node(1).ioredis()), viaIoredis(node(2).ioredis())];
    // Replies as text: node-redis over RESP3 turns ZSCORE's double into a number, the others keep the bulk string.
    const text = (v: unknown): unknown => (typeof v === 'number' ? String(v) : v);
    const readAll = async (read: Send): Promise<unknown[]> => {
      const out: unknown[] = [];
      for (let i = 0; i < 3; i++) {
        const p = `rw:${i}:`;
        out.push(
          await read('GET', `${p}str`),
          await read('PEXPIRETIME', `${p}ttl`),
          await read('HGET', `${p}hash`, 'f2'),
          await read('LRANGE', `${p}list`, 0, -1),
          await read('SISMEMBER', `${p}set`, 'y'),
          await read('ZSCORE', `${p}zset`, 'two'),
          await read('GET', `${p}counter`),
        );
      }
      return out.map(text);
    };
    const everywhere = await agreed('every node reads every write', cluster.nodes, (n) => readAll(readers[cluster.nodes.indexOf(n)]!));
    expect(everywhere.filter((_, k) => k % 7 === 0)).toEqual(['héllo ☃ from 0', 'héllo ☃ from 1', 'héllo ☃ from 2']);
    expect(everywhere[3]).toEqual(['a', 'b', 'c']);
    expect(everywhere[5]).toBe('2.5');
    expect(everywhere[6]).toBe('42');
    expect(Number(everywhere[1])).toBeGreaterThan(Date.now());

    // And a DEL on one node removes the key on the others.
    await writers[1]!('DEL', 'rw:0:str', 'rw:2:hash');
    await agreed('the deletes reach every node', cluster.nodes, async (n) => n.command('EXISTS', 'rw:0:str', 'rw:2:hash'));
    expect(await node(0).command('EXISTS', 'rw:0:str', 'rw:2:hash')).toBe(0);
  });

  it('adds up concurrent INCRBY on all three nodes exactly', async () => {
    const keys = ['sum:a', 'sum:b', 'sum:c', 'sum:d'];
    const expected = new Map(keys.map((k) => [k, 0]));
    const plans = [0, 1, 2].map(() =>
      Array.from({ length: 500 }, () => {
        const key = keys[randomInt(0, keys.length - 1)]!;
        const by = randomInt(-100, 1000) || 1;
        expected.set(key, expected.get(key)! + by);
        return [key, by] as const;
      }),
    );
    const io0 = node(0).ioredis();
    const nr1 = await node(1).nodeRedis(2);
    const io2 = node(2).ioredis();
    // Whole plans in flight at once: ioredis as one explicit pipeline, node-redis by issuing without awaiting (it pipelines).
    const pipelined = (c: Redis, plan: (typeof plans)[0]) => c.pipeline(plan.map(([k, by]) => (by < 0 ? ['decrby', k, -by] : ['incrby', k, by]))).exec();
    const results = await Promise.all([
      pipelined(io0, plans[0]!),
      Promise.all(plans[1]!.map(([k, by]) => nr1.sendCommand(['INCRBY', k, String(by)]))),
      pipelined(io2, plans[2]!),
    ]);
    for (const r of [results[0], results[2]]) expect(r!.filter(([err]) => err !== null)).toEqual([]);

    const totals = await agreed('every node has the same counters', cluster.nodes, async (n) => {
      const [a, b, c, d] = (await n.command('MGET', ...keys)) as string[];
      return [a, b, c, d].map(Number);
    });
    expect(totals).toEqual(keys.map((k) => expected.get(k)));
  });

  it('moves keys by RENAME and MOVE right after writing them without bringing the old names back', async () => {
    // Each command awaited before the next: a write and its move land in different I/O rounds of
    // one replication batch, where a renamed entry once went out under its old name, and an
    // anti-entropy round then revived the old name on every node.
    const c = node(0).ioredis();
    const n = 40;
    const names = (p: string) => Array.from({ length: n }, (_, i) => `mv:${p}${i}`);
    for (let i = 0; i < n; i++) {
      await c.set(`mv:a${i}`, `v${i}`);
      await c.rename(`mv:a${i}`, `mv:b${i}`);
      await c.set(`mv:m${i}`, `m${i}`);
      await c.move(`mv:m${i}`, 1);
    }
    const db0 = cluster.nodes.map((x) => x.ioredis());
    const db1 = await Promise.all(cluster.nodes.map(async (x) => {
      const r = x.ioredis();
      await r.select(1);
      return r;
    }));
    const seen = await agreed('renamed and moved keys agree everywhere', cluster.nodes, async (x) => {
      const i = cluster.nodes.indexOf(x);
      return [await db0[i]!.mget(...names('a')), await db0[i]!.mget(...names('b')), await db0[i]!.mget(...names('m')), await db1[i]!.mget(...names('m'))];
    });
    const none = names('a').map(() => null);
    expect(seen).toEqual([none, names('b').map((_, i) => `v${i}`), none, names('m').map((_, i) => `m${i}`)]);
  });

  it('resolves SET/DEL races on the same keys identically on every node', async () => {
    const keys = Array.from({ length: 300 }, (_, i) => `race:${i}`);
    // Every key first exists everywhere, so the DELs have something to observe.
    await node(0).command('MSET', ...keys.flatMap((k) => [k, 'seed']));
    await agreed('the seed values reach every node', cluster.nodes, async (n) => n.command('MGET', ...keys));

    const a = viaIoredis(node(0).ioredis());
    const b = viaNodeRedis(await node(1).nodeRedis(3));
    const c = viaIoredis(node(2).ioredis());
    const written = new Set(['seed']);
    const racers: Promise<unknown>[] = [];
    // Three rounds without waiting in between; each node goes through the keys in its own order.
    for (let round = 0; round < 3; round++) {
      written.add(`a${round}`).add(`c${round}`);
      racers.push(...keys.map((k) => a('SET', k, `a${round}`)));
      racers.push(...[...keys].reverse().map((k) => b('DEL', k)));
      racers.push(...shuffled(keys).map((k, i) => (i % 2 ? c('SET', k, `c${round}`) : c('DEL', k))));
    }
    await Promise.all(racers);

    const final = (await agreed('every node resolves the races the same way', cluster.nodes, async (n) => n.command('MGET', ...keys))) as (string | null)[];
    const strays = final.filter((v) => v !== null && !written.has(v));
    expect(strays, 'values nobody wrote').toEqual([]);
    const deleted = final.filter((v) => v === null).length;
    console.log(`SET/DEL races: ${deleted} of ${keys.length} keys ended deleted, ${keys.length - deleted} set`);
  });

  it('collects the tombstones of deleted keys once every node holds them', async () => {
    // Deletes of its own, so the test does not depend on how the races above ended.
    const keys = Array.from({ length: 50 }, (_, i) => `gc:${i}`);
    await node(0).command('MSET', ...keys.flatMap((k) => [k, 'doomed']));
    await agreed('the keys reach every node', cluster.nodes, async (n) => n.command('EXISTS', ...keys));
    await node(2).command('DEL', ...keys);
    await agreed('the deletes reach every node', cluster.nodes, async (n) => n.command('EXISTS', ...keys));
    expect(await node(0).command('EXISTS', ...keys)).toBe(0);

    // Every node has every delete: anti-entropy rounds then let each of them drop its tombstones, for good.
    await eventually('every node collects its tombstones', async () => {
      const counts = await Promise.all(cluster.nodes.map(async (n) => (await n.info('replication')).get('tombstones')));
      return counts.every((t) => t === '0') ? null : `tombstones per node: ${counts.join(', ')}`;
    });
  });

  it('recovers a node killed with SIGKILL mid-stream and loses no write a surviving node acknowledged', async () => {
    const victim = node(1);
    const survivorWriters = [...(await startWriters(node(0), 'n0')), ...(await startWriters(node(2), 'n2'))];
    const victimWriters = await startWriters(victim, 'n1');

    // Kill only once every writer is well into its stream.
    await progressed([...survivorWriters, ...victimWriters], 1500);
    await victim.kill();
    await Promise.all(victimWriters.map((w) => w.done));
    // The survivors keep writing while the victim is down and while it comes back.
    await progressed(survivorWriters, 1500);
    await victim.start();
    await cluster.waitForLinks();
    const rebornWriters = await startWriters(victim, 'n1b');
    await progressed([...survivorWriters, ...rebornWriters], 500);
    await Promise.all([...survivorWriters, ...rebornWriters].map((w) => w.stop()));

    const final = await converged(cluster.nodes);

    // Every write a node that was not killed acknowledged is on every node (they are identical now).
    const missing = [...survivorWriters, ...rebornWriters].flatMap((w) => missingWrites(w, final));
    expect(missing.slice(0, 20), `${missing.length} acknowledged writes missing`).toEqual([]);

    // The killed node may have acknowledged writes it never got to replicate: counted, not failed.
    const lost = victimWriters.flatMap((w) => missingWrites(w, final));
    const victimAcked = victimWriters.reduce((s, w) => s + w.ops, 0);
    const survivorAcked = [...survivorWriters, ...rebornWriters].reduce((s, w) => s + w.ops, 0);
    console.log(
      `kill -9: ${survivorAcked} commands acknowledged by live nodes, all present; ` +
        `${victimAcked} acknowledged by the killed node, ${lost.length} of their effects lost` +
        (lost.length ? ` (e.g. ${lost.slice(0, 3).join('; ')})` : ''),
    );

    await eventually('replication settles on every node', () => replicationSettled(cluster.nodes));
  });

  it('catches up a restarted node on 100,000 keys written while it was down', async () => {
    const victim = node(2);
    await victim.kill();
    const writer = node(0).ioredis();
    const total = 100_000;
    const batch = 1000;
    for (let from = 0; from < total; from += batch) {
      const cmds = Array.from({ length: batch }, (_, i) => ['set', `catch:${from + i}`, `value-${from + i}`]);
      const r = await writer.pipeline(cmds).exec();
      expect(r!.every(([err]) => err === null)).toBe(true);
    }
    // The other live node first holds it all, so the target size is final before the restart.
    const size = await agreed('the live nodes agree on the size', [node(0), node(1)], dbsize);
    expect(size).toBeGreaterThanOrEqual(total);

    const started = Date.now();
    await victim.start();
    await eventually('the restarted node holds every key', async () => {
      const n = await dbsize(victim);
      return n === size ? null : `DBSIZE ${n} of ${size}`;
    });
    console.log(`catch-up: ${size} keys back on the restarted node ${Date.now() - started} ms after its restart began`);

    const sample = Array.from({ length: 2000 }, () => randomInt(0, total - 1));
    const values = (await victim.command('MGET', ...sample.map((i) => `catch:${i}`))) as string[];
    expect(values).toEqual(sample.map((i) => `value-${i}`));
    // Keys from before the restart (earlier tests) came back too.
    expect(await victim.command('GET', 'rw:1:str')).toBe('héllo ☃ from 1');
    // And beyond the sample: all three keyspaces are identical, key by key.
    await converged(cluster.nodes);
    await eventually('replication settles on every node', () => replicationSettled(cluster.nodes));
  });
});
