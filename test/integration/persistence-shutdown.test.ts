import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, findClusterPort, StrataProcess } from '../helpers/processes.js';

/**
 * Redis's snapshot duties around shutdown and failed saves, with real
 * processes: SHUTDOWN and SIGTERM take a final snapshot when save points are
 * set (SHUTDOWN NOSAVE does not), and a failed BGSAVE refuses writes with
 * -MISCONF while stop-writes-on-bgsave-error is on, until a save succeeds.
 */

const dirs: string[] = [];
const nodes: StrataProcess[] = [];

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.kill()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function snapshotNode(): Promise<{ n: StrataProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-save-'));
  dirs.push(dir);
  const port = await findClusterPort(['127.0.0.1']);
  const n = new StrataProcess('127.0.0.1', port, ['--dir', dir, '--save', '3600 1']);
  nodes.push(n);
  await n.start();
  return { n, dir };
}

/** Stops the node the way `how` says and waits until its process has exited. */
async function stop(n: StrataProcess, how: 'SHUTDOWN' | 'SHUTDOWN NOSAVE' | 'SIGTERM'): Promise<void> {
  const child = n.child!;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  if (how === 'SIGTERM') child.kill('SIGTERM');
  // The connection closes with the process: no reply is expected.
  else await n.command(...(how.split(' ') as [string, ...string[]])).catch(() => undefined);
  expect(await exited).toBe(0);
}

describe('snapshots at shutdown', () => {
  it('SHUTDOWN and SIGTERM save when save points are set; SHUTDOWN NOSAVE does not', async () => {
    const { n, dir } = await snapshotNode();
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(false);
    await n.command('SET', 'a', '1');
    await stop(n, 'SHUTDOWN');
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(true);
    await n.start();
    expect(await n.command('GET', 'a')).toBe('1');

    await n.command('SET', 'b', '2');
    await stop(n, 'SHUTDOWN NOSAVE');
    await n.start();
    expect(await n.command('GET', 'b')).toBeNull();
    expect(await n.command('GET', 'a')).toBe('1');

    await n.command('SET', 'c', '3');
    await stop(n, 'SIGTERM');
    await n.start();
    expect(await n.command('MGET', 'a', 'c')).toEqual(['1', '3']);
  });
});

describe('stop-writes-on-bgsave-error', () => {
  it('refuses writes after a failed BGSAVE until a save succeeds', async () => {
    const { n, dir } = await snapshotNode();
    // The directory goes away: the snapshot's temporary file cannot be created.
    rmSync(dir, { recursive: true, force: true });
    expect(await n.command('BGSAVE')).toBe('Background saving started');
    await eventually('the BGSAVE failed', async () => ((await n.info('persistence')).get('rdb_last_bgsave_status') === 'err' ? null : 'not yet'));
    const misconf = await n.command('SET', 'k', 'v').then(
      () => 'accepted',
      (err: Error) => err.message,
    );
    expect(misconf).toMatch(/^MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk\./);
    expect(await n.command('GET', 'k')).toBeNull();
    // Reads still work; turning the option off lets writes through.
    await n.command('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no');
    expect(await n.command('SET', 'k', 'v')).toBe('OK');
    await n.command('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'yes');
    await expect(n.command('INCR', 'counter')).rejects.toThrow(/^MISCONF/);
    // A save that succeeds clears the error.
    mkdirSync(dir);
    expect(await n.command('SAVE')).toBe('OK');
    expect(await n.command('INCR', 'counter')).toBe(1);
  });
});
