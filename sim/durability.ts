import { ReplyError } from './client.js';
import type { Life, SimCluster } from './cluster.js';
import type { DiskPlan, NetworkDisruption, Scheduler, SimNetwork } from './runtime/index.js';
import type { SeededRandom } from '../src/runtime/random.js';
import type { MayLose } from './workload.js';
import { HOLD_MS } from '../src/persistence/held-records.js';

/**
 * The durability promise of each appendfsync mode, as the checkers apply it
 * to a write acknowledged by life L at virtual time t:
 * - L never crashed: it must survive;
 * - only L's process crashed (the OS kept every write): it must survive, except
 *   under everysec and no if t is at most HOLD_MS before the crash (records are
 *   held that long before their append, src/persistence/held-records.ts);
 * - L's machine crashed (unsynced bytes lost or torn):
 *   - always: it must survive (fsynced before the reply);
 *   - everysec: it must survive if t is more than EVERYSEC_WINDOW_MS before the crash;
 *   - no: it may be lost (unless a peer got it, which a checker cannot require).
 */
export const EVERYSEC_WINDOW_MS = 1000 + 100 + 100; // one second, the 100 ms persistence tick, and slack

export function mayLose(cluster: SimCluster, plan: DiskPlan | null): MayLose {
  const lives = cluster.lives;
  return {
    has(life: number, atMs: number): boolean {
      const l = lives[life];
      if (l === undefined || !l.crashed) return false;
      // Crashed without a crash record: it never started (a failure reported on its own).
      if (l.crash === undefined) return true;
      // Without persistence (no plan) a crashed life comes back empty.
      if (plan === null) return true;
      // Inclusive: a record held from t is appended by a timer due at t + HOLD_MS, which a crash at that same ms may precede.
      if (l.crash.kind === 'process') return plan.appendfsync !== 'always' && atMs >= l.crash.atMs - HOLD_MS;
      if (plan.appendfsync === 'always') return false;
      if (plan.appendfsync === 'everysec') return atMs > l.crash.atMs - EVERYSEC_WINDOW_MS;
      return true;
    },
  };
}

interface ProbeWrite {
  key: string;
  value: string;
  life: number;
  at: number;
}

/**
 * The scenario that makes the promise testable even when replication would
 * otherwise hide a lost write: one node is partitioned from every peer, a
 * client writes keys only it has, then its machine crashes (unsynced data
 * lost or torn), it restarts from its disk, and only then does the
 * partition heal. Whatever the mode promised must then be on every node.
 */
export class DurabilityProbe {
  readonly writes: ProbeWrite[] = [];
  ran = false;
  private victim: string | null = null;
  private partition: NetworkDisruption | null = null;
  private down = false;
  private n = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: SimNetwork,
    private readonly cluster: SimCluster,
    private readonly random: SeededRandom,
  ) {}

  /** Schedules the probe to run within [from, from + spanMs) of virtual time from now. */
  start(safetyMs: number): void {
    const startMs = 1000 + this.random.int(Math.max(1, safetyMs - 9000));
    this.scheduler.after(startMs, () => this.begin());
  }

  private begin(): void {
    const running = this.cluster.running();
    if (running.length === 0) return;
    const victim = running[this.random.int(running.length)]!.node;
    this.victim = victim;
    this.ran = true;
    this.partition = this.network.partition([victim], this.cluster.names.filter((n) => n !== victim));
    const writeMs = 500 + this.random.int(2500);
    const end = this.scheduler.nowMs + writeMs;
    const write = (): void => {
      if (this.scheduler.nowMs >= end) return this.crash();
      const life = this.cluster.running().find((l) => l.node === victim);
      if (life !== undefined) this.write(life);
      this.scheduler.after(20 + this.random.int(150), write);
    };
    write();
  }

  private write(life: Life): void {
    const key = `dur:${this.n}`;
    const value = `d${this.n++}`;
    const reply = life.client.call('SET', key, value);
    if (!(reply instanceof ReplyError)) this.writes.push({ key, value, life: life.index, at: this.scheduler.nowMs });
  }

  private crash(): void {
    const victim = this.victim!;
    // The fault injector may have crashed it meanwhile; it restarts it then.
    if (this.network.isUp(victim) && this.cluster.running().some((l) => l.node === victim)) {
      this.network.crash(victim);
      this.cluster.crash(victim, this.random.next() < 0.5 ? 'torn' : 'machine');
      this.down = true;
      this.scheduler.after(200 + this.random.int(1800), () => void this.restart());
    } else this.scheduler.after(500, () => this.heal());
  }

  private async restart(): Promise<void> {
    if (!this.down) return;
    this.down = false;
    this.network.restart(this.victim!);
    await this.cluster.startNode(this.victim!);
    this.scheduler.after(200 + this.random.int(1800), () => this.heal());
  }

  private heal(): void {
    this.partition?.heal();
    this.partition = null;
  }

  /** Liveness phase: whatever is still in force ends now. */
  async finish(): Promise<void> {
    await this.restart();
    this.heal();
  }

  /** Every probe write the mode promised is on every node, with its value; none holds a value never written. */
  check(lives: Life[], excused: MayLose): string[] {
    const out: string[] = [];
    for (const life of lives) {
      const db = life.server.keyspace.db(0);
      for (const w of this.writes) {
        const e = db.keys.get(w.key);
        if (e === undefined) {
          if (!excused.has(w.life, w.at)) out.push(`${life.node}: acknowledged ${w.key}=${w.value} (life ${w.life} at ${w.at}) is lost`);
        } else if (String(e.value) !== w.value) out.push(`${life.node}: ${w.key} holds ${String(e.value)}, acknowledged ${w.value}`);
      }
    }
    return out.slice(0, 20);
  }

  required(excused: MayLose): number {
    return this.writes.filter((w) => !excused.has(w.life, w.at)).length;
  }
}
