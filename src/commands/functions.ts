import type { CommandSpec } from './types.js';
import { isArg } from './util.js';

/**
 * FUNCTION / FCALL. Strata has no script engine yet, so no library can be
 * loaded: LOAD answers as Redis does for an engine it does not have, and the
 * rest operate on the (empty) set of libraries. FUNCTION FLUSH matters beyond
 * scripting: the Redis test suite and many tools call it to reset a server.
 */
const ENGINE_NAME_RE = /^#!(\S+)/;

export const functionCommands: CommandSpec[] = [
  {
    name: 'function',
    arity: -2,
    flags: [],
    group: 'scripting',
    since: '7.0.0',
    summary: 'A container for function commands.',
    complexity: 'Depends on subcommand.',
    subcommands: [
      {
        name: 'flush',
        arity: -2,
        flags: ['write', 'noscript'],
        group: 'scripting',
        since: '7.0.0',
        summary: 'Deletes all libraries and functions.',
        complexity: 'O(N) where N is the number of functions deleted',
        syntax: '[ASYNC | SYNC]',
        handler(c, argv) {
          if (argv.length > 3 || (argv.length === 3 && !isArg(argv[2]!, 'ASYNC') && !isArg(argv[2]!, 'SYNC'))) {
            c.error('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
            return;
          }
          c.reply.ok();
        },
      },
      {
        name: 'list',
        arity: -2,
        flags: ['noscript'],
        group: 'scripting',
        since: '7.0.0',
        summary: 'Returns information about all libraries.',
        complexity: 'O(N) where N is the number of functions',
        syntax: '[LIBRARYNAME library-name-pattern] [WITHCODE]',
        handler(c, argv) {
          for (let i = 2; i < argv.length; i++) {
            if (isArg(argv[i]!, 'WITHCODE')) continue;
            if (isArg(argv[i]!, 'LIBRARYNAME') && i + 1 < argv.length) {
              i++;
              continue;
            }
            c.error(`ERR Unknown argument ${argv[i]}`);
            return;
          }
          c.reply.emptyArray();
        },
      },
      {
        name: 'stats',
        arity: 2,
        flags: ['noscript', 'allow_busy'],
        group: 'scripting',
        since: '7.0.0',
        summary: 'Returns information about a function during execution.',
        complexity: 'O(1)',
        handler(c) {
          c.reply.mapHeader(2);
          c.reply.bulk('running_script');
          c.reply.nullBulk();
          c.reply.bulk('engines');
          c.reply.mapHeader(0);
        },
      },
      {
        name: 'load',
        arity: -3,
        flags: ['write', 'denyoom', 'noscript'],
        group: 'scripting',
        since: '7.0.0',
        summary: 'Creates a library.',
        complexity: 'O(1) (considering compilation time is redundant)',
        syntax: '[REPLACE] function-code',
        handler(c, argv) {
          const code = argv[argv.length - 1]!;
          if (argv.length > 4 || (argv.length === 4 && !isArg(argv[2]!, 'REPLACE'))) {
            c.error(`ERR Unknown option given: ${argv[2]}`);
            return;
          }
          const engine = ENGINE_NAME_RE.exec(code);
          if (engine === null) {
            c.error('ERR Missing library metadata');
            return;
          }
          c.error(`ERR Engine '${engine[1]}' not found`);
        },
      },
      {
        name: 'delete',
        arity: 3,
        flags: ['write', 'noscript'],
        group: 'scripting',
        since: '7.0.0',
        summary: 'Deletes a library and its functions.',
        complexity: 'O(1)',
        syntax: 'library-name',
        handler(c) {
          c.error('ERR Library not found');
        },
      },
      {
        name: 'kill',
        arity: 2,
        flags: ['noscript', 'allow_busy'],
        group: 'scripting',
        since: '7.0.0',
        summary: 'Terminates a function during execution.',
        complexity: 'O(1)',
        handler(c) {
          c.error('NOTBUSY No scripts in execution right now.');
        },
      },
    ],
  },
  ...['fcall', 'fcall_ro'].map(
    (name): CommandSpec => ({
      name,
      arity: -3,
      flags: name === 'fcall' ? ['noscript', 'stale', 'skip_monitor', 'may_replicate', 'no_mandatory_keys'] : ['noscript', 'stale', 'skip_monitor', 'no_mandatory_keys', 'readonly'],
      keys: [{ kind: 'keynum', keynumIndex: 2, firstKey: 3, step: 1 }],
      group: 'scripting',
      since: '7.0.0',
      summary: name === 'fcall' ? 'Invokes a function.' : 'Invokes a read-only function.',
      complexity: 'Depends on the function that is executed.',
      syntax: 'function numkeys [key [key ...]] [arg [arg ...]]',
      handler(c) {
        c.error('ERR Function not found');
      },
    }),
  ),
];
