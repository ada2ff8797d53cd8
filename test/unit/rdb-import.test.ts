import { describe, expect, it } from 'vitest';
import { applyRdb, decodeRdb, RdbImportError } from '../../src/persistence/rdb-import.js';
import { crc64Bytes } from '../../src/store/crc64.js';
import type { Database, KeyspaceListener } from '../../src/store/database.js';
import { accessSec } from '../../src/store/entry.js';
import { Keyspace } from '../../src/store/keyspace.js';
import { RDB_OPCODE, RDB_TYPE, RdbWriter } from '../../src/store/rdb.js';

/**
 * The file-level framing of RDB import on hand-built files: header,
 * opcodes, checksum, refusals (modules, pre-release functions, duplicates),
 * and how decoded keys are written into a keyspace. Values themselves are
 * decoded by the RESTORE loaders (covered with files from real Redis in
 * test/integration/rdb-import.test.ts).
 */

/** An RDB file: header, `body`, EOF, then the CRC64 (or zeros, or nothing for versions before 5). */
function rdb(body: (w: RdbWriter) => void, options: { version?: number; checksum?: 'crc' | 'zero' } = {}): Buffer {
  const version = options.version ?? 10;
  const w = new RdbWriter();
  w.bytes(`REDIS${String(version).padStart(4, '0')}`);
  body(w);
  w.byte(RDB_OPCODE.EOF);
  if (version >= 5) w.bytes(options.checksum === 'zero' ? Buffer.alloc(8) : crc64Bytes(w.toBuffer()));
  return Buffer.from(w.toBuffer());
}

function stringKey(w: RdbWriter, key: string, value: string): void {
  w.byte(RDB_TYPE.STRING);
  w.string(key, false);
  w.string(value, false);
}

/** A 64-bit module id (moduleTypeEncodeId): 9 name characters of 6 bits over a 10-bit encoding version. */
function moduleId(name: string, encver: number): Buffer {
  const charset = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let id = 0n;
  for (const ch of name) id = (id << 6n) | BigInt(charset.indexOf(ch));
  id = (id << 10n) | BigInt(encver);
  const b = Buffer.alloc(9);
  b[0] = 0x81; // RDB_64BITLEN
  b.writeBigUInt64BE(id, 1);
  return b;
}

function refusal(data: Buffer, dbCount = 16): string {
  try {
    decodeRdb(data, dbCount);
  } catch (err) {
    expect(err).toBeInstanceOf(RdbImportError);
    return (err as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('RDB import framing', () => {
  it('refuses a file that is not an RDB file, or one newer than Redis 7.0 writes', () => {
    expect(refusal(Buffer.from('HELLO0010\xff'))).toBe('Wrong signature trying to load DB from file');
    expect(refusal(rdb(() => undefined, { version: 11 }))).toBe("Can't handle RDB format version 0011");
  });

  it('accepts a zero checksum (rdbchecksum no) and files older than checksums', () => {
    const zero = decodeRdb(rdb((w) => stringKey(w, 'k', 'v'), { checksum: 'zero' }), 16);
    expect([zero.checksumDisabled, zero.keys.map((k) => k.key)]).toEqual([true, ['k']]);
    const v4 = decodeRdb(rdb((w) => stringKey(w, 'k', 'v'), { version: 4 }), 16);
    expect([v4.version, v4.keys.length]).toEqual([4, 1]);
  });

  it('reads SELECTDB, RESIZEDB, AUX and the per-key EXPIRETIME, EXPIRETIME_MS, FREQ and IDLE (reset after each key)', () => {
    const c = decodeRdb(rdb((w) => {
      w.byte(RDB_OPCODE.AUX);
      w.string('redis-ver', false);
      w.string('7.0.15', false);
      w.byte(RDB_OPCODE.SELECTDB);
      w.length(3);
      w.byte(RDB_OPCODE.RESIZEDB);
      w.length(3);
      w.length(2);
      w.byte(RDB_OPCODE.EXPIRETIME);
      w.bytes(Buffer.from(new Int32Array([2_000_000_000]).buffer));
      w.byte(RDB_OPCODE.FREQ);
      w.byte(77);
      stringKey(w, 'a', '1');
      w.byte(RDB_OPCODE.EXPIRETIME_MS);
      w.millisecondTime(1_700_000_000_123);
      w.byte(RDB_OPCODE.IDLE);
      w.length(300);
      stringKey(w, 'b', '2');
      stringKey(w, 'c', '3');
    }), 16);
    expect(c.aux.get('redis-ver')).toBe('7.0.15');
    expect(c.keys.map(({ db, key, expireAt, freq, idleSec }) => [db, key, expireAt, freq, idleSec])).toEqual([
      [3, 'a', 2_000_000_000_000, 77, -1],
      [3, 'b', 1_700_000_000_123, -1, 300],
      [3, 'c', 0, -1, -1],
    ]);
  });

  it('skips function libraries (FUNCTION2) and refuses the pre-release FUNCTION format', () => {
    const c = decodeRdb(rdb((w) => {
      w.byte(RDB_OPCODE.FUNCTION2);
      w.string("#!lua name=lib\nredis.register_function('f', function() return 1 end)", true);
      stringKey(w, 'k', 'v');
    }), 16);
    expect([c.functionsSkipped, c.keys.length]).toEqual([1, 1]);
    expect(refusal(rdb((w) => w.byte(RDB_OPCODE.FUNCTION)))).toBe('Pre-release function format not supported.');
  });

  it('refuses module values and module AUX data, naming the module', () => {
    const value = rdb((w) => {
      w.byte(RDB_TYPE.MODULE_2);
      w.string('doc', false);
      w.bytes(moduleId('ReJSON-RL', 3));
    });
    expect(refusal(value)).toBe("The RDB file contains module data I can't load: no matching module type 'ReJSON-RL' (key 'doc')");
    const aux = rdb((w) => {
      w.byte(RDB_OPCODE.MODULE_AUX);
      w.bytes(moduleId('search-ix', 1));
    });
    expect(refusal(aux)).toBe("The RDB file contains AUX module data I can't load: no matching module 'search-ix'");
  });

  it('refuses duplicate keys, databases beyond the configured count and unknown types', () => {
    expect(refusal(rdb((w) => {
      stringKey(w, 'k', 'v');
      stringKey(w, 'k', 'w');
    }))).toBe("RDB has duplicated key 'k' in DB 0");
    expect(refusal(rdb((w) => {
      w.byte(RDB_OPCODE.SELECTDB);
      w.length(16);
    }))).toBe('FATAL: Data file was created with a Redis server configured to handle more than 16 databases. Exiting');
    expect(refusal(rdb((w) => w.byte(8)))).toBe('Unknown RDB encoding type 8 (offset 9)');
  });

  it('refuses a checksum mismatch and a short read, and a value its loader finds malformed', () => {
    const good = rdb((w) => stringKey(w, 'key', 'value'));
    const flipped = Buffer.from(good);
    flipped[good.indexOf('value')]! ^= 0x20;
    expect(refusal(flipped)).toMatch(/^Wrong RDB checksum expected: \([0-9a-f]+\) got \([0-9a-f]+\)\. Aborting now\.$/);
    expect(refusal(good.subarray(0, good.length - 12))).toMatch(/^Short read or OOM loading DB\. Unrecoverable error, aborting now\. \(offset \d+\)$/);
    const badIntset = rdb((w) => {
      w.byte(RDB_TYPE.SET_INTSET);
      w.string('s', false);
      w.string(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), false);
    });
    expect(refusal(badIntset)).toMatch(/^Internal error in RDB reading offset \d+: bad intset encoding$/);
  });
});

describe('RDB import: writing decoded keys', () => {
  const NOW = 1_700_000_000_000;

  function keyspace(): { ks: Keyspace; writes: string[] } {
    const writes: string[] = [];
    const listener: KeyspaceListener = {
      keyWritten: (db: Database, key: string, event: string) => writes.push(`${db.id}/${key}:${event}`),
      keyExpired: () => undefined,
      keyCreated: () => undefined,
    };
    return { ks: new Keyspace(16, 1, { nowMs: () => NOW, expiryPaused: false }, listener), writes };
  }

  const file = rdb((w) => {
    w.byte(RDB_OPCODE.EXPIRETIME_MS);
    w.millisecondTime(NOW - 1);
    stringKey(w, 'expired', 'x');
    w.byte(RDB_OPCODE.EXPIRETIME_MS);
    w.millisecondTime(NOW + 5000);
    w.byte(RDB_OPCODE.IDLE);
    w.length(60);
    stringKey(w, 'ttl', 'y');
    w.byte(RDB_OPCODE.SELECTDB);
    w.length(2);
    w.byte(RDB_OPCODE.FREQ);
    w.byte(200);
    stringKey(w, 'existing', 'from file');
  });

  it('skips expired keys, keeps TTLs and LRU idle, replaces same-named keys, each a restore write', () => {
    const { ks, writes } = keyspace();
    ks.db(2).add('existing', 'string', 'old');
    const stats = applyRdb({ keyspace: ks, nowMs: () => NOW }, decodeRdb(file, 16));
    expect(stats).toEqual({ loaded: 2, expired: 1 });
    expect(writes).toEqual(['0/ttl:restore', '2/existing:restore']);
    expect(ks.db(0).lookup('expired')).toBeUndefined();
    const ttl = ks.db(0).lookup('ttl')!;
    expect([ttl.value, ttl.expireAt, ttl.accessedSec]).toEqual(['y', NOW + 5000, accessSec(NOW - 60_000)]);
    expect(ks.db(2).lookup('existing')!.value).toBe('from file');
  });

  it('applies FREQ under an LFU policy', () => {
    const { ks } = keyspace();
    ks.setLfuParams(10, 1, true);
    applyRdb({ keyspace: ks, nowMs: () => NOW }, decodeRdb(file, 16));
    expect(ks.db(2).lookup('existing')!.lfu).toBe(200);
  });
});
