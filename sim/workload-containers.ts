import type { Random } from '../src/runtime/random.js';
import type { HashValue } from '../src/store/hash.js';
import type { SetValue } from '../src/store/set.js';
import type { ZSetValue } from '../src/store/zset.js';
import { ReplyError } from './client.js';
import type { Life } from './cluster.js';
import type { MayLose } from './workload.js';

/**
 * Hash and set traffic: HSET/HDEL on a few fields, HINCRBY on counter
 * fields, SADD/SREM on a few members. Checked after convergence (beside the
 * identical views every node must show): counter fields equal the sum of
 * acknowledged increments, and no field or member appears that no client
 * was acknowledged writing.
 */

const HASH_KEYS = 3;
const SET_KEYS = 3;
const FIELDS = 5;
const MEMBERS = 6;

export class ContainerWorkload {
  readonly failures: string[] = [];
  /** Acknowledged HINCRBY amounts per "key/field", and which life acknowledged them. */
  private readonly increments: { id: string; amount: number; life: number; at: number }[] = [];
  /** Every "key/element" a client was acknowledged writing (value for fields). */
  private readonly written = new Map<string, Set<string>>();
  private nextValue = 0;

  constructor(
    private readonly random: Random,
    private readonly now: () => number = () => 0,
  ) {}

  step(life: Life): void {
    const r = this.random.next();
    const h = `h${this.random.int(HASH_KEYS)}`;
    const s = `s${this.random.int(SET_KEYS)}`;
    const f = `f${this.random.int(FIELDS)}`;
    const m = `m${this.random.int(MEMBERS)}`;
    const z = `z${this.random.int(SET_KEYS)}`;
    if (r < 0.2) return this.write(life, `${h}/${f}`, `x${++this.nextValue}`, ['HSET', h, f, `x${this.nextValue}`]);
    if (r < 0.27) {
      this.call(life, ['HDEL', h, f]);
      return;
    }
    if (r < 0.4) return this.incr(life, 'HINCRBY', `hc${this.random.int(HASH_KEYS)}`, f);
    if (r < 0.55) return this.write(life, `${s}/${m}`, '', ['SADD', s, m]);
    if (r < 0.62) {
      this.call(life, ['SREM', s, m]);
      return;
    }
    if (r < 0.75) return this.write(life, `${z}/${m}`, String(++this.nextValue), ['ZADD', z, String(this.nextValue), m]);
    if (r < 0.8) {
      this.call(life, ['ZREM', z, m]);
      return;
    }
    this.incr(life, 'ZINCRBY', `zc${this.random.int(SET_KEYS)}`, m);
  }

  private call(life: Life, args: string[]): boolean {
    const reply = life.client.call(...args);
    if (!(reply instanceof ReplyError)) return true;
    this.failures.push(`${args[0]} answered an error: ${reply.message}`);
    return false;
  }

  private write(life: Life, id: string, value: string, args: string[]): void {
    if (!this.call(life, args)) return;
    let values = this.written.get(id);
    if (values === undefined) this.written.set(id, (values = new Set()));
    values.add(value);
  }

  /** HINCRBY key field n, or ZINCRBY key n member. */
  private incr(life: Life, command: 'HINCRBY' | 'ZINCRBY', key: string, element: string): void {
    const amount = 1 + this.random.int(9);
    const args = command === 'HINCRBY' ? [command, key, element, String(amount)] : [command, key, String(amount), element];
    if (this.call(life, args)) this.increments.push({ id: `${key}/${element}`, amount, life: life.index, at: this.now() });
  }

  /** Checks the converged state of one node. */
  check(final: Life, crashedLives: MayLose): string[] {
    const out = [...this.failures];
    const db = final.server.keyspace.db(0);
    for (const e of db.entries()) {
      if (e.type === 'hash' && e.key.startsWith('h') && !e.key.startsWith('hc')) {
        for (const f of (e.value as HashValue).toArray()) this.expectWritten(out, `${e.key}/${f.key}`, f.value);
      } else if (e.type === 'set') {
        for (const m of (e.value as SetValue).members()) this.expectWritten(out, `${e.key}/${m}`, '');
      } else if (e.type === 'zset' && !e.key.startsWith('zc')) {
        for (const n of e.value as ZSetValue) this.expectWritten(out, `${e.key}/${n.key}`, String(n.score));
      }
    }
    for (let k = 0; k < HASH_KEYS; k++) {
      for (let f = 0; f < FIELDS; f++) out.push(...this.checkCounter(final, `hc${k}`, `f${f}`, crashedLives));
      for (let m = 0; m < MEMBERS; m++) out.push(...this.checkCounter(final, `zc${k}`, `m${m}`, crashedLives));
    }
    return out;
  }

  private expectWritten(out: string[], id: string, value: string): void {
    if (this.written.get(id)?.has(value) !== true) out.push(`${id} holds ${JSON.stringify(value)}, which no client wrote`);
  }

  private checkCounter(final: Life, key: string, field: string, crashedLives: MayLose): string[] {
    const ops = this.increments.filter((o) => o.id === `${key}/${field}`);
    const total = ops.reduce((n, o) => n + o.amount, 0);
    const sure = ops.filter((o) => !crashedLives.has(o.life, o.at)).reduce((n, o) => n + o.amount, 0);
    const e = final.server.keyspace.db(0).keys.get(key);
    const value = e === undefined ? 0 : e.type === 'zset' ? ((e.value as ZSetValue).score(field) ?? 0) : Number((e.value as HashValue).get(field) ?? '0');
    return value < sure || value > total ? [`${key}/${field}: ${value}, acknowledged ${sure} (${total} counting crashed nodes)`] : [];
  }
}

/** A canonical text of a hash's or set's contents (element order is not part of the state). */
export function containerText(e: { type: string; value: unknown }): string {
  if (e.type === 'zset') return JSON.stringify(Array.from(e.value as ZSetValue, (n) => [n.key, n.score]));
  if (e.type === 'hash') return JSON.stringify((e.value as HashValue).toArray().map((f) => [f.key, f.value]).sort());
  return JSON.stringify((e.value as SetValue).members().sort());
}
