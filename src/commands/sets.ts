import type { Client } from '../server/client.js';
import type { SetValue } from '../store/set.js';
import { parseScanCursor, parseScanOptions, replyScan, scanSteps } from './keys-scan.js';
import {
  deleteIfEmpty,
  maxIntsetEntries,
  readSet,
  setForWrite,
  sinterGeneric,
  sunionDiffGeneric,
  writeSet,
} from './sets-common.js';
import { spopCommand, srandmemberCommand } from './sets-random.js';
import type { CommandFlag, CommandSpec, Handler, KeyFlag, KeySpec } from './types.js';
import { ERR, globMatch, isArg, lookupWrite, parseInt64 } from './util.js';

/** The set group (t_set.c): thin handlers over sets-common (generics) and sets-random. */

function saddCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const s = setForWrite(c, key);
  if (s === null) return;
  const max = maxIntsetEntries(c);
  let added = 0;
  for (let j = 2; j < argv.length; j++) if (s.add(argv[j]!, max)) added++;
  if (added > 0) c.db.written(key, 'sadd');
  c.reply.int(added);
}

function sremCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const s = writeSet(c, key);
  if (s === null) return;
  if (s === undefined) return c.reply.int(0);
  let deleted = 0;
  for (let j = 2; j < argv.length && s.size > 0; j++) if (s.remove(argv[j]!)) deleted++;
  if (deleted > 0) {
    c.db.written(key, 'srem');
    deleteIfEmpty(c, key, s);
  }
  c.reply.int(deleted);
}

/** SMOVE source destination member: "srem" (+ "del") on source, "sadd" on destination only if added. */
function smoveCommand(c: Client, argv: string[]): void {
  const [, src, dst, member] = argv as [string, string, string, string];
  const srcEntry = lookupWrite(c, src);
  const dstEntry = lookupWrite(c, dst);
  if (srcEntry === undefined) return c.reply.int(0);
  if (srcEntry.type !== 'set' || (dstEntry !== undefined && dstEntry.type !== 'set')) return c.error(ERR.wrongType);
  const from = srcEntry.value as SetValue;
  if (srcEntry === dstEntry) return c.reply.int(from.has(member) ? 1 : 0);
  if (!from.remove(member)) return c.reply.int(0);
  c.db.written(src, 'srem');
  deleteIfEmpty(c, src, from);
  const to = setForWrite(c, dst)!;
  if (to.add(member, maxIntsetEntries(c))) c.db.written(dst, 'sadd');
  c.reply.int(1);
}

function sismemberCommand(c: Client, argv: string[]): void {
  const s = readSet(c, argv[1]!);
  if (s !== null) c.reply.int(s !== undefined && s.has(argv[2]!) ? 1 : 0);
}

function smismemberCommand(c: Client, argv: string[]): void {
  const s = readSet(c, argv[1]!);
  if (s === null) return;
  c.reply.arrayHeader(argv.length - 2);
  for (let j = 2; j < argv.length; j++) c.reply.int(s !== undefined && s.has(argv[j]!) ? 1 : 0);
}

function scardCommand(c: Client, argv: string[]): void {
  const s = readSet(c, argv[1]!);
  if (s !== null) c.reply.int(s === undefined ? 0 : s.size);
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit] */
function sintercardCommand(c: Client, argv: string[]): void {
  const numkeys = parseInt64(argv[1]!);
  if (numkeys === null || numkeys < 1n) return c.error('ERR numkeys should be greater than 0');
  if (numkeys > BigInt(argv.length - 2)) return c.error("ERR Number of keys can't be greater than number of args");
  const keysEnd = 2 + Number(numkeys);
  let limit = 0;
  for (let j = keysEnd; j < argv.length; j++) {
    if (!isArg(argv[j]!, 'LIMIT') || j + 1 >= argv.length) return c.error(ERR.syntax);
    const n = parseInt64(argv[++j]!);
    if (n === null || n < 0n) return c.error("ERR LIMIT can't be negative");
    limit = n > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(n);
  }
  sinterGeneric(c, argv.slice(2, keysEnd), { kind: 'card', limit });
}

/** SSCAN key cursor [MATCH pattern] [COUNT count]: cursor first, then the key, then the options. */
function sscanCommand(c: Client, argv: string[]): void {
  const cursor = parseScanCursor(c, argv[2]!);
  if (cursor === null) return;
  const s = readSet(c, argv[1]!);
  if (s === null) return;
  if (s === undefined) return replyScan(c, 0, []);
  const opts = parseScanOptions(c, argv, 3, false);
  if (opts === null) return;
  const found: string[] = [];
  const next = scanSteps<string>((cur, visit) => s.scan(cur, visit), cursor, opts.count, found);
  const pattern = opts.pattern;
  replyScan(c, next, pattern === null ? found : found.filter((m) => globMatch(pattern, m)));
}

const sinterCommand: Handler = (c, argv) => sinterGeneric(c, argv.slice(1), { kind: 'reply' });
const sinterstoreCommand: Handler = (c, argv) => sinterGeneric(c, argv.slice(2), { kind: 'store', dst: argv[1]! });
const sunionCommand: Handler = (c, argv) => sunionDiffGeneric(c, argv.slice(1), null, 'union');
const sunionstoreCommand: Handler = (c, argv) => sunionDiffGeneric(c, argv.slice(2), argv[1]!, 'union');
const sdiffCommand: Handler = (c, argv) => sunionDiffGeneric(c, argv.slice(1), null, 'diff');
const sdiffstoreCommand: Handler = (c, argv) => sunionDiffGeneric(c, argv.slice(2), argv[1]!, 'diff');

// ---- command table ----

function keyAt(index: number, ...flags: KeyFlag[]): KeySpec {
  return { kind: 'range', first: index, last: index, step: 1, flags };
}

function keysFrom(index: number, ...flags: KeyFlag[]): KeySpec {
  return { kind: 'range', first: index, last: -1, step: 1, flags };
}

/** One set-group spec; `since` defaults to 1.0.0. */
function spec(
  name: string, arity: number, flags: CommandFlag[], keys: KeySpec[], syntax: string,
  summary: string, complexity: string, handler: Handler, extra: Partial<CommandSpec> = {},
): CommandSpec {
  return { name, arity, flags, keys, group: 'set', since: '1.0.0', summary, complexity, syntax, handler, ...extra };
}

const O1 = 'O(1)';
const ORDER: Partial<CommandSpec> = { tips: ['nondeterministic_output_order'] };
const INTER_COMPLEXITY = 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.';
const TOTAL_COMPLEXITY = 'O(N) where N is the total number of elements in all given sets.';
const STORE_KEYS = (dstFlag: KeyFlag): KeySpec[] => [keyAt(1, dstFlag, 'UPDATE'), keysFrom(2, 'RO', 'ACCESS')];

export const setCommands: CommandSpec[] = [
  spec('sadd', -3, ['write', 'denyoom', 'fast'], [keyAt(1, 'RW', 'INSERT')], 'key member [member ...]',
    'Add one or more members to a set',
    'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.', saddCommand),
  spec('srem', -3, ['write', 'fast'], [keyAt(1, 'RW', 'DELETE')], 'key member [member ...]',
    'Remove one or more members from a set', 'O(N) where N is the number of members to be removed.', sremCommand),
  spec('scard', 2, ['readonly', 'fast'], [keyAt(1, 'RO')], 'key', 'Get the number of members in a set', O1, scardCommand),
  spec('sismember', 3, ['readonly', 'fast'], [keyAt(1, 'RO')], 'key member',
    'Determine if a given value is a member of a set', O1, sismemberCommand),
  spec('smismember', -3, ['readonly', 'fast'], [keyAt(1, 'RO', 'ACCESS')], 'key member [member ...]',
    'Returns the membership associated with the given elements for a set',
    'O(N) where N is the number of elements being checked for membership', smismemberCommand, { since: '6.2.0' }),
  spec('smembers', 2, ['readonly'], [keyAt(1, 'RO', 'ACCESS')], 'key', 'Get all the members in a set',
    'O(N) where N is the set cardinality.', sinterCommand, ORDER),
  spec('srandmember', -2, ['readonly'], [keyAt(1, 'RO', 'ACCESS')], 'key [count]',
    'Get one or multiple random members from a set',
    'Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.',
    srandmemberCommand, { tips: ['nondeterministic_output'] }),
  spec('spop', -2, ['write', 'fast'], [keyAt(1, 'RW', 'ACCESS', 'DELETE')], 'key [count]',
    'Remove and return one or multiple random members from a set',
    'Without the count argument O(1), otherwise O(N) where N is the value of the passed count.',
    spopCommand, { tips: ['nondeterministic_output'] }),
  spec('smove', 4, ['write', 'fast'], [keyAt(1, 'RW', 'ACCESS', 'DELETE'), keyAt(2, 'RW', 'INSERT')],
    'source destination member', 'Move a member from one set to another', O1, smoveCommand),
  spec('sinter', -2, ['readonly'], [keysFrom(1, 'RO', 'ACCESS')], 'key [key ...]', 'Intersect multiple sets',
    INTER_COMPLEXITY, sinterCommand, ORDER),
  spec('sintercard', -3, ['readonly'], [{ kind: 'keynum', keynumIndex: 1, firstKey: 2, step: 1, flags: ['RO', 'ACCESS'] }],
    'numkeys key [key ...] [LIMIT limit]', 'Intersect multiple sets and return the cardinality of the result',
    INTER_COMPLEXITY, sintercardCommand, { since: '7.0.0' }),
  spec('sinterstore', -3, ['write', 'denyoom'], STORE_KEYS('RW'), 'destination key [key ...]',
    'Intersect multiple sets and store the resulting set in a key', INTER_COMPLEXITY, sinterstoreCommand),
  spec('sunion', -2, ['readonly'], [keysFrom(1, 'RO', 'ACCESS')], 'key [key ...]', 'Add multiple sets',
    TOTAL_COMPLEXITY, sunionCommand, ORDER),
  spec('sunionstore', -3, ['write', 'denyoom'], STORE_KEYS('OW'), 'destination key [key ...]',
    'Add multiple sets and store the resulting set in a key', TOTAL_COMPLEXITY, sunionstoreCommand),
  spec('sdiff', -2, ['readonly'], [keysFrom(1, 'RO', 'ACCESS')], 'key [key ...]', 'Subtract multiple sets',
    TOTAL_COMPLEXITY, sdiffCommand, ORDER),
  spec('sdiffstore', -3, ['write', 'denyoom'], STORE_KEYS('OW'), 'destination key [key ...]',
    'Subtract multiple sets and store the resulting set in a key', TOTAL_COMPLEXITY, sdiffstoreCommand),
  spec('sscan', -3, ['readonly'], [keyAt(1, 'RO', 'ACCESS')], 'key cursor [MATCH pattern] [COUNT count]',
    'Incrementally iterate Set elements',
    'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    sscanCommand, { since: '2.8.0', tips: ['nondeterministic_output'] }),
];
