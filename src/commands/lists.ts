import type { Client } from '../server/client.js';
import { End } from '../store/list.js';
import { blmoveCommand, bpopHandler, brpoplpushCommand } from './lists-blocking.js';
import { moveElement, parseEnd, pushValues, readList } from './lists-common.js';
import { lposCommand } from './lists-lpos.js';
import {
  blmpopCommand,
  lindexCommand,
  linsertCommand,
  lmpopCommand,
  lrangeCommand,
  lremCommand,
  lsetCommand,
  ltrimCommand,
  popHandler,
} from './lists-ops.js';
import type { CommandFlag, CommandSpec, Handler, KeyFlag, KeySpec } from './types.js';

/** The list group (t_list.c): the command table rows, over lists-common/-ops/-lpos/-blocking. */

/** LPUSH / RPUSH / LPUSHX / RPUSHX key element [element ...] (pushGenericCommand). */
function pushHandler(end: End, onlyIfExists: boolean): Handler {
  return (c: Client, argv: string[]) => {
    const n = pushValues(c, argv[1]!, argv.slice(2), end, onlyIfExists);
    if (n !== null) c.reply.int(n);
  };
}

function llenCommand(c: Client, argv: string[]): void {
  const list = readList(c, argv[1]!);
  if (list !== null) c.reply.int(list?.length ?? 0);
}

function lmoveCommand(c: Client, argv: string[]): void {
  const from = parseEnd(c, argv[3]!);
  if (from === null) return;
  const to = parseEnd(c, argv[4]!);
  if (to !== null) moveElement(c, argv[1]!, argv[2]!, from, to);
}

function rpoplpushCommand(c: Client, argv: string[]): void {
  moveElement(c, argv[1]!, argv[2]!, End.Tail, End.Head);
}

const key1 = (...flags: KeyFlag[]): KeySpec => ({ kind: 'range', first: 1, last: 1, step: 1, flags });
const key2 = (...flags: KeyFlag[]): KeySpec => ({ kind: 'range', first: 2, last: 2, step: 1, flags });
const POP_KEY = key1('RW', 'ACCESS', 'DELETE');
const MOVE_KEYS = [POP_KEY, key2('RW', 'INSERT')];

const PUSH_COMPLEXITY =
  'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.';

function list(
  name: string, arity: number, flags: CommandFlag[], keys: KeySpec[], since: string,
  summary: string, complexity: string, syntax: string, handler: Handler, extra: Partial<CommandSpec> = {},
): CommandSpec {
  return { name, arity, flags, keys, group: 'list', since, summary, complexity, syntax, handler, ...extra };
}

const W_FAST: CommandFlag[] = ['write', 'denyoom', 'fast'];
const BLOCKING: CommandFlag[] = ['write', 'noscript', 'blocking'];
const BLOCKING_MOVE: CommandFlag[] = ['write', 'denyoom', 'noscript', 'blocking'];
const INSERT_KEY = [key1('RW', 'INSERT')];
const BPOP_KEYS: KeySpec[] = [{ kind: 'range', first: 1, last: -2, step: 1, flags: ['RW', 'ACCESS', 'DELETE'] }];
const BPOP_COMPLEXITY = 'O(N) where N is the number of provided keys.';
const MPOP_COMPLEXITY = 'O(N+M) where N is the number of provided keys and M is the number of elements returned.';
const deprecated = (replacedBy: string): Partial<CommandSpec> => ({
  docFlags: ['deprecated'], deprecatedSince: '6.2.0', replacedBy,
});

export const listCommands: CommandSpec[] = [
  list('lpush', -3, W_FAST, INSERT_KEY, '1.0.0', 'Prepend one or multiple elements to a list', PUSH_COMPLEXITY,
    'key element [element ...]', pushHandler(End.Head, false)),
  list('rpush', -3, W_FAST, INSERT_KEY, '1.0.0', 'Append one or multiple elements to a list', PUSH_COMPLEXITY,
    'key element [element ...]', pushHandler(End.Tail, false)),
  list('lpushx', -3, W_FAST, INSERT_KEY, '2.2.0', 'Prepend an element to a list, only if the list exists', PUSH_COMPLEXITY,
    'key element [element ...]', pushHandler(End.Head, true)),
  list('rpushx', -3, W_FAST, INSERT_KEY, '2.2.0', 'Append an element to a list, only if the list exists', PUSH_COMPLEXITY,
    'key element [element ...]', pushHandler(End.Tail, true)),
  list('lpop', -2, ['write', 'fast'], [POP_KEY], '1.0.0', 'Remove and get the first elements in a list',
    'O(N) where N is the number of elements returned', 'key [count]', popHandler(End.Head)),
  list('rpop', -2, ['write', 'fast'], [POP_KEY], '1.0.0', 'Remove and get the last elements in a list',
    'O(N) where N is the number of elements returned', 'key [count]', popHandler(End.Tail)),
  list('llen', 2, ['readonly', 'fast'], [key1('RO')], '1.0.0', 'Get the length of a list', 'O(1)', 'key', llenCommand),
  list('lrange', 4, ['readonly'], [key1('RO', 'ACCESS')], '1.0.0', 'Get a range of elements from a list',
    'O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.',
    'key start stop', lrangeCommand),
  list('lindex', 3, ['readonly'], [key1('RO', 'ACCESS')], '1.0.0', 'Get an element from a list by its index',
    'O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).',
    'key index', lindexCommand),
  list('lset', 4, ['write', 'denyoom'], [key1('RW', 'UPDATE')], '1.0.0', 'Set the value of an element in a list by its index',
    'O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).',
    'key index element', lsetCommand),
  list('linsert', 5, ['write', 'denyoom'], INSERT_KEY, '2.2.0', 'Insert an element before or after another element in a list',
    'O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).',
    'key BEFORE | AFTER pivot element', linsertCommand),
  list('lrem', 4, ['write'], [key1('RW', 'DELETE')], '1.0.0', 'Remove elements from a list',
    'O(N+M) where N is the length of the list and M is the number of elements removed.', 'key count element', lremCommand),
  list('ltrim', 4, ['write'], [key1('RW', 'DELETE')], '1.0.0', 'Trim a list to the specified range',
    'O(N) where N is the number of elements to be removed by the operation.', 'key start stop', ltrimCommand),
  list('lpos', -3, ['readonly'], [key1('RO', 'ACCESS')], '6.0.6', 'Return the index of matching elements on a list',
    'O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.',
    'key element [RANK rank] [COUNT num-matches] [MAXLEN len]', lposCommand),
  list('lmove', 5, ['write', 'denyoom'], MOVE_KEYS, '6.2.0', 'Pop an element from a list, push it to another list and return it',
    'O(1)', 'source destination LEFT | RIGHT LEFT | RIGHT', lmoveCommand),
  list('rpoplpush', 3, ['write', 'denyoom'], MOVE_KEYS, '1.2.0', 'Remove the last element in a list, prepend it to another list and return it',
    'O(1)', 'source destination', rpoplpushCommand, deprecated('`LMOVE` with the `RIGHT` and `LEFT` arguments')),
  list('lmpop', -4, ['write'], [{ kind: 'keynum', keynumIndex: 1, firstKey: 2, step: 1, flags: ['RW', 'ACCESS', 'DELETE'] }],
    '7.0.0', 'Pop elements from a list', MPOP_COMPLEXITY, 'numkeys key [key ...] LEFT | RIGHT [COUNT count]', lmpopCommand),
  list('blpop', -3, BLOCKING, BPOP_KEYS, '2.0.0', 'Remove and get the first element in a list, or block until one is available',
    BPOP_COMPLEXITY, 'key [key ...] timeout', bpopHandler(End.Head)),
  list('brpop', -3, BLOCKING, BPOP_KEYS, '2.0.0', 'Remove and get the last element in a list, or block until one is available',
    BPOP_COMPLEXITY, 'key [key ...] timeout', bpopHandler(End.Tail)),
  list('blmove', 6, BLOCKING_MOVE, MOVE_KEYS, '6.2.0',
    'Pop an element from a list, push it to another list and return it; or block until one is available',
    'O(1)', 'source destination LEFT | RIGHT LEFT | RIGHT timeout', blmoveCommand),
  list('brpoplpush', 4, BLOCKING_MOVE, MOVE_KEYS, '2.2.0',
    'Pop an element from a list, push it to another list and return it; or block until one is available',
    'O(1)', 'source destination timeout', brpoplpushCommand, deprecated('`BLMOVE` with the `RIGHT` and `LEFT` arguments')),
  list('blmpop', -5, ['write', 'blocking'], [{ kind: 'keynum', keynumIndex: 2, firstKey: 3, step: 1, flags: ['RW', 'ACCESS', 'DELETE'] }],
    '7.0.0', 'Pop elements from a list, or block until one is available', MPOP_COMPLEXITY,
    'timeout numkeys key [key ...] LEFT | RIGHT [COUNT count]', blmpopCommand),
];
