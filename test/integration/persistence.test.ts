import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, findClusterPort, SERVER_JS, sleep, StrataProcess } from '../helpers/processes.js';

/**
 * Persistence with real processes: SIGKILL at random moments never loses an
 * acknowledged write under appendfsync always; a torn log tail is cut off; a
 * corrupt record in the middle refuses to start; BGREWRITEAOF during writes
 * loses nothing. No timing assertions: every wait polls a condition.
 */

const dirs: string[] = [];
const nodes: StrataProcess[] = [];

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.kill()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function node(extra: string[] = []): Promise<{ n: StrataProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-aof-'));
  dirs.push(dir);
  const port = await findClusterPort(['127.0.0.1']);
  const n = new StrataProcess('127.0.0.1', port, ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', ...extra]);
  nodes.push(n);
  await n.start();
  return { n, dir };
}

/** The incremental log the manifest names. */
function incrFile(dir: string): string {
  const manifest = readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8');
  return join(dir, 'appendonlydir', /file (\S+) seq \d+ type i/.exec(manifest)![1]!);
}

/** Writes key:i = v:i for i in [from, to) with `depth` commands in flight; returns the acknowledged indexes, stopping at the first error. */
async function writeKeys(n: StrataProcess, from: number, to: number, acked: Set<number>, depth = 32): Promise<void> {
  const c = n.ioredis();
  let next = from;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < to) {
      const i = next++;
      try {
        await c.set(`key:${i}`, `v:${i}`);
        acked.add(i);
      } catch {
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: depth }, worker));
  c.disconnect();
}

async function missing(n: StrataProcess, acked: Set<number>): Promise<number[]> {
  const c = n.ioredis();
  const ids = [...acked].sort((a, b) => a - b);
  const lost: number[] = [];
  for (let at = 0; at < ids.length; at += 1000) {
    const chunk = ids.slice(at, at + 1000);
    const values = await c.mget(...chunk.map((i) => `key:${i}`));
    chunk.forEach((i, k) => values[k] !== `v:${i}` && lost.push(i));
  }
  c.disconnect();
  return lost;
}

describe('persistence (appendonly yes, appendfsync always)', () => {
  it('keeps every acknowledged key across SIGKILLs at random moments', async () => {
    const { n } = await node();
    const acked = new Set<number>();
    const total = 10_000;
    let from = 0;
    for (let restart = 0; restart < 5; restart++) {
      const writing = writeKeys(n, from, total, acked);
      await sleep(50 + Math.random() * 250);
      await n.kill();
      await writing;
      from = acked.size === 0 ? 0 : Math.max(...acked) + 1;
      await n.start();
      expect(await missing(n, acked)).toEqual([]);
    }
    await writeKeys(n, from, total, acked);
    expect(acked.size).toBeGreaterThan(0);
    expect(await missing(n, acked)).toEqual([]);
  });

  it('cuts off a torn tail and starts with the intact records', async () => {
    const { n, dir } = await node();
    const acked = new Set<number>();
    await writeKeys(n, 0, 500, acked);
    await n.kill();
    appendFileSync(incrFile(dir), Buffer.from([0x20, 0, 0, 0, 1, 2, 3, 4, 0x99, 0x98]));
    await n.start();
    expect(await missing(n, acked)).toEqual([]);
    expect(n.recentOutput()).toContain('truncating the torn tail');
    await writeKeys(n, 500, 600, acked);
    await n.kill();
    await n.start();
    expect(await missing(n, acked)).toEqual([]);
  });

  it('refuses to start on a corrupt record followed by intact ones', async () => {
    const { n, dir } = await node();
    await writeKeys(n, 0, 200, new Set(), 1);
    await n.kill();
    const file = incrFile(dir);
    const data = readFileSync(file);
    data[12] = data[12]! ^ 0xff; // inside the first record's payload
    writeFileSync(file, data);
    // Spawned directly: the node must exit on its own, with the reason in its log.
    const child = spawn(process.execPath, [SERVER_JS, '--port', String(n.port), '--dir', dir, '--appendonly', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).not.toBe(0);
    expect(output).toMatch(/Bad file format reading the append only file .*incr\.aof at offset 0 \(checksum mismatch\)/);
  });

  it('loses nothing written during BGREWRITEAOF, and the new base replaces the old files', async () => {
    const { n } = await node();
    const acked = new Set<number>();
    await writeKeys(n, 0, 6000, acked, 64);
    const writing = writeKeys(n, 6000, 12_000, acked);
    for (let i = 0; i < 3; i++) {
      const reply = await n.command('BGREWRITEAOF');
      expect(String(reply)).toMatch(/^Background append only file rewriting (started|scheduled)$/);
      await eventually('rewrite done', async () => ((await n.info('persistence')).get('aof_rewrite_in_progress') === '0' ? null : 'in progress'));
    }
    await writing;
    expect((await n.info('persistence')).get('aof_rewrites')).not.toBe('0');
    await n.kill();
    await n.start();
    expect(await missing(n, acked)).toEqual([]);
  });

  it('SAVE and BGSAVE write the snapshot that a node without appendonly loads', async () => {
    const { n, dir } = await node(['--appendonly', 'no']);
    const acked = new Set<number>();
    await writeKeys(n, 0, 3000, acked);
    expect(await n.command('SAVE')).toBe('OK');
    await writeKeys(n, 3000, 5000, acked);
    expect(await n.command('BGSAVE')).toBe('Background saving started');
    await eventually('bgsave done', async () => ((await n.info('persistence')).get('rdb_bgsave_in_progress') === '0' ? null : 'in progress'));
    expect((await n.info('persistence')).get('rdb_changes_since_last_save')).toBe('0');
    await n.kill();
    expect(readFileSync(join(dir, 'dump.rdb')).length).toBeGreaterThan(0);
    await n.start();
    expect(await missing(n, acked)).toEqual([]);
    expect(await n.command('CONFIG', 'SET', 'appendonly', 'yes')).toBe('OK');
    await eventually('aof created', async () => ((await n.info('persistence')).get('aof_rewrite_in_progress') === '0' ? null : 'in progress'));
    expect((await n.info('persistence')).get('aof_enabled')).toBe('1');
    expect(readFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8')).toMatch(/type b\n.*type i\n$/);
  });

  it('replays a batch mixing strings, collections and whole-database events to its final state', async () => {
    const { n } = await node();
    const c = n.ioredis();
    const big = 'b'.repeat(5000);
    await c.set('gone', 'x');
    await c.select(1);
    await c.set('in1', 'one');
    await c.select(0);
    // Strings are recorded at their write, collections and large strings at the commit, database resets at once.
    const first = await c
      .multi()
      .set('s1', 'x').flushdb().set('s2', 'y')
      .hset('k', 'f', 'v').del('k').set('k', 'str')
      .set('k2', 'str').del('k2').rpush('k2', 'a', 'b')
      .set('big', big).append('big', '!')
      .set('ttl', 'v', 'EX', 1000).persist('ttl')
      .exec();
    expect(first!.every(([err]) => err === null)).toBe(true);
    const second = await c.multi().set('z', '0').swapdb(0, 1).set('z', '2').exec();
    expect(second!.every(([err]) => err === null)).toBe(true);
    c.disconnect();
    await n.kill();
    await n.start();
    const d = n.ioredis();
    // After SWAPDB, database 0 holds what database 1 held, and the write made after it.
    expect(await d.mget('in1', 'z', 's2', 'gone')).toEqual(['one', '2', null, null]);
    await d.select(1);
    expect(await d.mget('s1', 's2', 'k', 'z', 'in1')).toEqual([null, 'y', 'str', '0', null]);
    expect(await d.lrange('k2', 0, -1)).toEqual(['a', 'b']);
    expect(await d.get('big')).toBe(`${big}!`);
    expect(await d.ttl('ttl')).toBe(-1);
    d.disconnect();
  });
});

describe('persistence (appendonly yes, appendfsync everysec)', () => {
  it('holds records only briefly: once appended, a SIGKILL loses none of them', async () => {
    const { n } = await node(['--appendfsync', 'everysec']);
    const acked = new Set<number>();
    await writeKeys(n, 0, 3000, acked);
    // The held records reach the file within HOLD_MS; INFO shows them until then (aof_buffer_length).
    await eventually('records appended', async () => ((await n.info('persistence')).get('aof_buffer_length') === '0' ? null : 'held'));
    await n.kill();
    await n.start();
    expect(await missing(n, acked)).toEqual([]);
  });
});
