import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUS_OFFSET, eventually, findClusterPort, peerLines, StrataProcess } from '../helpers/processes.js';

/**
 * A 3-node active-active group with appendonly yes on every node: a node
 * killed with SIGKILL restarts from its own disk (keys back with their CRDT
 * versions) and catches up on what it missed from its peers.
 */

const dirs: string[] = [];
let nodes: StrataProcess[] = [];

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function group(): Promise<StrataProcess[]> {
  const hosts = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];
  const port = await findClusterPort(hosts);
  const peers = hosts.map((h) => `${h}:${port}`).join(',');
  return hosts.map((h) => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-aof-group-'));
    dirs.push(dir);
    return new StrataProcess(h, port, ['--peers', peers, '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always']);
  });
}

async function linksUp(all: StrataProcess[]): Promise<void> {
  await eventually('links up', async () => {
    for (const n of all) {
      const up = peerLines(await n.info('replication')).filter((p) => p.link === 'up' && all.some((o) => o !== n && p.addr === `${o.host}:${o.port + BUS_OFFSET}` && p.id === o.runId));
      if (up.length !== all.length - 1) return `${n.label} has ${up.length} current links`;
    }
    return null;
  });
}

describe('persistence in a replicated group', () => {
  it('a node restarted from disk keeps its keys and catches up with its peers', async () => {
    nodes = await group();
    await Promise.all(nodes.map((n) => n.start()));
    await linksUp(nodes);
    const [a, b] = nodes as [StrataProcess, StrataProcess];
    const ca = a.ioredis();
    for (let i = 0; i < 300; i++) await ca.set(`k${i}`, `v${i}`);
    await ca.incrby('counter', 5);
    await eventually('b has the first writes', async () => ((await b.command('DBSIZE')) === 301 ? null : 'not yet'));
    await b.kill();
    for (let i = 300; i < 500; i++) await ca.set(`k${i}`, `v${i}`);
    await ca.incrby('counter', 7);
    await b.start();
    const loaded = Number((await b.info('persistence')).get('rdb_last_load_keys_loaded'));
    expect(loaded).toBeGreaterThanOrEqual(301);
    await linksUp(nodes);
    await eventually('b caught up', async () => {
      const size = await b.command('DBSIZE');
      const counter = await b.command('GET', 'counter');
      return size === 501 && counter === '12' ? null : `dbsize ${String(size)}, counter ${String(counter)}`;
    });
    // An increment on the restarted node adds to the loaded counter everywhere (its CRDT state came back).
    await b.command('INCRBY', 'counter', 1);
    await eventually('a sees it', async () => ((await a.command('GET', 'counter')) === '13' ? null : 'not yet'));
    expect(await b.command('GET', 'k499')).toBe('v499');
  });
});
