/**
 * One script invocation (EVAL or FCALL) run as a Lua coroutine. A count hook
 * checks the elapsed time every HOOK_INSTRUCTIONS instructions; past
 * busy-reply-threshold the coroutine yields, the server turns busy (other
 * clients get -BUSY), the event loop runs, and the script resumes on the
 * next turn. SCRIPT/FUNCTION KILL makes the hook raise inside the script.
 */
import { lua, type LuaDebug, type LuaState } from 'fengari';
import type { Client } from '../server/client.js';
import { writeLuaValue } from './lua-to-reply.js';
import { bytesToLatin1, lua51Message, pushErrorTable, toLatin1 } from './lua-util.js';
import type { ActiveRun, Sandbox } from './sandbox.js';

const HOOK_INSTRUCTIONS = 100000;

/** What a run needs from its surroundings (src/scripting/scripting.ts). */
export interface RunHost {
  /** redis.call from this run. */
  command(run: ScriptRun, argv: string[]): Buffer | { error: string };
  knows(argv: string[]): boolean;
  busyThresholdMs(): number;
  monotonicMs(): number;
  /** The run passed the threshold: the server turns busy and fn continues it on a later event-loop turn. */
  enterBusy(run: ScriptRun): void;
  later(fn: () => void): void;
  /** The run finished (reply written). */
  ended(run: ScriptRun): void;
}

export interface RunOptions {
  sandbox: Sandbox;
  caller: Client;
  /** The script's sha (EVAL) or function name (FCALL), as error messages name it. */
  name: string;
  isEval: boolean;
  /** No write commands (EVAL_RO/FCALL_RO, no-writes flag). */
  readOnly: boolean;
  /** May yield to the event loop (false inside EXEC: its reply must be complete when EXEC returns). */
  mayYield: boolean;
  argv: string[];
  /** Pushes the function and its arguments onto co; returns the number of arguments. */
  push(co: LuaState): number;
}

export class ScriptRun implements ActiveRun {
  resp: 2 | 3 = 2;
  killed = false;
  /** A write command ran (SCRIPT KILL refuses then). */
  wrote = false;
  busy = false;
  readonly startedMs: number;
  private readonly co: LuaState;
  /** Where the coroutine sits on the main stack (keeps it from being collected). */
  private readonly anchor: number;

  constructor(
    private readonly host: RunHost,
    readonly opts: RunOptions,
  ) {
    const L = opts.sandbox.L;
    this.co = lua.lua_newthread(L);
    this.anchor = lua.lua_gettop(L);
    this.startedMs = host.monotonicMs();
  }

  get caller(): Client {
    return this.opts.caller;
  }

  get argv(): string[] {
    return this.opts.argv;
  }

  start(): void {
    const nargs = this.opts.push(this.co);
    this.opts.sandbox.run = this;
    if (this.host.busyThresholdMs() > 0) lua.lua_sethook(this.co, (L) => this.hook(L), lua.LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
    this.step(nargs);
  }

  command(argv: string[]): Buffer | { error: string } {
    return this.host.command(this, argv);
  }

  knows(argv: string[]): boolean {
    return this.host.knows(argv);
  }

  private step(nargs: number): void {
    const status = lua.lua_resume(this.co, this.opts.sandbox.L, nargs);
    if (status === lua.LUA_YIELD) {
      if (!this.busy) {
        this.busy = true;
        this.host.enterBusy(this);
      }
      this.host.later(() => this.step(0));
      return;
    }
    this.finish(status);
  }

  private hook(L: LuaState): void {
    if (this.killed) {
      // Fire on every line from now on, so pcall cannot swallow the kill for good.
      lua.lua_sethook(L, (l) => this.hook(l), lua.LUA_MASKLINE, 0);
      pushErrorTable(L, 'Script killed by user with SCRIPT KILL...');
      lua.lua_error(L);
    }
    if (L !== this.co || !this.opts.mayYield || !lua.lua_isyieldable(L)) return;
    if (this.host.monotonicMs() - this.startedMs >= this.host.busyThresholdMs()) lua.lua_yield(L, 0);
  }

  private finish(status: number): void {
    const co = this.co;
    const w = this.caller.reply;
    lua.lua_sethook(co, null, 0, 0);
    if (status === lua.LUA_OK) {
      lua.lua_settop(co, 1);
      writeLuaValue(co, w, this.resp, (message) => this.caller.error(message));
    } else this.caller.error(errorText(co, this.opts.name));
    const sandbox = this.opts.sandbox;
    sandbox.run = null;
    lua.lua_remove(sandbox.L, this.anchor);
    this.host.ended(this);
  }
}

/**
 * The reply for a script that raised: the error table's err (or "ERR " and
 * the message), then where it happened, found on the dead coroutine's stack
 * (the innermost Lua frame; a C function's caller).
 */
function errorText(co: LuaState, name: string): string {
  lua.lua_checkstack(co, 4);
  let message: string;
  if (lua.lua_type(co, -1) === lua.LUA_TTABLE) {
    lua.lua_getfield(co, -1, 'err');
    message = toLatin1(co, -1) ?? 'ERR unknown error';
    lua.lua_pop(co, 1);
  } else message = `ERR ${toLatin1(co, -1) ?? (lua.lua_type(co, -1) === lua.LUA_TNIL ? 'nil' : 'unknown error')}`;
  const ar = new lua.lua_Debug() as LuaDebug;
  // The raising frame, or its caller when that is a JS (C) function such as error() or redis.call.
  let found = lua.lua_getstack(co, 0, ar) !== 0 && lua.lua_getinfo(co, 'Sl', ar) !== 0;
  if (found && ar.what !== null && ar.what[0] === 0x4a) found = lua.lua_getstack(co, 1, ar) !== 0 && lua.lua_getinfo(co, 'Sl', ar) !== 0;
  message = lua51Message(message);
  if (!found || ar.source === null || !(ar.currentline >= 0)) return message;
  return `${message} script: ${name}, on ${bytesToLatin1(ar.source)}:${ar.currentline}.`;
}
