import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BUS_PORT_OFFSET, SERVER_JS, clusterTopology, parseLauncherArgs, type Topology } from '../../scripts/cluster-topology.mjs';
import { eventually } from '../helpers/processes.js';

/**
 * The local-cluster tooling: docker-compose.yml and the Dockerfile describe
 * the same cluster as `npm run cluster -- --masters 3 --replicas 1
 * --base-port 7000` (scripts/cluster-topology.mjs), and the real launcher
 * forms a cluster that ioredis can use and stops every node on SIGINT.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LAUNCHER = path.join(ROOT, 'scripts/cluster.mjs');

interface ComposeService {
  build?: unknown;
  image?: string;
  network_mode?: string;
  working_dir?: string;
  command?: string[];
  volumes?: string[];
  depends_on?: string[] | Record<string, unknown>;
}

interface Compose {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Instructions of the Dockerfile's last stage, with JSON-form arguments parsed. */
function finalStage(text: string): { from: string; lines: [string, string][] } {
  const lines = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const at = l.indexOf(' ');
      return [l.slice(0, at).toUpperCase(), l.slice(at + 1).trim()] as [string, string];
    });
  const start = lines.map(([op]) => op).lastIndexOf('FROM');
  return { from: lines[start]![1], lines: lines.slice(start + 1) };
}

describe('docker-compose.yml and the Dockerfile match the launcher', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const stage = finalStage(dockerfile);
  const workdir = stage.lines.filter(([op]) => op === 'WORKDIR').at(-1)?.[1] ?? '/';
  const serverInImage = path.posix.join(workdir, SERVER_JS);
  const launcherTopology = clusterTopology(parseLauncherArgs(['--masters', '3', '--replicas', '1', '--base-port', '7000']));
  const init = compose.services['cluster-init'];

  it('has six node services and a cluster-init service', () => {
    const names = Object.keys(compose.services).sort();
    expect(names).toEqual([...launcherTopology.nodes.map((n) => `node-${n.port}`), 'cluster-init'].sort());
    expect(launcherTopology.nodes.map((n) => n.port)).toEqual([7000, 7001, 7002, 7003, 7004, 7005]);
    expect(launcherTopology.nodes.filter((n) => n.role === 'master')).toHaveLength(3);
  });

  it('cluster-init forms the cluster the launcher forms, after every node is up', () => {
    expect(init).toBeDefined();
    const cmd = init!.command!;
    expect(cmd.slice(0, 3)).toEqual(['node', path.posix.join(workdir, 'scripts/cluster.mjs'), '--join-only']);
    const opts = parseLauncherArgs(cmd.slice(2));
    expect(opts.joinOnly).toBe(true);
    const initTopology: Topology = clusterTopology(opts);
    // Same ports, roles, slots, replica assignment and node options (data directories aside).
    const strip = (t: Topology) => t.nodes.map(({ dir: _dir, args, ...rest }) => ({ ...rest, args: args.filter((_, i) => args[i - 1] !== '--dir') }));
    expect(strip(initTopology)).toEqual(strip(launcherTopology));
    const deps = Array.isArray(init!.depends_on) ? init!.depends_on : Object.keys(init!.depends_on ?? {});
    expect(deps.sort()).toEqual(launcherTopology.nodes.map((n) => `node-${n.port}`).sort());
    expect(init!.network_mode).toBe('host');
    expect((init as { restart?: string }).restart).toBe('no');
  });

  it('runs every node with the launcher\'s options, host networking and its own /data volume', () => {
    const inContainer = clusterTopology({ masters: 3, replicas: 1, basePort: 7000, nodeDir: () => '/data' });
    const volumes = new Set<string>();
    for (const node of inContainer.nodes) {
      const service = compose.services[`node-${node.port}`]!;
      expect(service.command).toEqual(['node', serverInImage, ...node.args]);
      expect(service.network_mode).toBe('host');
      expect(service.working_dir).toBe('/data');
      expect(service.build).toBeDefined();
      expect(service.volumes).toHaveLength(1);
      const [volume, mount] = service.volumes![0]!.split(':');
      expect(mount).toBe('/data');
      volumes.add(volume!);
      expect(Object.keys(compose.volumes ?? {})).toContain(volume);
      // Apart from the directory, exactly what the launcher passes.
      const launcherNode = launcherTopology.nodes[node.index]!;
      expect(launcherNode.args.map((a, i) => (launcherNode.args[i - 1] === '--dir' ? '/data' : a))).toEqual(node.args);
    }
    expect(volumes.size).toBe(6);
  });

  it('builds the image the compose file runs: node:20-slim, npm run build, the same entry point, both ports exposed', () => {
    expect(stage.from).toMatch(/^node:20-slim\b/);
    expect(dockerfile).toMatch(/^RUN npm (ci|install)\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build\b/m);
    const cmd = JSON.parse(stage.lines.filter(([op]) => op === 'CMD').at(-1)![1]) as string[];
    expect(cmd.slice(0, 2)).toEqual(['node', serverInImage]);
    for (const service of Object.values(compose.services)) expect(service.command!.slice(0, 1)).toEqual(['node']);
    const exposed = stage.lines.filter(([op]) => op === 'EXPOSE').flatMap(([, ports]) => ports.split(/\s+/));
    expect(exposed).toContain('6379');
    expect(exposed).toContain(String(6379 + BUS_PORT_OFFSET));
    // The image carries the built server (same path as package.json's bin) and the launcher cluster-init runs.
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin['strata-server']).toBe(SERVER_JS);
    expect(pkg.scripts.cluster).toBe('npm run build --silent && node scripts/cluster.mjs');
    expect(stage.lines.some(([op, arg]) => op === 'COPY' && arg.includes('/app/dist') && arg.endsWith('./dist'))).toBe(true);
    expect(stage.lines.some(([op, arg]) => op === 'COPY' && /^scripts \.\/scripts$/.test(arg))).toBe(true);
  });
});

// ---------------------------------------------------------------------------

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A first port of `count` consecutive free client ports whose bus ports are free too (10000-21999, as test/helpers/processes.ts). */
async function findFreeBase(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 10000 + Math.floor(Math.random() * (12000 - count));
    let free = true;
    for (let p = base; p < base + count && free; p++) free = (await canListen(p)) && (await canListen(p + BUS_PORT_OFFSET));
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports (with bus ports) after 200 tries`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('npm run cluster (the real launcher, 3 masters with one replica each)', () => {
  let launcher: ChildProcess | null = null;
  let exited: Promise<number | null> | null = null;
  let output = '';
  let base = 0;
  let dir = '';
  const pids: number[] = [];

  beforeAll(async () => {
    base = await findFreeBase(6);
    dir = mkdtempSync(path.join(tmpdir(), 'strata-launcher-'));
    // The launcher gives up (with its own message) before the hook does.
    const child = spawn(process.execPath, [LAUNCHER, '--masters', '3', '--replicas', '1', '--base-port', String(base), '--dir', dir, '--timeout', '40'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    launcher = child;
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout!.on('data', (d: Buffer) => (output += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString('utf8')));
    // Ready once it prints how to connect; a launcher that exits first has failed (its output says why).
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "redis-cli -c -p ${base}" line after 55 s; launcher output:\n${output}`)), 55_000);
      const look = (): void => {
        if (output.includes(`redis-cli -c -p ${base}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', look);
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the launcher exited (${code ?? signal}) before the cluster was ready; its output:\n${output}`));
      });
    });
    for (const m of output.matchAll(/^started node (\d+) \(pid (\d+)/gm)) pids.push(Number(m[2]));
  });

  afterAll(async () => {
    if (launcher && launcher.exitCode === null && launcher.signalCode === null) {
      launcher.kill('SIGKILL');
      await exited;
    }
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('started six nodes', () => {
    expect(pids).toHaveLength(6);
    expect(pids.every(alive)).toBe(true);
  });

  it('serves SET/GET through ioredis\'s cluster client, keys spread over every master', async () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: base }], {
      redisOptions: { maxRetriesPerRequest: 2 },
      clusterRetryStrategy: (times) => (times > 10 ? null : 200),
    });
    cluster.on('error', () => undefined);
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `launcher:key:${i}`);
      for (const k of keys) expect(await cluster.set(k, `value of ${k}`)).toBe('OK');
      for (const k of keys) expect(await cluster.get(k)).toBe(`value of ${k}`);
      const masters = cluster.nodes('master');
      expect(masters).toHaveLength(3);
      const sizes = await Promise.all(masters.map((m) => m.dbsize()));
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(keys.length);
      expect(sizes.every((s) => s > 0)).toBe(true);
    } finally {
      cluster.disconnect();
    }
  });

  it('CLUSTER NODES shows 3 masters with the launcher\'s slots and 3 replicas, one per master', async () => {
    const r = new Redis({ host: '127.0.0.1', port: base, maxRetriesPerRequest: 1, lazyConnect: true });
    r.on('error', () => undefined);
    try {
      await r.connect();
      const text = String(await r.call('CLUSTER', 'NODES'));
      const nodes = text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => {
          const f = l.trim().split(' ');
          return { id: f[0]!, port: Number(f[1]!.split('@')[0]!.split(':').at(-1)), flags: f[2]!.split(','), master: f[3]!, slots: f.slice(8).join(' ') };
        });
      expect(nodes).toHaveLength(6);
      const masters = nodes.filter((n) => n.flags.includes('master'));
      const replicas = nodes.filter((n) => n.flags.includes('slave'));
      expect(masters).toHaveLength(3);
      expect(replicas).toHaveLength(3);
      const expected = clusterTopology({ masters: 3, replicas: 1, basePort: base });
      for (const e of expected.nodes) {
        const seen = nodes.find((n) => n.port === e.port)!;
        expect(seen).toBeDefined();
        if (e.role === 'master') {
          expect(seen.flags).toContain('master');
          expect(seen.slots).toBe(`${e.slots!.start}-${e.slots!.end}`);
        } else {
          expect(seen.flags).toContain('slave');
          expect(seen.master).toBe(nodes.find((n) => n.port === e.replicaOf)!.id);
        }
      }
    } finally {
      r.disconnect();
    }
  });

  it('SIGINT stops every node and the launcher exits 0', async () => {
    launcher!.kill('SIGINT');
    expect(await exited).toBe(0);
    await eventually('every node process is gone', async () => {
      const left = pids.filter(alive);
      return left.length === 0 ? null : `still running: ${left.join(', ')}`;
    });
    for (let p = base; p < base + 6; p++) expect(await refused(p)).toBe(true);
    expect(output).toMatch(/all nodes stopped/);
  });
});
