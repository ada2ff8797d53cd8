import type { Client } from '../server/client.js';
import { idleSec, type Entry } from '../store/entry.js';
import { codecFor } from '../store/values.js';
import { replyHelp } from './help.js';
import { keyAt, lfuPolicy } from './keys-common.js';
import type { CommandSpec, Handler } from './types.js';

/** OBJECT ENCODING / FREQ / IDLETIME / REFCOUNT / HELP (object.c). */

const HELP = [
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
];

const ERR_LFU_SELECTED = 'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const ERR_LFU_NOT_SELECTED = 'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/** Redis skips shared integers when maxmemory evicts by LRU/LFU (each value needs its own access data). */
function sharedIntegers(c: Client): boolean {
  const policy = c.server.config.get('maxmemory-policy');
  return c.server.config.int('maxmemory') === 0 || !(policy.endsWith('-lru') || policy.endsWith('-lfu'));
}

const REPORTS: Record<string, (c: Client, e: Entry) => void> = {
  encoding: (c, e) => c.reply.bulk(codecFor(e.type)?.encoding(e.value) ?? 'unknown'),
  refcount: (c, e) => c.reply.int(codecFor(e.type)?.refcount(e.value, sharedIntegers(c)) ?? 1),
  idletime(c, e) {
    if (lfuPolicy(c)) return c.error(ERR_LFU_SELECTED);
    c.reply.int(idleSec(e, c.server.nowMs()));
  },
  freq(c, e) {
    if (!lfuPolicy(c)) return c.error(ERR_LFU_NOT_SELECTED);
    c.reply.int(c.db.frequency(e));
  },
};

/** OBJECT <sub> key: looks the key up without touching it; a missing key is a null reply. */
function report(name: string): Handler {
  const fn = REPORTS[name]!;
  return (c, argv) => {
    const e = c.db.lookup(argv[2]!);
    if (e === undefined) c.reply.nullBulk();
    else fn(c, e);
  };
}

function subcommand(name: string, since: string, summary: string): CommandSpec {
  return {
    name, arity: 3, flags: ['readonly'], keys: [keyAt(2, ['RO'])],
    group: 'generic', since, summary, complexity: 'O(1)', syntax: 'key',
    tips: ['nondeterministic_output'], handler: report(name),
  };
}

export const objectCommands: CommandSpec[] = [
  {
    name: 'object', arity: -2, flags: [], group: 'generic', since: '2.2.3',
    summary: 'A container for object introspection commands.', complexity: 'Depends on subcommand.',
    subcommands: [
      subcommand('encoding', '2.2.3', 'Returns the internal encoding of a Redis object.'),
      subcommand('freq', '4.0.0', 'Returns the logarithmic access frequency counter of a Redis object.'),
      subcommand('idletime', '2.2.3', 'Returns the time since the last access to a Redis object.'),
      subcommand('refcount', '2.2.3', 'Returns the reference count of a value of a key.'),
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'generic', since: '6.2.0',
        summary: 'Returns helpful text about the different subcommands.', complexity: 'O(1)',
        handler: (c) => replyHelp(c, 'object', HELP),
      },
    ],
  },
];
