/** What EVAL* and FCALL* share: numkeys parsing and the checks before a script may run (scriptPrepareForRun). */
import type { LuaState } from 'fengari';
import { intArg } from '../commands/util.js';
import type { Client } from '../server/client.js';
import type { ScriptFlags } from './flags.js';
import type { Sandbox } from './sandbox.js';
import { Scripting } from './scripting.js';

/** KEYS and ARGV from argv (numkeys at index 2), or null after replying the error. */
export function splitKeysArgs(c: Client, argv: string[], badNumkeys: string): { keys: string[]; args: string[] } | null {
  const numkeys = intArg(c, argv[2]!, badNumkeys);
  if (numkeys === null) return null;
  if (numkeys > argv.length - 3) {
    c.error("ERR Number of keys can't be greater than number of args");
    return null;
  }
  if (numkeys < 0) {
    c.error("ERR Number of keys can't be negative");
    return null;
  }
  return { keys: argv.slice(3, 3 + numkeys), args: argv.slice(3 + numkeys) };
}

export interface Invocation {
  sandbox: Sandbox;
  name: string;
  isEval: boolean;
  flags: ScriptFlags;
  /** EVAL_RO / EVALSHA_RO / FCALL_RO. */
  ro: boolean;
  /** The invoking command (FUNCTION STATS shows it). */
  argv: string[];
  push(co: LuaState): number;
}

/** Applies the script's declared flags, then runs it for c. */
export function invoke(c: Client, inv: Invocation): void {
  const f = inv.flags;
  if (!f.compat) {
    if (f.noCluster && c.server.cluster !== null) return c.error("ERR Can not run script on cluster, 'no-cluster' flag is set.");
    if (!f.noWrites && inv.ro) return c.error('ERR Can not execute a script with write flag using *_ro command.');
  }
  Scripting.of(c.server).run({
    sandbox: inv.sandbox,
    caller: c,
    name: inv.name,
    isEval: inv.isEval,
    readOnly: inv.ro || (!f.compat && f.noWrites),
    // Inside EXEC the reply must be complete when the command returns.
    mayYield: c.multi === null,
    argv: inv.argv,
    push: inv.push,
  });
}
