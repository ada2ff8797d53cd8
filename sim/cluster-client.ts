import { keyHashSlot, SLOT_COUNT } from '../src/cluster/slots.js';
import type { Server } from '../src/server/server.js';
import { encode, InProcessSocket, parseReply, ReplyError, type Reply } from './client.js';
import type { Life } from './cluster.js';
import type { Scheduler } from './runtime/index.js';

/**
 * A cluster-aware client over in-process connections to the real request
 * path: it routes each command by the key's hash slot through its own slot
 * map (CLUSTER SLOTS), follows -MOVED (updating the map) and -ASK (ASKING,
 * then the command, once) up to a bound, and reports -TRYAGAIN,
 * -CLUSTERDOWN and -LOADING (a node catching up after its start) as
 * retryable refusals. A reply that does not come (a node
 * paused for a manual failover that then crashed) times out: the command's
 * fate is unknown, which the checkers treat as "maybe applied".
 */

/** How a command ended. `refused`: the node answered an error before running it. */
export type Outcome =
  | { kind: 'ok'; reply: Reply; life: Life; redirects: number }
  | { kind: 'refused'; message: string; redirects: number }
  | { kind: 'unknown'; why: string };

/** One exchange with one node: its reply, or why there is none. */
type Sent = { kind: 'ok'; reply: Reply; life: Life } | { kind: 'refused'; message: string } | { kind: 'unknown'; why: string };

/** The running life that answers at a client address ("ip:port"), or null when that node is down. */
export type Resolver = (address: string) => Life | null;

/** Called synchronously with the final reply of a command (not a redirect, not a refusal) and the node that sent it. */
export type Observer = (life: Life, reply: Reply) => void;

export const MAX_REDIRECTS = 5;
/** Longer than a manual failover's write pause (5 s), so only a lost reply times out. */
const REPLY_TIMEOUT_MS = 8_000;
/** An unparsed reply larger than this is a runaway: the test fails loudly instead of growing. */
const MAX_PENDING_REPLY_BYTES = 16 * 1024 * 1024;

const TIMEOUT = Symbol('timeout');


/** One connection to one life of a node; one command outstanding at a time. */
export class Connection {
  private readonly socket: InProcessSocket;
  private pending: Buffer = Buffer.alloc(0);
  private waiter: ((r: Reply) => void) | null = null;

  constructor(
    readonly life: Life,
    server: Server,
  ) {
    this.socket = new InProcessSocket('10.0.9.1', (b) => this.output(b));
    server.accept(this.socket);
  }

  get usable(): boolean {
    return !this.socket.closed && !this.life.crashed && this.waiter === null;
  }

  /**
   * Sends a command; resolves with its reply, or TIMEOUT (then the connection
   * is closed: a late reply is dropped). `onReply` sees the reply the moment
   * it is written, before any other event runs (promise continuations may not).
   */
  call(scheduler: Scheduler, args: (string | number)[], onReply?: (r: Reply) => void): Promise<Reply | typeof TIMEOUT> {
    return new Promise((resolve) => {
      const timer = { event: null as ReturnType<Scheduler['after']> | null };
      this.waiter = (r) => {
        timer.event?.cancel();
        onReply?.(r);
        resolve(r);
      };
      this.socket.send(encode(args));
      if (this.waiter === null) return;
      timer.event = scheduler.after(REPLY_TIMEOUT_MS, () => {
        this.waiter = null;
        this.close();
        resolve(TIMEOUT);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private output(b: Buffer): void {
    this.pending = this.pending.length === 0 ? b : Buffer.concat([this.pending, b]);
    if (this.pending.length > MAX_PENDING_REPLY_BYTES) throw new Error('cluster client: runaway reply');
    const parsed = parseReply(this.pending, 0);
    if (parsed === null) return;
    const [reply, end] = parsed;
    this.pending = this.pending.subarray(end);
    const w = this.waiter;
    this.waiter = null;
    if (w === null) throw new Error(`cluster client: reply without a command: ${JSON.stringify(reply)}`);
    w(reply);
  }
}

/** "MOVED 3999 10.0.1.2:6379" -> [kind, address], or null for any other reply. */
export function redirectOf(reply: Reply): ['MOVED' | 'ASK', number, string] | null {
  if (!(reply instanceof ReplyError)) return null;
  const m = /^(MOVED|ASK) (\d+) (\S+)$/.exec(reply.message);
  return m === null ? null : [m[1] as 'MOVED' | 'ASK', Number(m[2]), m[3]!];
}

export function retryable(reply: Reply): boolean {
  return reply instanceof ReplyError && /^(TRYAGAIN|CLUSTERDOWN|LOADING) /.test(reply.message);
}

export interface ClientCounters {
  commands: number;
  moved: number;
  asked: number;
  refused: number;
  timeouts: number;
  unreachable: number;
  tooManyRedirects: number;
  mapRefreshes: number;
}

/** The cluster client: its own slot map, its own connections, counters for the run summary. */
export class ClusterClient {
  /** Slot -> 1 + index in `known` of the node serving it as last learned (0: unknown). */
  private readonly map = new Uint8Array(SLOT_COUNT);
  /** Client addresses, the seed list first; redirects may add more (bounded by the map's byte). */
  private readonly known: string[];
  private readonly conns = new Map<string, Connection>();
  readonly count: ClientCounters = { commands: 0, moved: 0, asked: 0, refused: 0, timeouts: 0, unreachable: 0, tooManyRedirects: 0, mapRefreshes: 0 };

  constructor(
    private readonly scheduler: Scheduler,
    private readonly resolve: Resolver,
    private readonly addresses: readonly string[],
    private readonly pick: (n: number) => number,
  ) {
    this.known = [...addresses];
  }

  /** Runs a command on the node serving `key`, following redirects. */
  async run(key: string, args: (string | number)[], observe?: Observer): Promise<Outcome> {
    this.count.commands++;
    const slot = keyHashSlot(key);
    let address = this.mapped(slot) || this.anyAddress();
    let asking = false;
    for (let redirects = 0; redirects <= MAX_REDIRECTS; redirects++) {
      const r = await this.send(address, asking ? [['ASKING'], args] : [args], observe);
      if (r.kind === 'unknown') return r;
      if (r.kind === 'refused') {
        await this.refresh();
        return { ...r, redirects };
      }
      const to = redirectOf(r.reply);
      if (to === null) return await this.finish(r.reply, r.life, redirects);
      [address, asking] = [to[2], to[0] === 'ASK'];
      if (to[0] === 'MOVED') this.moved(slot, to[2]);
      else this.count.asked++;
    }
    this.count.tooManyRedirects++;
    await this.refresh();
    return { kind: 'refused', message: 'too many redirects', redirects: MAX_REDIRECTS + 1 };
  }

  /** The client address a key's slot maps to now ('' when unknown). */
  addressOf(key: string): string {
    return this.mapped(keyHashSlot(key));
  }

  private mapped(slot: number): string {
    const i = this.map[slot]!;
    return i === 0 ? '' : this.known[i - 1]!;
  }

  private indexOf(address: string): number {
    let i = this.known.indexOf(address);
    if (i < 0 && this.known.length < 255) i = this.known.push(address) - 1;
    return i + 1;
  }

  private async finish(reply: Reply, life: Life, redirects: number): Promise<Outcome> {
    if (!(reply instanceof ReplyError) || !retryable(reply)) return { kind: 'ok', reply, life, redirects };
    this.count.refused++;
    // CLUSTERDOWN may come from a node with a stale view: learn the map again.
    if (reply.message.startsWith('CLUSTERDOWN')) await this.refresh();
    return { kind: 'refused', message: reply.message, redirects };
  }

  private moved(slot: number, address: string): void {
    this.count.moved++;
    this.map[slot] = this.indexOf(address);
  }

  /** Sends the commands (ASKING first when following an ASK) on one connection; the last reply counts. */
  private async send(address: string, commands: (string | number)[][], observe?: Observer): Promise<Sent> {
    const conn = this.connectionTo(address);
    if (conn === null) {
      this.count.unreachable++;
      this.forget(address);
      return { kind: 'refused', message: `connection refused by ${address}` };
    }
    let reply: Reply | typeof TIMEOUT = null;
    const onReply = (r: Reply): void => {
      if (observe !== undefined && redirectOf(r) === null && !retryable(r)) observe(conn.life, r);
    };
    for (const [i, c] of commands.entries()) {
      reply = await conn.call(this.scheduler, c, i === commands.length - 1 ? onReply : undefined);
      if (reply === TIMEOUT) {
        this.count.timeouts++;
        this.conns.delete(address);
        return { kind: 'unknown', why: `no reply from ${address} within ${REPLY_TIMEOUT_MS} ms` };
      }
    }
    return { kind: 'ok', reply: reply as Reply, life: conn.life };
  }

  private connectionTo(address: string): Connection | null {
    const life = this.resolve(address);
    if (life === null) return null;
    const c = this.conns.get(address);
    if (c !== undefined && c.usable && c.life === life) return c;
    c?.close();
    const fresh = new Connection(life, life.server);
    this.conns.set(address, fresh);
    return fresh;
  }

  /** A node went away: slots mapped to it are unknown until the next refresh. */
  private forget(address: string): void {
    const i = this.indexOf(address);
    for (let s = 0; s < SLOT_COUNT; s++) if (this.map[s] === i) this.map[s] = 0;
    this.conns.get(address)?.close();
    this.conns.delete(address);
  }

  private anyAddress(): string {
    return this.addresses[this.pick(this.addresses.length)]!;
  }

  /** CLUSTER SLOTS from the first reachable node from a random one on; the map takes every range it lists. */
  async refresh(): Promise<boolean> {
    this.count.mapRefreshes++;
    const first = this.pick(this.addresses.length);
    for (let i = 0; i < this.addresses.length; i++) {
      const address = this.addresses[(first + i) % this.addresses.length]!;
      if (this.resolve(address) === null) continue;
      const r = await this.send(address, [['CLUSTER', 'SLOTS']]);
      if (r.kind !== 'ok' || !Array.isArray(r.reply)) return false;
      this.learn(r.reply);
      return true;
    }
    return false;
  }

  private learn(ranges: Reply[]): void {
    for (const range of ranges) {
      const [start, end, primary] = range as [number, number, [string, number, string]];
      this.map.fill(this.indexOf(`${primary[0]}:${primary[1]}`), start, end + 1);
    }
  }

  /** Closes every connection (end of run). */
  close(): void {
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}
