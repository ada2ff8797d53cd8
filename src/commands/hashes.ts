import { formatHumanDouble } from '../protocol/format.js';
import type { Client } from '../server/client.js';
import type { HashField, HashValue } from '../store/hash.js';
import { hashForWrite, hashLimits, readHash, writeHash } from './hashes-common.js';
import { hrandfieldCommand } from './hashes-random.js';
import { parseScanCursor, parseScanOptions, replyScan, scanSteps } from './keys-scan.js';
import { addInt64, int64Of } from './strings-incr.js';
import type { CommandFlag, CommandSpec, Handler, KeyFlag, KeySpec } from './types.js';
import { ERR, globMatch, parseDouble } from './util.js';

/** The hash group (t_hash.c): thin handlers over store/hash.ts and hashes-common. */

type SetMode = 'hset' | 'hmset' | 'hsetnx';

/**
 * HSET, HMSET and HSETNX (hsetCommand / hsetnxCommand): sets every pair,
 * one "hset" event; HSET replies how many fields were created, HMSET OK,
 * HSETNX 1 or 0 (and leaves an existing field alone).
 */
function hsetGeneric(c: Client, argv: string[], mode: SetMode): void {
  if (mode !== 'hsetnx' && argv.length % 2 === 1) return c.error(`ERR wrong number of arguments for '${mode}' command`);
  const key = argv[1]!;
  const h = hashForWrite(c, key);
  if (h === null) return;
  if (mode === 'hsetnx' && h.has(argv[2]!)) return c.reply.int(0);
  const limits = hashLimits(c);
  let created = 0;
  for (let j = 2; j < argv.length; j += 2) if (h.set(argv[j]!, argv[j + 1]!, limits)) created++;
  c.db.written(key, 'hset');
  if (mode === 'hmset') c.reply.ok();
  else c.reply.int(created);
}

/** The shared tail of HINCRBY and HINCRBYFLOAT: stores the new text of argv[2] and notifies. */
function storeIncr(c: Client, argv: string[], h: HashValue, text: string, event: string): void {
  h.set(argv[2]!, text, hashLimits(c));
  c.db.written(argv[1]!, event);
}

/** HINCRBY key field increment: int64 arithmetic on the field (0 when missing). */
function hincrbyCommand(c: Client, argv: string[]): void {
  const incr = int64Of(argv[3]!);
  if (incr === null) return c.error(ERR.notInteger);
  const h = hashForWrite(c, argv[1]!);
  if (h === null) return;
  const current = h.get(argv[2]!);
  const value = current === undefined ? 0 : int64Of(current);
  if (value === null) return c.error('ERR hash value is not an integer');
  const sum = addInt64(value, incr);
  if (sum === null) return c.error(ERR.overflow);
  storeIncr(c, argv, h, String(sum), 'hincrby');
  c.reply.int(sum);
}

/** HINCRBYFLOAT key field increment: the result is stored and replied in Redis's human format. */
function hincrbyfloatCommand(c: Client, argv: string[]): void {
  const incr = parseDouble(argv[3]!);
  if (incr === null) return c.error(ERR.notFloat);
  if (!Number.isFinite(incr)) return c.error('ERR value is NaN or Infinity');
  const h = hashForWrite(c, argv[1]!);
  if (h === null) return;
  const current = h.get(argv[2]!);
  const value = current === undefined ? 0 : parseDouble(current);
  if (value === null) return c.error('ERR hash value is not a float');
  const sum = value + incr;
  if (!Number.isFinite(sum)) return c.error('ERR increment would produce NaN or Infinity');
  const text = formatHumanDouble(sum);
  storeIncr(c, argv, h, text, 'hincrbyfloat');
  c.reply.bulk(text);
}

function hgetCommand(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]!);
  if (h === null) return;
  const v = h?.get(argv[2]!);
  if (v === undefined) c.reply.nullBulk();
  else c.reply.bulk(v);
}

/** HMGET: a missing key is an empty hash (all nulls). */
function hmgetCommand(c: Client, argv: string[]): void {
  const h = readHash(c, argv[1]!);
  if (h === null) return;
  c.reply.arrayHeader(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const v = h?.get(argv[j]!);
    if (v === undefined) c.reply.nullBulk();
    else c.reply.bulk(v);
  }
}

/** HDEL: "hdel" if anything went, then "del" when the hash emptied (and is removed). */
function hdelCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const h = writeHash(c, key);
  if (h === null) return;
  if (h === undefined) return c.reply.int(0);
  let deleted = 0;
  for (let j = 2; j < argv.length && h.size > 0; j++) if (h.delete(argv[j]!)) deleted++;
  if (deleted > 0) {
    c.db.written(key, 'hdel');
    if (h.size === 0) {
      c.db.delete(key);
      c.db.written(key, 'del');
    }
  }
  c.reply.int(deleted);
}

/** HLEN, HSTRLEN, HEXISTS: an integer about the hash, 0 for a missing key. */
function hashInt(measure: (h: HashValue, argv: string[]) => number): Handler {
  return (c, argv) => {
    const h = readHash(c, argv[1]!);
    if (h !== null) c.reply.int(h === undefined ? 0 : measure(h, argv));
  };
}

const hlenCommand = hashInt((h) => h.size);
const hstrlenCommand = hashInt((h, argv) => h.get(argv[2]!)?.length ?? 0);
const hexistsCommand = hashInt((h, argv) => (h.has(argv[2]!) ? 1 : 0));

type GetAll = 'keys' | 'vals' | 'all';

/** genericHgetallCommand: HKEYS / HVALS (arrays) and HGETALL (a map in RESP3), in iteration order. */
function hgetallGeneric(c: Client, key: string, what: GetAll): void {
  const h = readHash(c, key);
  if (h === null) return;
  const size = h === undefined ? 0 : h.size;
  if (what === 'all') c.reply.mapHeader(size);
  else c.reply.arrayHeader(size);
  if (h === undefined) return;
  for (const n of h.nodes()) {
    if (what !== 'vals') c.reply.bulk(n.key);
    if (what !== 'keys') c.reply.bulk(n.value);
  }
}

/** HSCAN key cursor [MATCH pattern] [COUNT count]: field, value pairs of the visited buckets. */
function hscanCommand(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[2]!);
  if (cursor === null) return;
  const h = readHash(c, argv[1]!);
  if (h === null) return;
  if (h === undefined) return replyScan(c, 0, []);
  const opts = parseScanOptions(c, argv, 3, false);
  if (opts === null) return;
  const found: HashField[] = [];
  const next = scanSteps<HashField>((cur, visit) => h.scan(cur, visit), cursor, opts.count, found);
  const items: string[] = [];
  for (const n of found) if (opts.pattern === null || globMatch(opts.pattern, n.key)) items.push(n.key, n.value);
  replyScan(c, next, items);
}

// ---- command table ----

function keyAt1(...flags: KeyFlag[]): KeySpec[] {
  return [{ kind: 'range', first: 1, last: 1, step: 1, flags }];
}

/** One hash-group spec; `since` defaults to 2.0.0. */
function spec(
  name: string, arity: number, flags: CommandFlag[], keyFlags: KeyFlag[], syntax: string,
  summary: string, complexity: string, handler: Handler, extra: Partial<CommandSpec> = {},
): CommandSpec {
  return { name, arity, flags, keys: keyAt1(...keyFlags), group: 'hash', since: '2.0.0', summary, complexity, syntax, handler, ...extra };
}

const O1 = 'O(1)';
const ON = 'O(N) where N is the size of the hash.';
const ORDER: Partial<CommandSpec> = { tips: ['nondeterministic_output_order'] };
const WRITE_FAST: CommandFlag[] = ['write', 'denyoom', 'fast'];
const RO_FAST: CommandFlag[] = ['readonly', 'fast'];

export const hashCommands: CommandSpec[] = [
  spec('hset', -4, WRITE_FAST, ['RW', 'UPDATE'], 'key field value [field value ...]', 'Set the string value of a hash field',
    'O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.',
    (c, argv) => hsetGeneric(c, argv, 'hset')),
  spec('hsetnx', 4, WRITE_FAST, ['RW', 'INSERT'], 'key field value',
    'Set the value of a hash field, only if the field does not exist', O1, (c, argv) => hsetGeneric(c, argv, 'hsetnx')),
  spec('hmset', -4, WRITE_FAST, ['RW', 'UPDATE'], 'key field value [field value ...]',
    'Set multiple hash fields to multiple values', 'O(N) where N is the number of fields being set.',
    (c, argv) => hsetGeneric(c, argv, 'hmset'),
    { docFlags: ['deprecated'], replacedBy: '`HSET` with multiple field-value pairs', deprecatedSince: '4.0.0' }),
  spec('hget', 3, RO_FAST, ['RO', 'ACCESS'], 'key field', 'Get the value of a hash field', O1, hgetCommand),
  spec('hmget', -3, RO_FAST, ['RO', 'ACCESS'], 'key field [field ...]', 'Get the values of all the given hash fields',
    'O(N) where N is the number of fields being requested.', hmgetCommand),
  spec('hdel', -3, ['write', 'fast'], ['RW', 'DELETE'], 'key field [field ...]', 'Delete one or more hash fields',
    'O(N) where N is the number of fields to be removed.', hdelCommand),
  spec('hlen', 2, RO_FAST, ['RO'], 'key', 'Get the number of fields in a hash', O1, hlenCommand),
  spec('hstrlen', 3, RO_FAST, ['RO'], 'key field', 'Get the length of the value of a hash field', O1, hstrlenCommand,
    { since: '3.2.0' }),
  spec('hexists', 3, RO_FAST, ['RO'], 'key field', 'Determine if a hash field exists', O1, hexistsCommand),
  spec('hkeys', 2, ['readonly'], ['RO', 'ACCESS'], 'key', 'Get all the fields in a hash', ON,
    (c, argv) => hgetallGeneric(c, argv[1]!, 'keys'), ORDER),
  spec('hvals', 2, ['readonly'], ['RO', 'ACCESS'], 'key', 'Get all the values in a hash', ON,
    (c, argv) => hgetallGeneric(c, argv[1]!, 'vals'), ORDER),
  spec('hgetall', 2, ['readonly'], ['RO', 'ACCESS'], 'key', 'Get all the fields and values in a hash', ON,
    (c, argv) => hgetallGeneric(c, argv[1]!, 'all'), ORDER),
  spec('hincrby', 4, WRITE_FAST, ['RW', 'ACCESS', 'UPDATE'], 'key field increment',
    'Increment the integer value of a hash field by the given number', O1, hincrbyCommand),
  spec('hincrbyfloat', 4, WRITE_FAST, ['RW', 'ACCESS', 'UPDATE'], 'key field increment',
    'Increment the float value of a hash field by the given amount', O1, hincrbyfloatCommand, { since: '2.6.0' }),
  spec('hrandfield', -2, ['readonly'], ['RO', 'ACCESS'], 'key [count [WITHVALUES]]',
    'Get one or multiple random fields from a hash', 'O(N) where N is the number of fields returned', hrandfieldCommand,
    { since: '6.2.0', tips: ['nondeterministic_output'] }),
  spec('hscan', -3, ['readonly'], ['RO', 'ACCESS'], 'key cursor [MATCH pattern] [COUNT count]',
    'Incrementally iterate hash fields and associated values',
    'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    hscanCommand, { since: '2.8.0', tips: ['nondeterministic_output'] }),
];
