// Bytes per element of one collection of N members (set, hash, sorted set,
// list), in-process on Strata's structures, next to Redis's used_memory
// delta for the same data when redis-server is installed.
//
//   npm run build && node --expose-gc bench/memory-per-element.mjs [N]
import { execFileSync, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { HashValue } from '../dist/src/store/hash.js';
import { QuickList } from '../dist/src/store/list.js';
import { SetValue } from '../dist/src/store/set.js';
import { ZSetValue } from '../dist/src/store/zset.js';

const N = Number(process.argv[2] ?? 1_000_000);
const member = (i) => `member:${i}`;

/** The JS heap plus buffers outside it (a list chunk read by range is packed into one). */
function heap() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const builders = {
  set: () => {
    const s = new SetValue(1);
    for (let i = 0; i < N; i++) s.add(member(i), 512);
    return s;
  },
  hash: () => {
    const h = new HashValue(1);
    const limits = { maxEntries: 128, maxValue: 64 };
    for (let i = 0; i < N; i++) h.set(member(i), `value:${i}`, limits);
    return h;
  },
  zset: () => {
    const z = new ZSetValue(1, 'skiplist');
    for (let i = 0; i < N; i++) z.insert(member(i), i);
    return z;
  },
  list: () => {
    const l = new QuickList();
    for (let i = 0; i < N; i++) l.pushTail(member(i));
    return l;
  },
  // The same list once LRANGE has read all of it: every chunk packed as RESP bulk strings.
  'list-read': () => {
    const l = builders.list();
    l.encodedRange(0, l.length, () => undefined);
    return l;
  },
};

function strata(type) {
  const before = heap();
  const value = builders[type]();
  const bytes = (heap() - before) / N;
  if (value === null) throw new Error('unreachable');
  return bytes;
}

function redisCommands(type) {
  const lines = [];
  for (let i = 0; i < N; i += 1000) {
    const args = [];
    for (let j = i; j < Math.min(N, i + 1000); j++) {
      if (type === 'set' || type.startsWith('list')) args.push(member(j));
      if (type === 'hash') args.push(member(j), `value:${j}`);
      if (type === 'zset') args.push(String(j), member(j));
    }
    const cmd = { set: 'SADD', hash: 'HSET', zset: 'ZADD', list: 'RPUSH', 'list-read': 'RPUSH' }[type];
    lines.push([cmd, `k${type}`, ...args].join(' '));
  }
  return lines.join('\n') + '\n';
}

async function redis(types) {
  try {
    execFileSync('redis-server', ['--version']);
  } catch {
    return null;
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    await sleep(300);
    const cli = (input, ...args) => execFileSync('redis-cli', ['-p', String(port), ...args], { input, maxBuffer: 1 << 28 }).toString();
    const used = () => Number(/used_memory:(\d+)/.exec(cli('', 'info', 'memory'))[1]);
    const out = {};
    for (const type of types) {
      const before = used();
      cli(redisCommands(type));
      out[type] = (used() - before) / N;
    }
    return out;
  } finally {
    child.kill();
  }
}

const types = ['set', 'hash', 'zset', 'list', 'list-read'];
const ours = Object.fromEntries(types.map((t) => [t, strata(t)]));
const theirs = await redis(types);
console.log(`one collection of ${N} elements (member:i, hash values value:i, zset scores i), bytes per element:`);
for (const t of types) console.log(`  ${t.padEnd(9)} strata ${ours[t].toFixed(1).padStart(7)}   redis ${theirs === null ? 'n/a' : theirs[t].toFixed(1).padStart(7)}`);
