import { afterEach, describe, expect, it } from 'vitest';
import { eventually, parseInfo } from '../helpers/processes.js';
import { freePort, startServer, type TestServer } from '../helpers/server.js';

/**
 * A node with peers catches up before it serves (src/replication/peer-sync.ts):
 * clients get Redis's -LOADING until a sync round with a peer completed,
 * commands Redis allows while loading still work, and a node whose peers
 * stay unreachable serves what it has after peer-sync-timeout-ms.
 */

const started: TestServer[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

async function node(port: number, bus: number, peerPort: number, peerBus: number, timeoutMs: number): Promise<TestServer> {
  const s = await startServer({ port: String(port), 'bus-port': String(bus), peers: `127.0.0.1:${peerPort}@${peerBus}`, 'peer-sync-timeout-ms': String(timeoutMs) });
  started.push(s);
  return s;
}

const LOADING = 'LOADING Redis is loading the dataset in memory';

describe('catching up with peers before serving', () => {
  it('answers -LOADING until a round with a peer completes, then serves the peer data', async () => {
    const [portA, portB, busA, busB] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    // b is not up yet: a waits for it (an hour, so only b's arrival ends the wait).
    const a = await node(portA, busA, portB, busB, 3_600_000);
    const c = await a.nodeRedis();
    await expect(c.get('k')).rejects.toThrow(LOADING);
    await expect(c.set('k', 'v')).rejects.toThrow(LOADING);
    await expect(c.ping()).rejects.toThrow(LOADING);
    // Commands flagged loading in Redis still run, INFO says loading.
    expect(parseInfo(await c.info('persistence')).get('loading')).toBe('1');
    expect(await c.sendCommand(['CONFIG', 'GET', 'peer-sync-timeout-ms'])).toEqual(['peer-sync-timeout-ms', '3600000']);
    await expect(c.multi().set('k', 'v').exec()).rejects.toThrow(/LOADING|EXECABORT/);
    const b = await node(portB, busB, portA, busA, 0);
    await (await b.nodeRedis()).set('from-b', 'w');
    await eventually('a serves', async () => {
      try {
        return (await c.ping()) === 'PONG' ? null : 'no PONG';
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(parseInfo(await c.info('persistence')).get('loading')).toBe('0');
    await eventually('b data on a', async () => ((await c.get('from-b')) === 'w' ? null : 'not yet'));
    expect(await c.set('k', 'v')).toBe('OK');
  });

  it('serves what it has once no peer answered within peer-sync-timeout-ms', async () => {
    const [portA, portB, busA, busB] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const a = await node(portA, busA, portB, busB, 200);
    const c = await a.nodeRedis();
    await eventually('a serves alone', async () => {
      try {
        return (await c.set('k', 'v')) === 'OK' ? null : 'not OK';
      } catch (err) {
        return (err as Error).message;
      }
    });
    expect(await c.get('k')).toBe('v');
  });

  it('does not wait without peers, or with peer-sync-timeout-ms 0', async () => {
    const [portA, portB, busA, busB] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const alone = await startServer({});
    started.push(alone);
    expect(await (await alone.nodeRedis()).ping()).toBe('PONG');
    const a = await node(portA, busA, portB, busB, 0);
    expect(await (await a.nodeRedis()).ping()).toBe('PONG');
  });
});
