import { describe, expect, it } from 'vitest';
import { encode, InProcessSocket } from '../../sim/client.js';
import type { Server } from '../../src/server/server.js';
import { twoSimNodes } from '../helpers/sim.js';

/**
 * Client tracking on the simulator (virtual time, in-process connections):
 * writes that arrive from a replication peer and expiries invalidate like
 * local writes, and the tracking table's size limit evicts with
 * invalidations. Each connection's output is checked byte for byte.
 */

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const push = (...keys: string[]): string => `>2\r\n${bulk('invalidate')}*${keys.length}\r\n${keys.map(bulk).join('')}`;

/** A RESP3 connection whose output accumulates until taken. */
class Conn {
  private out: Buffer[] = [];
  private readonly socket = new InProcessSocket('10.0.0.9', (b) => this.out.push(b));

  constructor(server: Server) {
    server.accept(this.socket);
    this.send('HELLO', 3);
    this.take();
  }

  send(...args: (string | number)[]): void {
    this.socket.send(encode(args));
  }

  /** What the node wrote since the last take. */
  take(): string {
    const text = Buffer.concat(this.out).toString('latin1');
    this.out = [];
    return text;
  }

  /** Sends a command and returns everything written in response (replies and pushes). */
  call(...args: (string | number)[]): string {
    this.take();
    this.send(...args);
    return this.take();
  }
}

describe('tracking on replicated nodes', () => {
  it('a write replicated from the peer invalidates a key read here', async () => {
    const { a, b, settle } = await twoSimNodes(21);
    a.client.call('SET', 'shared', 'v1');
    await settle(1000);
    const reader = new Conn(b.server);
    expect(reader.call('CLIENT', 'TRACKING', 'ON')).toBe('+OK\r\n');
    expect(reader.call('GET', 'shared')).toBe(bulk('v1'));
    a.client.call('SET', 'shared', 'v2');
    await settle(1000);
    expect(reader.take()).toBe(push('shared'));
    expect(reader.call('GET', 'shared')).toBe(bulk('v2'));
    a.client.call('DEL', 'shared');
    await settle(1000);
    expect(reader.take()).toBe(push('shared'));
  });

  it('BCAST subscribers hear of replicated writes under their prefix', async () => {
    const { a, b, settle } = await twoSimNodes(22);
    const watcher = new Conn(b.server);
    expect(watcher.call('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'user:')).toBe('+OK\r\n');
    a.client.call('SET', 'user:1', 'x');
    a.client.call('SET', 'other', 'x');
    await settle(1000);
    expect(watcher.take()).toBe(push('user:1'));
  });
});

describe('tracking on one simulated node', () => {
  it('an active expiry invalidates the key', async () => {
    const { a, settle } = await twoSimNodes(23);
    a.client.call('SET', 'short', 'v', 'PX', 100);
    const reader = new Conn(a.server);
    reader.call('CLIENT', 'TRACKING', 'ON');
    expect(reader.call('GET', 'short')).toBe(bulk('v'));
    await settle(2000);
    expect(reader.take()).toBe(push('short'));
    expect(a.server.tracking.totalKeys).toBe(0);
  });

  it('the cron brings the table under tracking-table-max-keys, evicting harder each round', async () => {
    const { a, settle } = await twoSimNodes(24);
    const reader = new Conn(a.server);
    reader.call('CLIENT', 'TRACKING', 'ON');
    const keys = Array.from({ length: 250 }, (_, i) => `key${i}`);
    reader.call('MGET', ...keys);
    expect(a.server.tracking.totalItems).toBe(250);
    a.client.call('CONFIG', 'SET', 'tracking-table-max-keys', 10);
    await settle(1000);
    const evicted = reader.take().match(/>2\r\n/g) ?? [];
    expect(evicted.length).toBe(240);
    expect(a.server.tracking.totalKeys).toBe(10);
    expect(a.server.tracking.totalItems).toBe(10);
  });

  it('an invalidation from the size limit comes before the reply of the command that found it over', async () => {
    const { a } = await twoSimNodes(25);
    const c = new Conn(a.server);
    c.call('CLIENT', 'TRACKING', 'ON');
    c.call('MGET', 'k1', 'k2');
    c.call('MULTI');
    a.client.call('CONFIG', 'SET', 'tracking-table-max-keys', 1);
    const out = c.call('PING');
    expect(out).toMatch(/^>2\r\n\$10\r\ninvalidate\r\n\*1\r\n\$2\r\nk[12]\r\n\+QUEUED\r\n$/);
    expect(c.call('EXEC')).toBe('*1\r\n+PONG\r\n');
  });

  it('a disconnected client leaves its BCAST prefixes and its tracking slot', async () => {
    const { a } = await twoSimNodes(26);
    const c = new Conn(a.server);
    c.call('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'p1', 'PREFIX', 'q');
    expect(a.server.tracking.totalPrefixes).toBe(2);
    expect(a.server.tracking.clientCount).toBe(1);
    c.send('QUIT');
    expect(a.server.tracking.totalPrefixes).toBe(0);
    expect(a.server.tracking.clientCount).toBe(0);
  });
});
