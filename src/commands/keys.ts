import type { CommandSpec } from './types.js';

/** Generic keyspace commands. */
export const keyCommands: CommandSpec[] = [
  {
    name: 'del',
    arity: -2,
    flags: ['write'],
    keys: [{ kind: 'range', first: 1, last: -1, step: 1, flags: ['RM', 'DELETE'] }],
    group: 'generic',
    since: '1.0.0',
    summary: 'Deletes one or more keys.',
    complexity: 'O(N) where N is the number of keys that will be removed.',
    syntax: 'key [key ...]',
    handler(c, argv) {
      let n = 0;
      for (let i = 1; i < argv.length; i++) {
        if (c.db.lookup(argv[i]!) !== undefined) {
          c.db.delete(argv[i]!);
          c.db.written(argv[i]!, 'del');
          n++;
        }
      }
      c.reply.int(n);
    },
  },
];
