import type { Client } from '../server/client.js';
import { appendBytes, writableBytes } from '../store/bytes.js';
import type { Bytes } from '../store/entry.js';
import { readString, replyBytes, replyRange, storeString, stringLengthOk } from './strings-common.js';
import { incrByCommand, incrbyfloatCommand, incrGeneric } from './strings-incr.js';
import { lcsCommand } from './strings-lcs.js';
import {
  getexCommand,
  msetGeneric,
  parsedOptions,
  parseStringOptions,
  SET_EX,
  SET_GET,
  SET_NX,
  SET_PX,
  setGeneric,
  SetReply,
} from './strings-set.js';
import type { CommandSpec, KeyFlag, KeySpec } from './types.js';
import { intArg, lookupRead, prefetchKeys, writeOfType } from './util.js';

/** The string group (t_string.c): thin handlers over strings-set, strings-incr, strings-lcs. */

/** Key spec of a command whose only key is argv[1]. */
function firstKey(...flags: KeyFlag[]): KeySpec[] {
  return [{ kind: 'range', first: 1, last: 1, step: 1, flags }];
}

/** SET reads the old value only with GET; otherwise it just overwrites (Redis's setGetKeys). */
function setKeyFlags(argv: readonly string[]): KeyFlag[] {
  for (let i = 3; i < argv.length; i++) if (argv[i]!.toUpperCase() === 'GET') return ['RW', 'ACCESS', 'UPDATE'];
  return ['OW', 'UPDATE'];
}

const O1 = 'O(1)';
const RANGE_COMPLEXITY =
  'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.';

function getCommand(c: Client, argv: string[]): void {
  const v = readString(c, argv[1]!);
  if (v === undefined) c.reply.nullBulk();
  else if (v !== null) replyBytes(c, v);
}

function setCommand(c: Client, argv: string[]): void {
  if (argv.length === 3) {
    setGeneric(c, argv[1]!, argv[2]!, 0, null, 'set', SetReply.OkOrNull);
  } else if (parseStringOptions(c, argv, true)) {
    setGeneric(c, argv[1]!, argv[2]!, parsedOptions.flags, parsedOptions.expire, 'set', SetReply.OkOrNull);
  }
}

function getdelCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const v = readString(c, key);
  if (v === null) return;
  if (v === undefined) {
    c.reply.nullBulk();
    return;
  }
  replyBytes(c, v);
  c.db.delete(key);
  c.db.written(key, 'del');
}

function mgetCommand(c: Client, argv: string[]): void {
  prefetchKeys(c, argv, 1, 1);
  c.reply.arrayHeader(argv.length - 1);
  for (let j = 1; j < argv.length; j++) {
    const e = lookupRead(c, argv[j]!);
    if (e === undefined || e.type !== 'string') c.reply.nullBulk();
    else replyBytes(c, e.value as Bytes);
  }
}

function appendCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const tail = argv[2]!;
  const e = writeOfType(c, key, 'string');
  if (e === null) return;
  let v: Bytes = tail;
  if (e !== undefined) {
    const old = e.value as Bytes;
    if (!stringLengthOk(c, old.length, tail.length)) return;
    v = appendBytes(old, tail);
  }
  storeString(c, key, e, v);
  c.db.written(key, 'append');
  c.reply.int(v.length);
}

function strlenCommand(c: Client, argv: string[]): void {
  const v = readString(c, argv[1]!);
  if (v !== null) c.reply.int(v === undefined ? 0 : v.length);
}

/** GETRANGE / SUBSTR key start end, with Redis's index clamping. */
function getrangeCommand(c: Client, argv: string[]): void {
  let start = intArg(c, argv[2]!);
  if (start === null) return;
  let end = intArg(c, argv[3]!);
  if (end === null) return;
  const v = readString(c, argv[1]!);
  if (v === null) return;
  if (v === undefined || (start < 0 && end < 0 && start > end)) {
    c.reply.bulk('');
    return;
  }
  const len = v.length;
  if (start < 0) start = Math.max(0, len + start);
  if (end < 0) end = Math.max(0, len + end);
  if (end >= len) end = len - 1;
  if (start > end) c.reply.bulk('');
  else replyRange(c, v, start, end + 1);
}

function setrangeCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const value = argv[3]!;
  const offset = intArg(c, argv[2]!);
  if (offset === null) return;
  if (offset < 0) {
    c.error('ERR offset is out of range');
    return;
  }
  const e = writeOfType(c, key, 'string');
  if (e === null) return;
  const old = e === undefined ? undefined : (e.value as Bytes);
  if (value.length === 0) {
    c.reply.int(old === undefined ? 0 : old.length);
    return;
  }
  if (!stringLengthOk(c, offset, value.length)) return;
  const buf = writableBytes(old, offset + value.length);
  buf.latin1Write(value, offset);
  storeString(c, key, e, buf);
  c.db.written(key, 'setrange');
  c.reply.int(buf.length);
}

export const stringCommands: CommandSpec[] = [
  {
    name: 'get',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: firstKey('RO', 'ACCESS'),
    group: 'string',
    since: '1.0.0',
    summary: 'Returns the string value of a key.',
    complexity: O1,
    syntax: 'key',
    handler: getCommand,
  },
  {
    name: 'set',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: [{ ...firstKey('RW', 'ACCESS', 'UPDATE', 'VARIABLE_FLAGS')[0]!, flagsFor: setKeyFlags }],
    group: 'string',
    since: '1.0.0',
    summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    complexity: O1,
    syntax:
      'key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]',
    handler: setCommand,
  },
  {
    name: 'setnx',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: firstKey('OW', 'INSERT'),
    group: 'string',
    since: '1.0.0',
    summary: "Sets the string value of a key only when the key doesn't exist.",
    complexity: O1,
    syntax: 'key value',
    handler: (c, argv) => setGeneric(c, argv[1]!, argv[2]!, SET_NX, null, 'setnx', SetReply.OneOrZero),
  },
  {
    name: 'setex',
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: firstKey('OW', 'UPDATE'),
    group: 'string',
    since: '2.0.0',
    summary: 'Sets the string value and expiration time of a key. Creates the key if it doesn\'t exist.',
    complexity: O1,
    syntax: 'key seconds value',
    handler: (c, argv) => setGeneric(c, argv[1]!, argv[3]!, SET_EX, argv[2]!, 'setex', SetReply.OkOrNull),
  },
  {
    name: 'psetex',
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: firstKey('OW', 'UPDATE'),
    group: 'string',
    since: '2.6.0',
    summary: 'Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn\'t exist.',
    complexity: O1,
    syntax: 'key milliseconds value',
    handler: (c, argv) => setGeneric(c, argv[1]!, argv[3]!, SET_PX, argv[2]!, 'psetex', SetReply.OkOrNull),
  },
  {
    name: 'getset',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: firstKey('RW', 'ACCESS', 'UPDATE'),
    group: 'string',
    since: '1.0.0',
    summary: 'Returns the previous string value of a key after setting it to a new value.',
    complexity: O1,
    syntax: 'key value',
    docFlags: ['deprecated'],
    deprecatedSince: '6.2.0',
    replacedBy: '`SET` with the `!GET` argument',
    handler: (c, argv) => setGeneric(c, argv[1]!, argv[2]!, SET_GET, null, 'getset', SetReply.OkOrNull),
  },
  {
    name: 'getex',
    arity: -2,
    flags: ['write', 'fast'],
    keys: firstKey('RW', 'ACCESS', 'UPDATE'),
    group: 'string',
    since: '6.2.0',
    summary: 'Returns the string value of a key after setting its expiration time.',
    complexity: O1,
    syntax: 'key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]',
    handler: getexCommand,
  },
  {
    name: 'getdel',
    arity: 2,
    flags: ['write', 'fast'],
    keys: firstKey('RW', 'ACCESS', 'DELETE'),
    group: 'string',
    since: '6.2.0',
    summary: 'Returns the string value of a key after deleting the key.',
    complexity: O1,
    syntax: 'key',
    handler: getdelCommand,
  },
  {
    name: 'mset',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: [{ kind: 'range', first: 1, last: -1, step: 2, flags: ['OW', 'UPDATE'] }],
    group: 'string',
    since: '1.0.1',
    summary: 'Atomically creates or modifies the string values of one or more keys.',
    complexity: 'O(N) where N is the number of keys to set.',
    syntax: 'key value [key value ...]',
    handler: (c, argv) => msetGeneric(c, argv, false),
  },
  {
    name: 'msetnx',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: [{ kind: 'range', first: 1, last: -1, step: 2, flags: ['OW', 'INSERT'] }],
    group: 'string',
    since: '1.0.1',
    summary: 'Atomically modifies the string values of one or more keys only when all keys don\'t exist.',
    complexity: 'O(N) where N is the number of keys to set.',
    syntax: 'key value [key value ...]',
    handler: (c, argv) => msetGeneric(c, argv, true),
  },
  {
    name: 'mget',
    arity: -2,
    flags: ['readonly', 'fast'],
    keys: [{ kind: 'range', first: 1, last: -1, step: 1, flags: ['RO', 'ACCESS'] }],
    group: 'string',
    since: '1.0.0',
    summary: 'Atomically returns the string values of one or more keys.',
    complexity: 'O(N) where N is the number of keys to retrieve.',
    syntax: 'key [key ...]',
    handler: mgetCommand,
  },
  {
    name: 'append',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: firstKey('RW', 'INSERT'),
    group: 'string',
    since: '2.0.0',
    summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
    complexity:
      'O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.',
    syntax: 'key value',
    handler: appendCommand,
  },
  {
    name: 'strlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: firstKey('RO'),
    group: 'string',
    since: '2.2.0',
    summary: 'Returns the length of a string value.',
    complexity: O1,
    syntax: 'key',
    handler: strlenCommand,
  },
  {
    name: 'getrange',
    arity: 4,
    flags: ['readonly'],
    keys: firstKey('RO', 'ACCESS'),
    group: 'string',
    since: '2.4.0',
    summary: 'Returns a substring of the string stored at a key.',
    complexity: RANGE_COMPLEXITY,
    syntax: 'key start end',
    handler: getrangeCommand,
  },
  {
    name: 'substr',
    arity: 4,
    flags: ['readonly'],
    keys: firstKey('RO', 'ACCESS'),
    group: 'string',
    since: '1.0.0',
    summary: 'Returns a substring from a string value.',
    complexity: RANGE_COMPLEXITY,
    syntax: 'key start end',
    docFlags: ['deprecated'],
    deprecatedSince: '2.0.0',
    replacedBy: '`GETRANGE`',
    handler: getrangeCommand,
  },
  {
    name: 'setrange',
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: firstKey('RW', 'UPDATE'),
    group: 'string',
    since: '2.2.0',
    summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
    complexity:
      'O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.',
    syntax: 'key offset value',
    handler: setrangeCommand,
  },
  ...counterSpecs(),
  {
    name: 'lcs',
    arity: -3,
    flags: ['readonly'],
    keys: [{ kind: 'range', first: 1, last: 2, step: 1, flags: ['RO', 'ACCESS'] }],
    group: 'string',
    since: '7.0.0',
    summary: 'Finds the longest common substring.',
    complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively',
    syntax: 'key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]',
    handler: lcsCommand,
  },
];

/** INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT: same metadata shape, one incr routine. */
function counterSpecs(): CommandSpec[] {
  const counter = (name: string, arity: number, since: string, summary: string, syntax: string, handler: CommandSpec['handler']): CommandSpec => ({
    name,
    arity,
    flags: ['write', 'denyoom', 'fast'],
    keys: firstKey('RW', 'ACCESS', 'UPDATE'),
    group: 'string',
    since,
    summary,
    complexity: O1,
    syntax,
    handler,
  });
  return [
    counter('incr', 2, '1.0.0', 'Increments the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.', 'key', (c, argv) => incrGeneric(c, argv[1]!, 1)),
    counter('decr', 2, '1.0.0', 'Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn\'t exist.', 'key', (c, argv) => incrGeneric(c, argv[1]!, -1)),
    counter('incrby', 3, '1.0.0', 'Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.', 'key increment', (c, argv) => incrByCommand(c, argv, false)),
    counter('decrby', 3, '1.0.0', 'Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn\'t exist.', 'key decrement', (c, argv) => incrByCommand(c, argv, true)),
    counter('incrbyfloat', 3, '2.6.0', 'Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn\'t exist.', 'key increment', (c, argv) => incrbyfloatCommand(c, argv[1]!, argv[2]!)),
  ];
}
