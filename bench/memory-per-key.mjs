// Bytes per key at N small string keys, in-process, with and without the
// replication metadata (KeyCrdt), next to what Redis reports for the same
// keys (DEBUG POPULATE N: key:i -> value:i) when redis-server is installed.
//
//   npm run build && node --expose-gc bench/memory-per-key.mjs [N]
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyCrdt } from '../dist/src/replication/key-crdt.js';
import { Keyspace } from '../dist/src/store/keyspace.js';

const N = Number(process.argv[2] ?? 1_000_000);

function heapAfterGc() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

function measure(replicated) {
  let crdt = null;
  const listener = {
    keyWritten: (db, key, event) => crdt?.written(db, key, event),
    keyExpired: () => {},
    keyCreated: () => {},
  };
  const keyspace = new Keyspace(16, 1, { nowMs: () => 1_800_000_000_000, expiryPaused: false }, listener);
  // Stamps of the size a real HLC hands out today (Hlc: ms since 2020 times 4096), beyond a small integer.
  let tick = 2 ** 50;
  if (replicated) {
    crdt = new KeyCrdt('f'.repeat(40), { now: () => ++tick }, 16, () => {});
    for (const db of keyspace.all()) db.crdt = crdt;
  }
  const before = heapAfterGc();
  const db = keyspace.db(0);
  for (let i = 0; i < N; i++) {
    const key = `key:${i}`;
    db.add(key, 'string', `value:${i}`);
    db.written(key, 'set');
  }
  const bytes = (heapAfterGc() - before) / N;
  if (db.size !== N) throw new Error('lost keys');
  return bytes;
}

async function redisBytesPerKey() {
  try {
    execFileSync('redis-server', ['--version']);
  } catch {
    return null;
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes'], { stdio: 'ignore' });
  try {
    await sleep(300);
    const cli = (...args) => execFileSync('redis-cli', ['-p', String(port), ...args]).toString();
    const used = () => Number(/used_memory:(\d+)/.exec(cli('info', 'memory'))[1]);
    const before = used();
    cli('debug', 'populate', String(N));
    return (used() - before) / N;
  } finally {
    child.kill();
  }
}

const plain = measure(false);
const replicated = measure(true);
const redis = await redisBytesPerKey();
console.log(`${N} keys (key:i -> value:i), bytes per key:`);
console.log(`  strata, no peers:   ${plain.toFixed(1)}`);
console.log(`  strata, with peers: ${replicated.toFixed(1)}  (version, digest, Merkle leaf)`);
console.log(`  redis 7.0:          ${redis === null ? 'redis-server not installed' : redis.toFixed(1)}`);
