#!/usr/bin/env node
/**
 * A real network partition on loopback, measured (run by hand as root; needs
 * iptables and a built dist/):
 *
 *   node scripts/partition-check.mjs [--server dist/src/bin/strata-server.js]
 *       [--partition-ms 10000] [--node-timeout 2000] [--port 16400] [--redis]
 *
 * Six nodes on 127.0.0.31-36 (bind-source-addr, so every link between two
 * nodes runs between their own addresses) form a cluster with redis-cli.
 * A client on 127.0.0.1 writes to the primary of one slot: SET of fresh keys
 * and INCR of a counter. iptables then drops every packet between that
 * primary's address and the other nodes' (not its clients') for
 * --partition-ms; the client keeps writing to it and counts what it
 * acknowledged, then follows the cluster to the new primary. After healing
 * the script waits for convergence and reports the acknowledged writes that
 * are missing and the counter against the acknowledged increments.
 * --redis runs the same against real redis-server processes for comparison.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Redis } from 'ioredis';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const useRedis = args.includes('--redis');
const SERVER = opt('server', 'dist/src/bin/strata-server.js');
const PARTITION_MS = Number(opt('partition-ms', '10000'));
const NODE_TIMEOUT = opt('node-timeout', '2000');
const PORT = Number(opt('port', '16400'));
const HOSTS = [31, 32, 33, 34, 35, 36].map((i) => `127.0.0.${i}`);
const KEY_TAG = '{p}';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];
const rules = [];

function start(host, dir) {
  const common = ['--port', String(PORT), '--bind', host, '--cluster-enabled', 'yes', '--cluster-node-timeout', NODE_TIMEOUT, '--dir', dir];
  const child = useRedis
    ? spawn('/usr/bin/redis-server', [...common, '--save', '', '--appendonly', 'no', '--bind-source-addr', host, '--protected-mode', 'no'], { stdio: 'ignore' })
    : spawn(process.execPath, [SERVER, ...common, '--bind-source-addr', host, '--protected-mode', 'no'], { stdio: 'ignore' });
  children.push(child);
}

async function until(what, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(200);
  }
}

function cut(victim) {
  for (const other of HOSTS) {
    if (other === victim) continue;
    for (const [s, d] of [[victim, other], [other, victim]]) {
      const rule = ['-s', s, '-d', d, '-j', 'DROP'];
      execFileSync('iptables', ['-I', 'INPUT', ...rule]);
      rules.push(rule);
    }
  }
}

function heal() {
  while (rules.length > 0) execFileSync('iptables', ['-D', 'INPUT', ...rules.pop()]);
}

async function primaryOfSlot(cluster, key) {
  const slot = Number(await cluster.cluster('KEYSLOT', key));
  const slots = await cluster.cluster('SLOTS');
  const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
  return range[2][0];
}

async function main() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'partition-'));
  HOSTS.forEach((h, i) => {
    const dir = path.join(base, String(i));
    fs.mkdirSync(dir);
    start(h, dir);
  });
  for (const h of HOSTS) await until(`${h} up`, async () => (await new Redis({ host: h, port: PORT, lazyConnect: true, retryStrategy: null }).ping()) === 'PONG');
  execFileSync('redis-cli', ['--cluster', 'create', ...HOSTS.map((h) => `${h}:${PORT}`), '--cluster-replicas', '1', '--cluster-yes'], { stdio: 'ignore' });
  const probe = new Redis({ host: HOSTS[0], port: PORT });
  await until('cluster ok', async () => String(await probe.cluster('INFO')).includes('cluster_state:ok'));
  await sleep(3000);
  const victim = await primaryOfSlot(probe, `k${KEY_TAG}`);
  say(`victim primary ${victim}:${PORT}`);

  // Writes go to the victim directly (a client that has not noticed), then follow MOVED.
  const acked = new Set();
  const ackedBy = new Map();
  let incrAcked = 0;
  let stop = false;
  let target = new Redis({ host: victim, port: PORT, maxRetriesPerRequest: 0, retryStrategy: () => 200 });
  target.on('error', () => undefined);
  let i = 0;
  const writer = (async () => {
    while (!stop) {
      const key = `k${KEY_TAG}:${i++}`;
      try {
        await target.set(key, 'v');
        acked.add(key);
        ackedBy.set(`${target.options.host}`, (ackedBy.get(`${target.options.host}`) ?? 0) + 1);
        await target.incr(`counter${KEY_TAG}`);
        incrAcked++;
      } catch (err) {
        const m = /MOVED \d+ ([\d.]+):(\d+)/.exec(String(err.message));
        if (m) {
          target.disconnect();
          target = new Redis({ host: m[1], port: Number(m[2]), maxRetriesPerRequest: 0, retryStrategy: () => 200 });
          target.on('error', () => undefined);
        } else await sleep(20);
      }
    }
  })();
  await sleep(2000);
  const before = acked.size;
  cut(victim);
  say(`partition: ${victim} cut from the other nodes for ${PARTITION_MS} ms`);
  const watch = new Redis({ host: victim, port: PORT, maxRetriesPerRequest: 0 });
  let noticedMs = -1;
  const cutAt = Date.now();
  while (Date.now() - cutAt < PARTITION_MS) {
    const info = String(await watch.cluster('INFO').catch(() => ''));
    if (noticedMs < 0 && info.includes('cluster_state:fail')) noticedMs = Date.now() - cutAt;
    await sleep(100);
  }
  watch.disconnect();
  const during = acked.size - before;
  say(`SETs acknowledged by the cut-off primary so far: ${ackedBy.get(victim)}`);
  say(`the cut-off primary reported cluster_state:fail after ${noticedMs < 0 ? 'never' : `${noticedMs} ms`}`);
  heal();
  say('healed');
  await sleep(3000);
  stop = true;
  await writer;
  await until('cluster ok after healing', async () => String(await probe.cluster('INFO')).includes('cluster_state:ok'));
  const primary = await primaryOfSlot(probe, `k${KEY_TAG}`);
  const check = new Redis({ host: primary, port: PORT });
  // Convergence: the former primary's writes reach the new one through replication.
  let missing = [];
  await until(
    'acknowledged writes present',
    async () => {
      const keys = [...acked];
      missing = [];
      for (let j = 0; j < keys.length; j += 500) {
        const values = await check.mget(keys.slice(j, j + 500));
        values.forEach((v, n) => v === null && missing.push(keys[j + n]));
      }
      return missing.length === 0;
    },
    30000,
  ).catch(() => undefined);
  const counter = Number(await check.get(`counter${KEY_TAG}`));
  say(`acknowledged SETs: ${acked.size} (${during} during the partition); missing after healing: ${missing.length}`);
  say(`acknowledged INCRs: ${incrAcked}; counter: ${counter}`);
  say(`new primary: ${primary}:${PORT}; acknowledged SETs by node: ${JSON.stringify([...ackedBy])}`);
  probe.disconnect();
  check.disconnect();
  target.disconnect();
}

function say(text) {
  process.stdout.write(`${text}\n`);
}

try {
  await main();
} finally {
  heal();
  for (const c of children) c.kill('SIGKILL');
}
process.exit(0);
