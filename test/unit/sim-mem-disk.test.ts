import { describe, expect, it } from 'vitest';
import { MemDisk, seededRandom } from '../../sim/runtime/index.js';

/** MemDisk's crash model: what each kind of crash leaves of written, fsynced and renamed data. */
describe('MemDisk crashes', () => {
  const random = seededRandom(1, 'test');

  function logWith(disk: MemDisk, synced: string, unsynced: string[]): number {
    disk.mkdirp('/d');
    const fd = disk.openAppend('/d/log');
    disk.append(fd, Buffer.from(synced));
    disk.fsync(fd);
    disk.fsyncDir('/d');
    for (const u of unsynced) disk.append(fd, Buffer.from(u));
    return fd;
  }

  it('a process crash keeps every write, closes handles', () => {
    const disk = new MemDisk();
    const fd = logWith(disk, 'abc', ['def']);
    expect(disk.crash('process', random)).toEqual({ bytesLost: 0, tornWrites: 0, garbageWrites: 0, entriesUndone: 0 });
    expect(disk.readFile('/d/log').toString()).toBe('abcdef');
    expect(() => disk.append(fd, Buffer.from('x'))).toThrow(/EBADF/);
  });

  it('a machine crash loses exactly the unsynced bytes', () => {
    const disk = new MemDisk();
    logWith(disk, 'abc', ['def', 'gh']);
    expect(disk.crash('machine', random).bytesLost).toBe(5);
    expect(disk.readFile('/d/log').toString()).toBe('abc');
    // What survived is durable: a second crash loses nothing more.
    expect(disk.crash('machine', random).bytesLost).toBe(0);
  });

  it('a torn crash keeps the synced part, whole unsynced writes, then a prefix of one', () => {
    for (let i = 0; i < 200; i++) {
      const disk = new MemDisk();
      logWith(disk, 'SYNCED', ['aaaa', 'bbbbbbbb', 'cccc']);
      const loss = disk.crash('torn', seededRandom(i, 'torn'));
      const text = disk.readFile('/d/log');
      expect(text.subarray(0, 6).toString()).toBe('SYNCED');
      expect(text.length).toBeLessThan(6 + 16);
      expect(loss.bytesLost).toBe(6 + 16 - text.length);
      if (loss.garbageWrites === 0) expect('SYNCEDaaaabbbbbbbbcccc'.startsWith(text.toString('latin1'))).toBe(true);
    }
  });

  it('a new file or rename not made durable by fsyncDir is undone by a machine crash', () => {
    const disk = new MemDisk();
    disk.mkdirp('/d');
    disk.writeFileAtomic('/d/manifest', 'one');
    const fd = disk.openAppend('/d/new');
    disk.append(fd, Buffer.from('x'));
    disk.fsync(fd);
    disk.rename('/d/manifest', '/d/moved');
    const loss = disk.crash('machine', random);
    expect(loss.entriesUndone).toBeGreaterThan(0);
    expect(disk.exists('/d/new')).toBe(false);
    expect(disk.exists('/d/moved')).toBe(false);
    expect(disk.readFile('/d/manifest').toString()).toBe('one');
  });

  it('writeFileAtomic and truncate are durable when they return', () => {
    const disk = new MemDisk();
    logWith(disk, 'abcdef', ['ghi']);
    disk.truncate('/d/log', 4);
    disk.writeFileAtomic('/d/m', 'manifest');
    disk.crash('machine', random);
    expect(disk.readFile('/d/log').toString()).toBe('abcd');
    expect(disk.readFile('/d/m').toString()).toBe('manifest');
  });
});
