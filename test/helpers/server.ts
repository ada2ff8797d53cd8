import { mkdtempSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { createClient, type RedisClientType } from 'redis';
import { silentLogger } from '../../src/log.js';
import { configFrom, createNode } from '../../src/node.js';
import { realRuntime } from '../../src/runtime/index.js';
import type { Server } from '../../src/server/server.js';

/** A node-redis client in either protocol (tests send raw commands with sendCommand). */
export type NodeRedisClient = RedisClientType<{}, {}, {}, 2 | 3, {}>;

export interface TestServer {
  port: number;
  server: Server;
  /** A new ioredis client (closed by stop()). */
  ioredis(options?: { db?: number }): Redis;
  /** A new connected node-redis client speaking RESP2 or RESP3 (closed by stop()). */
  nodeRedis(resp?: 2 | 3): Promise<NodeRedisClient>;
  stop(): Promise<void>;
}

/** Starts a real node on a free port of 127.0.0.1 with the given redis.conf-style options. */
/** A port free right now on 127.0.0.1 (for a cluster bus next to a port-0 client listener). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A cluster-mode node keeps nodes.conf in its own temporary dir and needs a bus port of its own. */
async function clusterDefaults(options: Record<string, string>): Promise<[string, string][]> {
  if (options['cluster-enabled'] !== 'yes') return [];
  const out: [string, string][] = [];
  if (options.dir === undefined) out.push(['dir', mkdtempSync(path.join(os.tmpdir(), 'strata-cluster-'))]);
  if (options['cluster-port'] === undefined) out.push(['cluster-port', String(await freePort())]);
  return out;
}

export async function startServer(options: Record<string, string> = {}): Promise<TestServer> {
  const config = configFrom([['port', '0'], ['bind', '127.0.0.1'], ...(await clusterDefaults(options)), ...Object.entries(options)]);
  const server = createNode({ runtime: realRuntime(), config, log: silentLogger() });
  await server.start();
  const port = server.port;
  const clients: { quit(): unknown; disconnect(): unknown }[] = [];
  return {
    port,
    server,
    ioredis(opts = {}) {
      const c = new Redis({ port, host: '127.0.0.1', db: opts.db ?? 0, lazyConnect: false, maxRetriesPerRequest: 0 });
      clients.push(c);
      return c;
    },
    async nodeRedis(resp = 2) {
      const c = createClient({ socket: { port, host: '127.0.0.1', reconnectStrategy: false }, RESP: resp });
      c.on('error', () => undefined);
      await c.connect();
      clients.push({ quit: () => c.quit(), disconnect: () => c.destroy() });
      return c;
    },
    async stop() {
      for (const c of clients) {
        try {
          c.disconnect();
        } catch {
          // already closed
        }
      }
      await server.stop();
    },
  };
}
