import type { Random } from '../src/runtime/random.js';
import type { QuickList } from '../src/store/list.js';
import { ReplyError } from './client.js';
import type { Life } from './cluster.js';
import type { MayLose } from './workload.js';

/**
 * List traffic (LPUSH/RPUSH of unique values, LPOP/RPOP) and its checker: after convergence every value pushed by a node
 * that did not crash and never popped is in a list, once; every value a
 * surviving node popped is gone.
 */

const LIST_KEYS = 3;

export class ListWorkload {
  private readonly failures: string[] = [];
  /** Value -> [life, virtual time] of the acknowledged push / pop. */
  private readonly pushedBy = new Map<string, [number, number]>();
  private readonly poppedBy = new Map<string, [number, number]>();
  private next = 0;

  constructor(
    private readonly random: Random,
    private readonly now: () => number = () => 0,
  ) {}

  step(life: Life): void {
    const key = `l${this.random.int(LIST_KEYS)}`;
    const r = this.random.next();
    if (r < 0.55) {
      const value = `e${++this.next}`;
      if (this.ok(life.client.call(r < 0.3 ? 'LPUSH' : 'RPUSH', key, value))) this.pushedBy.set(value, [life.index, this.now()]);
      return;
    }
    // Only pops: a move (RPOPLPUSH) run on two replicas at once legitimately leaves two copies.
    const reply = life.client.call(r < 0.75 ? 'LPOP' : 'RPOP', key);
    if (!this.ok(reply) || typeof reply !== 'string') return;
    this.poppedBy.set(reply, [life.index, this.now()]);
  }

  private ok(reply: unknown): boolean {
    if (!(reply instanceof ReplyError)) return true;
    this.failures.push(`list command answered an error: ${reply.message}`);
    return false;
  }

  check(final: Life, crashedLives: MayLose): string[] {
    const out = [...this.failures];
    const seen = new Map<string, number>();
    for (let k = 0; k < LIST_KEYS; k++) {
      const e = final.server.keyspace.db(0).keys.get(`l${k}`);
      if (e === undefined) continue;
      for (const v of (e.value as QuickList).toArray()) seen.set(v, (seen.get(v) ?? 0) + 1);
    }
    for (const [v, n] of seen) {
      if (n > 1) out.push(`list value ${v} is there ${n} times`);
      if (!this.pushedBy.has(v)) out.push(`list value ${v} was never pushed`);
      const popper = this.poppedBy.get(v);
      if (popper !== undefined && !crashedLives.has(...popper)) out.push(`list value ${v} was popped by a surviving node but is back`);
    }
    for (const [v, [life, at]] of this.pushedBy) {
      if (!crashedLives.has(life, at) && !this.poppedBy.has(v) && !seen.has(v)) out.push(`list value ${v}, pushed by life ${life} at ${at} ms and never popped, is lost`);
    }
    return out.slice(0, 20);
  }
}
