import type { CommandSpec } from './types.js';
import { readOfType } from './util.js';

/** String commands. */
export const stringCommands: CommandSpec[] = [
  {
    name: 'get',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['RO', 'ACCESS'] }],
    group: 'string',
    since: '1.0.0',
    summary: 'Returns the string value of a key.',
    complexity: 'O(1)',
    syntax: 'key',
    handler(c, argv) {
      const e = readOfType(c, argv[1]!, 'string');
      if (e === null) return;
      if (e === undefined) c.reply.nullBulk();
      else c.reply.bulk(e.value as string);
    },
  },
  {
    name: 'set',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['RW', 'ACCESS', 'UPDATE'] }],
    group: 'string',
    since: '1.0.0',
    summary: 'Sets the string value of a key, ignoring its type. The key is created if it doesn\'t exist.',
    complexity: 'O(1)',
    syntax: 'key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]',
    handler(c, argv) {
      c.db.set(argv[1]!, 'string', argv[2]!);
      c.db.written(argv[1]!, 'set');
      c.reply.ok();
    },
  },
];
