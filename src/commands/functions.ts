import { flagNames } from '../scripting/flags.js';
import { dumpLibraries, readLibraries } from '../scripting/function-dump.js';
import { invoke, splitKeysArgs } from '../scripting/invoke.js';
import { Scripting } from '../scripting/scripting.js';
import type { Client } from '../server/client.js';
import { helpSubcommand, sub } from './help.js';
import type { CommandSpec } from './types.js';
import { globMatch, isArg } from './util.js';

/** FUNCTION and FCALL (functions.c): libraries of Lua functions registered with redis.register_function. */

const META = { since: '7.0.0', group: 'scripting' as const };

const FUNCTION_HELP = [
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries:',
  '    * Library name',
  '    * The engine used to run the Library',
  '    * Library description',
  '    * Functions list',
  '    * Library code (if WITHCODE is given)',
  '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
  'STATS',
  '    Return information about the current function running:',
  '    * Function name',
  '    * Command used to run the function',
  '    * Duration in MS that the function is running',
  '    If no function is running, return nil',
  '    In addition, returns a list of available engines.',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the libraries.',
  '    * SYNC: Synchronously flush the libraries.',
  'DUMP',
  '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
  '    control how to handle existing libraries (default APPEND):',
  '    * FLUSH: delete all existing libraries.',
  '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
  '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
  '      libraries with the new libraries (notice that even on this option there is a chance of failure',
  '      in case of functions name collision with another library).',
];

function fcall(c: Client, argv: string[], ro: boolean): void {
  const libs = Scripting.of(c.server).functions;
  const f = libs.functions.get(argv[1]!.toLowerCase());
  if (f === undefined) return c.error('ERR Function not found');
  const split = splitKeysArgs(c, argv, 'ERR Bad number of keys provided');
  if (split === null) return;
  invoke(c, {
    sandbox: libs.sandbox,
    name: f.name,
    isEval: false,
    flags: f.flags,
    ro,
    argv,
    push: (co) => libs.pushCall(co, f, split.keys, split.args),
  });
}

function functionLoad(c: Client, argv: string[]): void {
  let replace = false;
  let i = 2;
  for (; i < argv.length - 1; i++) {
    if (!isArg(argv[i]!, 'REPLACE')) return c.error(`ERR Unknown option given: ${argv[i]}`);
    replace = true;
  }
  if (i >= argv.length) return c.error('ERR Function code is missing');
  const out = Scripting.of(c.server).functions.load(argv[i]!, replace);
  if (typeof out !== 'string') return c.error(out.error.startsWith('ERR ') ? out.error : `ERR ${out.error}`);
  c.server.stats.dirty++;
  c.reply.bulk(out);
}

function functionList(c: Client, argv: string[]): void {
  let pattern: string | null = null;
  let withCode = false;
  for (let i = 2; i < argv.length; i++) {
    if (isArg(argv[i]!, 'WITHCODE') && !withCode) withCode = true;
    else if (isArg(argv[i]!, 'LIBRARYNAME') && pattern === null) {
      if (i + 1 >= argv.length) return c.error('ERR library name argument was not given');
      pattern = argv[++i]!;
    } else return c.error(`ERR Unknown argument ${argv[i]}`);
  }
  const libs = [...Scripting.of(c.server).functions.libraries.values()].filter((l) => pattern === null || globMatch(pattern, l.name));
  const w = c.reply;
  w.arrayHeader(libs.length);
  for (const lib of libs) {
    w.mapHeader(withCode ? 4 : 3);
    w.bulk('library_name');
    w.bulk(lib.name);
    w.bulk('engine');
    w.bulk('LUA');
    w.bulk('functions');
    w.arrayHeader(lib.functions.size);
    for (const f of lib.functions.values()) {
      w.mapHeader(3);
      w.bulk('name');
      w.bulk(f.name);
      w.bulk('description');
      if (f.description === null) w.nullBulk();
      else w.bulk(f.description);
      w.bulk('flags');
      const flags = flagNames(f.flags);
      w.setHeader(flags.length);
      for (const name of flags) w.bulk(name);
    }
    if (withCode) {
      w.bulk('library_code');
      w.bulk(lib.code);
    }
  }
}

function functionRestore(c: Client, argv: string[]): void {
  if (argv.length > 4) return c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try FUNCTION HELP.`);
  const policy = argv.length === 4 ? argv[3]!.toLowerCase() : 'append';
  if (policy !== 'flush' && policy !== 'append' && policy !== 'replace') {
    return c.error('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
  }
  const codes = readLibraries(Buffer.from(argv[2]!, 'latin1'));
  if (typeof codes === 'string') return c.error(codes);
  const error = Scripting.of(c.server).functions.restore(codes, policy);
  if (error !== null) return c.error(error.startsWith('ERR ') ? error : `ERR ${error}`);
  c.server.stats.dirty++;
  c.reply.ok();
}

function functionStats(c: Client): void {
  const s = Scripting.of(c.server);
  const w = c.reply;
  w.mapHeader(2);
  w.bulk('running_script');
  const run = s.current;
  if (run === null || run.opts.isEval) w.nullBulk();
  else {
    w.mapHeader(3);
    w.bulk('name');
    w.bulk(run.opts.name);
    w.bulk('command');
    w.bulkArray(run.argv);
    w.bulk('duration_ms');
    w.int(Math.floor(s.monotonicMs() - run.startedMs));
  }
  w.bulk('engines');
  w.mapHeader(1);
  w.bulk('LUA');
  w.mapHeader(2);
  w.bulk('libraries_count');
  w.int(s.functions.libraries.size);
  w.bulk('functions_count');
  w.int(s.functions.functions.size);
}

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
      { ...helpSubcommand('function', FUNCTION_HELP, '7.0.0'), group: 'scripting' },
      sub('load', -3, ['write', 'denyoom', 'noscript'], { ...META, summary: 'Creates a library.', syntax: '[REPLACE] function-code' }, functionLoad),
      sub('delete', 3, ['write', 'noscript'], { ...META, summary: 'Deletes a library and its functions.', syntax: 'library-name' }, (c, argv) => {
        if (!Scripting.of(c.server).functions.delete(argv[2]!)) return c.error('ERR Library not found');
        c.server.stats.dirty++;
        c.reply.ok();
      }),
      sub('flush', -2, ['write', 'noscript'], { ...META, summary: 'Deletes all libraries and functions.', syntax: '[ASYNC | SYNC]' }, (c, argv) => {
        if (argv.length > 3) return c.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]}'. Try FUNCTION HELP.`);
        if (argv.length === 3 && !isArg(argv[2]!, 'ASYNC') && !isArg(argv[2]!, 'SYNC')) {
          return c.error('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
        }
        Scripting.of(c.server).functions.flush();
        c.server.stats.dirty++;
        c.reply.ok();
      }),
      sub('list', -2, ['noscript'], { ...META, summary: 'Returns information about all libraries.', syntax: '[LIBRARYNAME library-name-pattern] [WITHCODE]' }, functionList),
      sub('stats', 2, ['noscript', 'allow_busy'], { ...META, summary: 'Returns information about a function during execution.' }, functionStats),
      sub('dump', 2, ['noscript'], { ...META, summary: 'Dumps all libraries into a serialized binary payload.' }, (c) => {
        c.reply.bulk(dumpLibraries([...Scripting.of(c.server).functions.libraries.values()].map((l) => l.code)));
      }),
      sub('restore', -3, ['write', 'denyoom', 'noscript'], { ...META, summary: 'Restores all libraries from a payload.', syntax: 'serialized-value [FLUSH | APPEND | REPLACE]' }, functionRestore),
      sub('kill', 2, ['noscript', 'allow_busy'], { ...META, summary: 'Terminates a function during execution.' }, (c) => Scripting.of(c.server).kill(c, false)),
    ],
  },
  ...(['fcall', 'fcall_ro'] as const).map(
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
      handler: (c, argv) => fcall(c, argv, name === 'fcall_ro'),
    }),
  ),
];
