import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { NodeRedisClient } from './server.js';

/**
 * Real strata-server child processes for cluster tests: what the in-process
 * fixture cannot show (SIGKILL, a restart with an empty memory and a new run
 * id, several nodes each with its own event loop).
 */

/** The compiled server (`npm test` builds it in pretest); STRATA_SERVER_JS runs the suite against another build. */
export const SERVER_JS = process.env.STRATA_SERVER_JS ?? fileURLToPath(new URL('../../dist/src/bin/strata-server.js', import.meta.url));

/** A peer's bus listens on its client port plus this (the server's default). */
export const BUS_OFFSET = 10000;

/** Generous bound for every "wait until" in cluster tests: they poll conditions, never assert speed. */
export const PATIENCE_MS = 30_000;

/** Lines of server output kept per node, shown when a node fails to start. */
const OUTPUT_LINES = 200;

/** Every child any cluster of this worker started: SIGKILLed on exit, so a crashed run leaves no servers behind. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `check` until it returns null (satisfied). Otherwise it returns why
 * not yet; that reason ends up in the error if PATIENCE_MS runs out, so a
 * failure says what was still wrong instead of only "timed out".
 */
export async function eventually(what: string, check: () => Promise<string | null>, timeoutMs = PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason = 'never checked';
  for (;;) {
    try {
      const r = await check();
      if (r === null) return;
      reason = r;
    } catch (err) {
      reason = `check threw: ${(err as Error).message}`;
    }
    if (Date.now() > deadline) throw new Error(`${what}: still not the case after ${timeoutMs} ms: ${reason}`);
    await sleep(100);
  }
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * A client port free on every host whose bus port (port + BUS_OFFSET) is free
 * too. Each node binds its own loopback address, so all of them can share
 * the one port. Ports come from 10000-21999: bus ports then stay below the
 * ephemeral range (32768+) that port-0 servers of parallel test files and
 * outgoing connections draw from; the random start keeps parallel runs apart.
 */
export async function findClusterPort(hosts: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10000 + Math.floor(Math.random() * 12000);
    let free = true;
    for (const host of hosts) {
      free = (await canListen(host, port)) && (await canListen(host, port + BUS_OFFSET));
      if (!free) break;
    }
    if (free) return port;
  }
  throw new Error(`no port free on ${hosts.join(', ')} (with its bus port) after 200 tries`);
}

/** Whether a Redis PING answers on host:port (one short-lived raw connection). */
function pings(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => done(d.toString('latin1').startsWith('+PONG')));
  });
}

/** Fields of an INFO reply. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

/** One `peerI:` line of INFO replication, as key=value pairs. */
export type PeerInfo = Record<string, string>;

export function peerLines(info: Map<string, string>): PeerInfo[] {
  const out: PeerInfo[] = [];
  for (let i = 0; info.has(`peer${i}`); i++) {
    out.push(Object.fromEntries(info.get(`peer${i}`)!.split(',').map((kv) => kv.split('=') as [string, string])));
  }
  return out;
}

interface Closable {
  disconnect(): void;
}

/** One strata-server child process; kill() and start() again reuse its address (it comes back empty). */
export class StrataProcess {
  child: ChildProcess | null = null;
  /** Run id of the current incarnation (INFO server), known once started. */
  runId = '';
  private output: string[] = [];
  private clients: Closable[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly args: readonly string[],
  ) {}

  get label(): string {
    return `${this.host}:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.label} is already running`);
    if (!existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} is missing: build first (npm run build)`);
    const child = spawn(process.execPath, [SERVER_JS, '--port', String(this.port), '--bind', this.host, ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    children.add(child);
    // Read the pipes even if nobody looks: a full pipe would block the server's logging.
    const keep = (d: Buffer): void => {
      this.output.push(...d.toString('utf8').split('\n').filter(Boolean));
      if (this.output.length > OUTPUT_LINES) this.output.splice(0, this.output.length - OUTPUT_LINES);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => {
      children.delete(child);
      if (this.child === child) this.child = null;
    });
    await eventually(`${this.label} answers PING`, async () => {
      if (this.child !== child) throw new Error(`${this.label} exited during startup:\n${this.recentOutput()}`);
      return (await pings(this.host, this.port)) ? null : 'no PONG yet';
    });
    this.runId = parseInfo(String(await this.command('INFO', 'server'))).get('run_id') ?? '';
  }

  /** SIGKILL (no shutdown path runs) and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
    this.closeClients();
  }

  /** The last lines the server logged (for failure messages). */
  recentOutput(lines = OUTPUT_LINES): string {
    return this.output.slice(-lines).join('\n');
  }

  /** A new ioredis client that fails fast instead of queueing or reconnecting: a killed node must show up as errors. */
  ioredis(): Redis {
    const c = new Redis({
      host: this.host,
      port: this.port,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
      retryStrategy: () => null,
    });
    c.on('error', () => undefined);
    this.clients.push(c);
    return c;
  }

  /** A new connected node-redis client (RESP2 unless asked), not reconnecting either. */
  async nodeRedis(resp: 2 | 3 = 2): Promise<NodeRedisClient> {
    const c = createClient({ socket: { host: this.host, port: this.port, reconnectStrategy: false }, RESP: resp }) as NodeRedisClient;
    c.on('error', () => undefined);
    await c.connect();
    this.clients.push({ disconnect: () => void c.destroy() });
    return c;
  }

  /** One command on a throwaway connection (for probes that must survive restarts). */
  async command(...args: (string | number)[]): Promise<unknown> {
    const c = new Redis({ host: this.host, port: this.port, maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return await c.call(String(args[0]), ...args.slice(1).map(String));
    } finally {
      c.disconnect();
    }
  }

  async info(section: string): Promise<Map<string, string>> {
    return parseInfo(String(await this.command('INFO', section)));
  }

  closeClients(): void {
    for (const c of this.clients) {
      try {
        c.disconnect();
      } catch {
        // already closed
      }
    }
    this.clients = [];
  }
}

/**
 * N nodes on 127.0.0.1..127.0.0.N, one shared client port, each listing all
 * the others as peers (the server skips its own address in the list).
 */
export class StrataCluster {
  private constructor(readonly nodes: StrataProcess[]) {}

  static async start(count: number, extraArgs: readonly string[] = []): Promise<StrataCluster> {
    const hosts = Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`);
    const port = await findClusterPort(hosts);
    const peers = hosts.map((h) => `${h}:${port}`).join(',');
    const cluster = new StrataCluster(hosts.map((h) => new StrataProcess(h, port, ['--peers', peers, ...extraArgs])));
    try {
      await Promise.all(cluster.nodes.map((n) => n.start()));
      await cluster.waitForLinks();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  node(i: number): StrataProcess {
    return this.nodes[i]!;
  }

  /**
   * Until every node has every other node's link up and knows its current
   * run id: from then on a write anywhere is pushed everywhere, and a
   * restarted node has been recognised as new (its peers resync it).
   */
  async waitForLinks(): Promise<void> {
    await eventually('all replication links up', async () => {
      for (const n of this.nodes) {
        const peers = peerLines(await n.info('replication'));
        if (peers.length !== this.nodes.length - 1) return `${n.label} lists ${peers.length} peers`;
        for (const other of this.nodes) {
          if (other === n) continue;
          const p = peers.find((x) => x.addr === `${other.host}:${other.port + BUS_OFFSET}`);
          if (!p) return `${n.label} does not list ${other.label}`;
          if (p.link !== 'up' || p.id !== other.runId) return `${n.label} sees ${other.label} link=${p.link} id=${p.id} (current ${other.runId})`;
        }
      }
      return null;
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
  }
}
