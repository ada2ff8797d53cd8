import { invoke, splitKeysArgs } from '../scripting/invoke.js';
import { Scripting } from '../scripting/scripting.js';
import type { Client } from '../server/client.js';
import { ERR } from './util.js';
import { helpSubcommand, sub } from './help.js';
import type { CommandSpec } from './types.js';

/** EVAL, EVALSHA, their _RO forms and SCRIPT (eval.c). */

const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';

function evalGeneric(c: Client, argv: string[], bySha: boolean, ro: boolean): void {
  const scripting = Scripting.of(c.server);
  const scripts = scripting.eval;
  if (bySha && argv[1]!.length !== 40) return c.error(NOSCRIPT);
  const split = splitKeysArgs(c, argv, ERR.notInteger);
  if (split === null) return;
  const script = bySha ? scripts.scripts.get(argv[1]!.toLowerCase()) : scripts.load(argv[1]!);
  if (script === undefined) return c.error(NOSCRIPT);
  if (typeof script === 'string') return c.error(script);
  invoke(c, {
    sandbox: scripts.sandbox,
    name: script.sha,
    isEval: true,
    flags: script.flags,
    ro,
    argv,
    push: (co) => scripts.pushCall(co, script.sha, split.keys, split.args),
  });
}

const EVAL_VARIANTS: [string, boolean, boolean, string][] = [
  ['eval', false, false, 'Executes a server-side Lua script.'],
  ['evalsha', true, false, 'Executes a server-side Lua script by SHA1 digest.'],
  ['eval_ro', false, true, 'Executes a read-only server-side Lua script.'],
  ['evalsha_ro', true, true, 'Executes a read-only server-side Lua script by SHA1 digest.'],
];

const SCRIPT_HELP = [
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
];

const META = { since: '2.6.0', group: 'scripting' as const };

export const scriptingCommands: CommandSpec[] = [
  ...EVAL_VARIANTS.map(
    ([name, bySha, ro, summary]): CommandSpec => ({
      name,
      arity: -3,
      flags: ro ? ['noscript', 'skip_monitor', 'no_mandatory_keys', 'stale', 'readonly'] : ['noscript', 'skip_monitor', 'may_replicate', 'no_mandatory_keys', 'stale'],
      keys: [{ kind: 'keynum', keynumIndex: 2, firstKey: 3, step: 1 }],
      group: 'scripting',
      since: ro ? '7.0.0' : '2.6.0',
      summary,
      complexity: 'Depends on the script that is executed.',
      syntax: `${bySha ? 'sha1' : 'script'} numkeys [key [key ...]] [arg [arg ...]]`,
      handler: (c, argv) => evalGeneric(c, argv, bySha, ro),
    }),
  ),
  {
    name: 'script',
    arity: -2,
    flags: [],
    group: 'scripting',
    since: '2.6.0',
    summary: 'A container for Lua scripts management commands.',
    complexity: 'Depends on subcommand.',
    subcommands: [
      { ...helpSubcommand('script', SCRIPT_HELP, '5.0.0'), group: 'scripting' },
      sub('exists', -3, ['noscript'], { ...META, summary: 'Determines whether server-side Lua scripts exist in the script cache.', syntax: 'sha1 [sha1 ...]' }, (c, argv) => {
        const scripts = Scripting.of(c.server).eval.scripts;
        c.reply.arrayHeader(argv.length - 2);
        for (const sha of argv.slice(2)) c.reply.int(scripts.has(sha.toLowerCase()) ? 1 : 0);
      }),
      sub('load', 3, ['noscript', 'stale'], { ...META, summary: 'Loads a server-side Lua script to the script cache.', syntax: 'script' }, (c, argv) => {
        const script = Scripting.of(c.server).eval.load(argv[2]!);
        if (typeof script === 'string') c.error(script);
        else c.reply.bulk(script.sha);
      }),
      sub('flush', -2, ['noscript'], { ...META, summary: 'Removes all server-side Lua scripts from the script cache.', syntax: '[ASYNC | SYNC]' }, (c, argv) => {
        if (argv.length > 3 || (argv.length === 3 && !/^(a?sync)$/i.test(argv[2]!))) return c.error('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
        Scripting.of(c.server).eval.flush();
        c.reply.ok();
      }),
      sub('kill', 2, ['noscript', 'allow_busy'], { ...META, summary: 'Terminates a server-side Lua script during execution.' }, (c) =>
        Scripting.of(c.server).kill(c, true),
      ),
      sub('debug', 3, ['noscript'], { ...META, since: '3.2.0', summary: 'Sets the debug mode of server-side Lua scripts.', syntax: 'YES | SYNC | NO' }, (c, argv) => {
        if (!/^(yes|sync|no)$/i.test(argv[2]!)) return c.error('ERR Use SCRIPT DEBUG YES/SYNC/NO');
        if (!/^no$/i.test(argv[2]!)) return c.error('ERR SCRIPT DEBUG is not supported');
        c.reply.ok();
      }),
    ],
  },
];
