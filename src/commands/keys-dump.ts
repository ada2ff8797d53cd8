import type { Client } from '../server/client.js';
import { createDumpPayload, loadDumpPayload, verifyDumpPayload } from '../store/dump.js';
import { accessSec, type Entry } from '../store/entry.js';
import { keyAt, lfuPolicy } from './keys-common.js';
import type { CommandSpec } from './types.js';
import { ERR, isArg, lookupRead, lookupWrite, parseInteger } from './util.js';

/** DUMP and RESTORE with Redis's payload format (see store/dump.ts). */

function dumpKey(c: Client, argv: string[]): void {
  const e = lookupRead(c, argv[1]!);
  if (e === undefined) return c.reply.nullBulk();
  const payload = createDumpPayload(e.type, e.value, c.server.config.bool('rdbcompression'));
  if (payload === null) return c.error(`ERR DUMP of ${e.type} values is not supported yet`);
  c.reply.bulk(payload);
}

interface RestoreOptions {
  replace: boolean;
  absTtl: boolean;
  /** -1 when not given. */
  idleSec: number;
  freq: number;
}

/** REPLACE, ABSTTL, IDLETIME seconds, FREQ frequency (IDLETIME and FREQ exclude each other). */
function parseRestoreOptions(c: Client, argv: string[]): RestoreOptions | null {
  const o: RestoreOptions = { replace: false, absTtl: false, idleSec: -1, freq: -1 };
  for (let j = 4; j < argv.length; j++) {
    const opt = argv[j]!;
    const hasValue = j + 1 < argv.length;
    if (isArg(opt, 'REPLACE')) {
      o.replace = true;
    } else if (isArg(opt, 'ABSTTL')) {
      o.absTtl = true;
    } else if (isArg(opt, 'IDLETIME') && hasValue && o.freq === -1) {
      const v = parseInteger(argv[++j]!);
      if (v === null) return fail(c, ERR.notInteger);
      if (v < 0) return fail(c, 'ERR Invalid IDLETIME value, must be >= 0');
      o.idleSec = v;
    } else if (isArg(opt, 'FREQ') && hasValue && o.idleSec === -1) {
      const v = parseInteger(argv[++j]!);
      if (v === null) return fail(c, ERR.notInteger);
      if (v < 0 || v > 255) return fail(c, 'ERR Invalid FREQ value, must be >= 0 and <= 255');
      o.freq = v;
    } else {
      return fail(c, ERR.syntax);
    }
  }
  return o;
}

function fail(c: Client, message: string): null {
  c.error(message);
  return null;
}

/** objectSetLRUOrLFU: FREQ applies under an LFU policy, IDLETIME under any other. */
function applyAccessHints(c: Client, e: Entry, o: RestoreOptions): void {
  const now = c.server.nowMs();
  const lfu = lfuPolicy(c);
  if (o.freq >= 0) {
    if (!lfu) return;
    e.lfu = o.freq;
    e.accessedSec = accessSec(now);
  } else if (o.idleSec >= 0 && !lfu) {
    e.accessedSec = accessSec(now - o.idleSec * 1000);
  }
}

/** RESTORE's handler, shared with RESTORE-ASKING (commands/migrate.ts). */
export function restoreKey(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const o = parseRestoreOptions(c, argv);
  if (o === null) return;
  if (!o.replace && lookupWrite(c, key) !== undefined) return c.error('BUSYKEY Target key name already exists.');
  let ttl = parseInteger(argv[2]!);
  if (ttl === null) return c.error(ERR.notInteger);
  if (ttl < 0) return c.error('ERR Invalid TTL value, must be >= 0');
  const payload = Buffer.from(argv[3]!, 'latin1');
  if (!verifyDumpPayload(payload)) return c.error('ERR DUMP payload version or checksum are wrong');
  const loaded = loadDumpPayload(payload);
  if (loaded === null) return c.error('ERR Bad data format');
  const deleted = o.replace && c.db.delete(key) !== undefined;
  const now = c.server.nowMs();
  if (ttl !== 0 && !o.absTtl) ttl += now;
  if (ttl !== 0 && ttl <= now) {
    // Already expired: the key ends up absent.
    if (deleted) c.db.written(key, 'del');
    return c.reply.ok();
  }
  const e = c.db.addWithExpire(key, loaded.type, loaded.value, ttl);
  applyAccessHints(c, e, o);
  c.db.written(key, 'restore');
  c.reply.ok();
}

export const dumpCommands: CommandSpec[] = [
  {
    name: 'dump', arity: 2, flags: ['readonly'], keys: [keyAt(1, ['RO', 'ACCESS'])],
    group: 'generic', since: '2.6.0', summary: 'Returns a serialized representation of the value stored at a key.',
    complexity: 'O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).',
    syntax: 'key', tips: ['nondeterministic_output'], handler: dumpKey,
  },
  {
    name: 'restore', arity: -4, flags: ['write', 'denyoom'], acl: ['dangerous'], keys: [keyAt(1, ['OW', 'UPDATE'])],
    group: 'generic', since: '2.6.0', summary: 'Creates a key from the serialized representation of a value.',
    complexity: 'O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).',
    syntax: 'key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]',
    handler: restoreKey,
  },
];
