import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw.js';
import { freePort, startServer, type TestServer } from '../helpers/server.js';

/**
 * Two real nodes in this process replicating over the gRPC bus: a RESP3
 * connection tracking a key on one node is invalidated by a write made on
 * the other, with the exact push bytes.
 */

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const [portA, portB, busA, busB] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  [a, b] = await Promise.all([
    startServer({ port: String(portA), 'bus-port': String(busA), peers: `127.0.0.1:${portB}@${busB}` }),
    startServer({ port: String(portB), 'bus-port': String(busB), peers: `127.0.0.1:${portA}@${busA}` }),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const frame = (...args: string[]): string => `*${args.length}\r\n${args.map(bulk).join('')}`;

/** Sends a command and waits for exactly `expected`. */
async function exchange(c: RawClient, expected: string, ...args: string[]): Promise<void> {
  c.write(frame(...args));
  expect(await c.until((s) => s.length >= expected.length || !expected.startsWith(s))).toBe(expected);
}

describe('tracking across replicated nodes', () => {
  it("a peer's write invalidates a key a RESP3 client read on this node", async () => {
    const writer = a.ioredis();
    await writer.set('k', 'v1');
    const reader = await RawClient.connect(b.port);
    try {
      reader.write(frame('HELLO', '3'));
      await reader.until((s) => s.endsWith(`${bulk('modules')}*0\r\n`));
      const probe = b.ioredis();
      await eventually('k reaches b', async () => ((await probe.get('k')) === 'v1' ? null : 'not yet'));
      await exchange(reader, '+OK\r\n', 'CLIENT', 'TRACKING', 'ON');
      await exchange(reader, bulk('v1'), 'GET', 'k');
      await writer.set('k', 'v2');
      expect(await reader.until((s) => s.length > 0)).toBe(`>2\r\n${bulk('invalidate')}*1\r\n${bulk('k')}`);
      await exchange(reader, bulk('v2'), 'GET', 'k');
    } finally {
      reader.close();
    }
  });
});
