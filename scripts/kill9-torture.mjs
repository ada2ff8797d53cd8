#!/usr/bin/env node
// Kill -9 torture (issue 7): a client writes acknowledged keys while the node
// is SIGKILLed at random moments and restarted; at the end every acknowledged
// key must be present. With --fsync everysec it reports the loss window instead.
//
//   node scripts/kill9-torture.mjs [--keys 100000] [--restarts 20] [--fsync always|everysec] [--server dist/src/bin/strata-server.js]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const KEYS = Number(opt('keys', 100000));
const RESTARTS = Number(opt('restarts', 20));
const FSYNC = opt('fsync', 'always');
const SERVER = opt('server', process.env.STRATA_SERVER_JS ?? 'dist/src/bin/strata-server.js');
const PORT = Number(opt('port', 17000 + Math.floor(Math.random() * 2000)));
const DEPTH = 32;
const dir = mkdtempSync(join(tmpdir(), 'strata-torture-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let child = null;
async function start() {
  child = spawn(process.execPath, [SERVER, '--port', String(PORT), '--dir', dir, '--appendonly', 'yes', '--appendfsync', FSYNC], { stdio: 'ignore' });
  for (let i = 0; i < 600; i++) {
    const c = new Redis({ port: PORT, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.ping();
      c.disconnect();
      return;
    } catch {
      c.disconnect();
      await sleep(50);
    }
  }
  throw new Error('server did not start');
}
async function kill() {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Acknowledged index -> when its reply arrived (ms). */
const acked = new Map();
let next = 0;
async function write(stopAt) {
  const c = new Redis({ port: PORT, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  c.on('error', () => {});
  let failed = false;
  const worker = async () => {
    while (!failed && next < stopAt) {
      const i = next++;
      try {
        await c.set(`key:${i}`, `v:${i}`);
        acked.set(i, Date.now());
      } catch {
        failed = true;
        next = Math.min(next, i);
      }
    }
  };
  await Promise.all(Array.from({ length: DEPTH }, worker));
  c.disconnect();
}

async function lostKeys() {
  const c = new Redis({ port: PORT });
  const ids = [...acked.keys()].sort((a, b) => a - b);
  const lost = [];
  for (let at = 0; at < ids.length; at += 5000) {
    const chunk = ids.slice(at, at + 5000);
    const values = await c.mget(...chunk.map((i) => `key:${i}`));
    chunk.forEach((i, k) => values[k] !== `v:${i}` && lost.push(i));
  }
  c.disconnect();
  return lost;
}

const t0 = Date.now();
let totalLost = 0;
let worstWindowMs = 0;
await start();
for (let r = 0; r < RESTARTS; r++) {
  const writing = write(KEYS);
  await sleep(100 + Math.random() * 600);
  const killedAt = Date.now();
  await kill();
  await writing;
  await start();
  const lost = await lostKeys();
  if (lost.length > 0) {
    // everysec: the acknowledged writes lost, and how long before the kill the oldest of them was acknowledged.
    const window = killedAt - Math.min(...lost.map((i) => acked.get(i)));
    worstWindowMs = Math.max(worstWindowMs, window);
    totalLost += lost.length;
    for (const i of lost) acked.delete(i);
    next = Math.min(next, Math.min(...lost));
  }
  console.log(`restart ${r + 1}/${RESTARTS}: acknowledged ${acked.size}, lost this round ${lost.length}`);
}
await write(KEYS);
const finalLost = await lostKeys();
await kill();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ fsync: FSYNC, keys: KEYS, restarts: RESTARTS, acknowledged: acked.size, lostDuringRun: totalLost, lostAtEnd: finalLost.length, worstLossWindowMs: worstWindowMs, seconds: (Date.now() - t0) / 1000 }));
process.exit(FSYNC === 'always' && totalLost + finalLost.length > 0 ? 1 : 0);
