import type { Client } from './client.js';
import { SubKind } from './pubsub.js';

/** Every connected client, by id (CLIENT LIST/KILL, INFO clients, maxclients). */
export class ClientRegistry {
  private readonly byId = new Map<number, Client>();
  private nextId = 1;
  /** Clients currently in MONITOR mode. */
  readonly monitors = new Set<Client>();
  /** Called when a client goes away (pub/sub, blocking, tracking clean up here). */
  private readonly removeHooks: ((c: Client) => void)[] = [];

  /** Called by RESET after the connection state is cleared (pub/sub, MULTI, tracking register here). */
  private readonly resetHooks: ((c: Client) => void)[] = [];

  onReset(hook: (c: Client) => void): void {
    this.resetHooks.push(hook);
  }

  /** Runs the RESET hooks for a client. */
  runResetHooks(c: Client): void {
    for (const hook of this.resetHooks) hook(c);
  }

  allocateId(): number {
    return this.nextId++;
  }

  add(c: Client): void {
    this.byId.set(c.id, c);
  }

  onRemove(hook: (c: Client) => void): void {
    this.removeHooks.push(hook);
  }

  remove(c: Client): void {
    if (!this.byId.delete(c.id)) return;
    this.monitors.delete(c);
    c.closed = true;
    for (const hook of this.removeHooks) hook(c);
  }

  get(id: number): Client | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  all(): IterableIterator<Client> {
    return this.byId.values();
  }
}

/** CLIENT LIST / KILL types. Monitors count as normal clients, as in Redis. */
export type ClientType = 'normal' | 'master' | 'replica' | 'pubsub';

/** The type named by CLIENT LIST/KILL TYPE (case-insensitive), or null when unknown. */
export function clientTypeByName(name: string): ClientType | null {
  const n = name.toLowerCase();
  if (n === 'normal' || n === 'master' || n === 'pubsub') return n;
  if (n === 'replica' || n === 'slave') return 'replica';
  return null;
}

export function clientType(c: Client): ClientType {
  return c.subs !== null ? 'pubsub' : 'normal';
}

/** Size of a command as a RESP multibulk, which is what the query buffer holds while it runs. */
function multibulkBytes(argv: readonly string[]): number {
  let n = 3 + String(argv.length).length;
  for (const a of argv) n += 5 + String(a.length).length + a.length;
  return n;
}

function clientFlags(c: Client): string {
  let f = '';
  if (c.monitor) f += 'O';
  if (c.subs !== null) f += 'P';
  if (c.multi !== null) f += 'x';
  if (c.server.blocking.isBlocked(c)) f += 'b';
  if (c.tracking !== null) f += c.tracking.brokenRedirect ? 'tR' : 't';
  if (c.tracking?.bcast === true) f += 'B';
  if (c.dirtyCas) f += 'd';
  if (c.closeAfterReply) f += 'c';
  if (c.noEvict) f += 'e';
  if (c.noTouch) f += 'T';
  return f === '' ? 'N' : f;
}

/**
 * One CLIENT LIST / CLIENT INFO line in Redis's field order. `running` is
 * the command being executed when c is the caller (its name shows as cmd=,
 * its bytes still count in qbuf, as in Redis).
 */
export function describeClient(c: Client, nowMs: number, running: readonly string[] | null): string {
  const qbuf = c.queryBufferBytes + (running ? multibulkBytes(running) : 0);
  let argvMem = 0;
  if (running) for (const a of running) argvMem += a.length;
  const obl = c.reply.pendingBytes;
  const omem = c.socket.writableLength;
  const cmd = running ? (running.length > 1 ? `${running[0]}|${running[1]}` : running[0]!).toLowerCase() : c.lastCommand;
  return (
    `id=${c.id} addr=${c.remoteAddress} laddr=${c.localAddress} fd=-1 name=${c.name} ` +
    `age=${Math.floor((nowMs - c.createdAtMs) / 1000)} idle=${Math.floor((nowMs - c.lastInteractionMs) / 1000)} ` +
    `flags=${clientFlags(c)} db=${c.dbIndex} sub=${c.subs?.byKind[SubKind.Channel].size ?? 0} psub=${c.subs?.byKind[SubKind.Pattern].size ?? 0} ssub=${c.subs?.byKind[SubKind.Shard].size ?? 0} multi=${c.multi === null ? -1 : c.multi.queued.length} ` +
    `qbuf=${qbuf} qbuf-free=0 argv-mem=${argvMem} multi-mem=0 rbs=16384 rbp=${obl} obl=${obl} oll=0 omem=${omem} ` +
    `tot-mem=${16384 + qbuf + argvMem + obl + omem} events=r${omem > 0 ? 'w' : ''} cmd=${cmd} user=${c.user} ` +
    `redir=${c.tracking === null ? -1 : c.tracking.redirect} resp=${c.resp} lib-name=${c.libName} lib-ver=${c.libVersion}`
  );
}
