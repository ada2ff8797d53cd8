/**
 * One sandboxed Lua interpreter as Redis 7.0 builds it (script_lua.c):
 * base/table/string/math/coroutine plus cjson, cmsgpack, bit and struct,
 * the `redis` API, Lua 5.1 names (unpack, loadstring), and globals
 * protection: every library table and the globals are read-only, reading a
 * missing global raises. EVAL and FUNCTION each own one sandbox.
 */
import { createHash } from 'node:crypto';
import { lauxlib, lua, lualib, type LuaState } from 'fengari';
import { formatDouble } from '../protocol/format.js';
import type { Logger } from '../log.js';
import { REDIS_VERSION } from '../commands/info.js';
import { openBit } from './libs/bit.js';
import { openCjson } from './libs/cjson.js';
import { openCmsgpack } from './libs/cmsgpack.js';
import { openStruct } from './libs/struct.js';
import { applyLuaPatches, restoreHooks } from './lua-patches.js';
import {
  isReadonly,
  protectRecursively,
  pushErrorTable,
  pushFieldTable,
  raise,
  raiseErrorTable,
  setFunctions,
  toLatin1,
} from './lua-util.js';
import { RAND48_MAX, Rand48 } from './rand48.js';
import { ReplyToLua } from './resp-to-lua.js';

/** What redis.call and friends need from the script being run. */
export interface ActiveRun {
  /** Runs one command from the script: its reply bytes, or the error a refused call gets. */
  command(argv: string[]): Buffer | { error: string };
  /** Whether argv names an existing command (and subcommand). */
  knows(argv: string[]): boolean;
  /** RESP version of the script's pseudo-client (redis.setresp). */
  resp: 2 | 3;
}

const LOG_LEVELS = ['debug', 'info', 'info', 'warn'] as const;
const VERSION_NUM = REDIS_VERSION.split('.').reduce((n, part) => n * 256 + Number(part), 0);

export class Sandbox {
  readonly L: LuaState;
  /** The script being run, or null between runs (the API refuses to run then). */
  run: ActiveRun | null = null;
  readonly rand = new Rand48();

  constructor(private readonly log: Logger) {
    applyLuaPatches();
    this.L = lauxlib.luaL_newstate();
    // A JavaScript exception inside a library function (a bug, or a RangeError on huge input) becomes a Lua error.
    lua.lua_atnativeerror(this.L, (l) => {
      const e = lua.lua_touserdata(l, 1);
      lua.lua_pushstring(l, e instanceof Error ? e.message : String(e));
      return 1;
    });
    this.openLibraries();
    this.install51Names();
    this.installRedisApi();
  }

  private openLibraries(): void {
    const L = this.L;
    const libs: [string, (L: LuaState) => number][] = [
      ['_G', lualib.luaopen_base],
      ['table', lualib.luaopen_table],
      ['string', lualib.luaopen_string],
      ['math', lualib.luaopen_math],
      ['coroutine', lualib.luaopen_coroutine],
      ['cjson', openCjson],
      ['cmsgpack', openCmsgpack],
      ['bit', openBit],
      ['struct', openStruct],
    ];
    for (const [name, open] of libs) {
      lauxlib.luaL_requiref(L, name, open, 1);
      lua.lua_pop(L, 1);
    }
    // Not offered to scripts (Redis's deny list): file access and stdout.
    for (const name of ['dofile', 'loadfile', 'print']) {
      lua.lua_pushnil(L);
      lua.lua_setglobal(L, name);
    }
    lua.lua_getglobal(L, 'math');
    setFunctions(L, { random: (l) => this.mathRandom(l), randomseed: (l) => this.mathRandomSeed(l) });
    lua.lua_pop(L, 1);
  }

  /** Lua 5.1 globals scripts written for Redis use; loading binary chunks stays impossible. */
  private install51Names(): void {
    const L = this.L;
    lua.lua_getglobal(L, 'table');
    lua.lua_getfield(L, -1, 'unpack');
    lua.lua_setglobal(L, 'unpack');
    lua.lua_pop(L, 1);
    lua.lua_getglobal(L, 'load');
    const load = (l: LuaState): number => {
      // load(chunk [, chunkname]) with text mode forced.
      lua.lua_settop(l, 2);
      lua.lua_pushstring(l, 't');
      lua.lua_pushvalue(l, lua.lua_upvalueindex(1));
      lua.lua_insert(l, 1);
      lua.lua_call(l, 3, 2);
      return 2;
    };
    lua.lua_pushcclosure(L, load, 1);
    lua.lua_pushvalue(L, -1);
    lua.lua_setglobal(L, 'loadstring');
    lua.lua_setglobal(L, 'load');
    lua.lua_getglobal(L, 'tostring');
    lua.lua_pushcclosure(L, tostring51, 1);
    lua.lua_setglobal(L, 'tostring');
    lua.lua_pushjsfunction(L, setmetatableChecked);
    lua.lua_setglobal(L, 'setmetatable');
    lua.lua_pushjsfunction(L, (l) => this.pcall(l));
    lua.lua_setglobal(L, 'pcall');
  }

  private installRedisApi(): void {
    const L = this.L;
    lua.lua_newtable(L);
    setFunctions(L, {
      call: (l) => this.redisCall(l, true),
      pcall: (l) => this.redisCall(l, false),
      sha1hex: sha1hex,
      error_reply: errorReply,
      status_reply: statusReply,
      setresp: (l) => this.setResp(l),
      set_repl: (l) => this.setRepl(l),
      replicate_commands: (l) => (lua.lua_pushboolean(l, true), 1),
      breakpoint: (l) => (lua.lua_pushboolean(l, false), 1),
      debug: () => 0,
      acl_check_cmd: (l) => this.aclCheckCmd(l),
    });
    this.addLogAndVersion();
    for (const [name, value] of [['REPL_NONE', 0], ['REPL_AOF', 1], ['REPL_SLAVE', 2], ['REPL_REPLICA', 2], ['REPL_ALL', 3]] as const) {
      lua.lua_pushinteger(L, value);
      lua.lua_setfield(L, -2, name);
    }
    lua.lua_setglobal(L, 'redis');
  }

  /** redis.log, the LOG_* levels and the version fields, on the table at the top (shared with FUNCTION's load API). */
  addLogAndVersion(): void {
    const L = this.L;
    setFunctions(L, { log: (l) => this.redisLog(l) });
    for (const [name, value] of [['LOG_DEBUG', 0], ['LOG_VERBOSE', 1], ['LOG_NOTICE', 2], ['LOG_WARNING', 3]] as const) {
      lua.lua_pushinteger(L, value);
      lua.lua_setfield(L, -2, name);
    }
    lua.lua_pushinteger(L, VERSION_NUM);
    lua.lua_setfield(L, -2, 'REDIS_VERSION_NUM');
    lua.lua_pushstring(L, REDIS_VERSION);
    lua.lua_setfield(L, -2, 'REDIS_VERSION');
  }

  /** Locks the globals: read-only, recursively, and missing names raise. Call after every global is in place. */
  protectGlobals(): void {
    const L = this.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    setErrorMetatable(L);
    protectRecursively(L);
    lua.lua_pop(L, 1);
  }

  // ---- redis.* ---------------------------------------------------------

  private redisCall(L: LuaState, raiseError: boolean): number {
    const run = this.run;
    if (run === null) return raiseErrorTable(L, 'redis.call/pcall can only be called inside a script invocation');
    const argv = commandArgs(L);
    let failed: boolean;
    if (typeof argv === 'string') {
      pushErrorTable(L, argv);
      failed = true;
    } else {
      const out = run.command(argv);
      if (!('error' in out)) failed = new ReplyToLua(L, out).pushReply();
      else {
        pushErrorTable(L, out.error);
        failed = true;
      }
    }
    if (failed && raiseError) return lua.lua_error(L);
    return 1;
  }

  private setResp(L: LuaState): number {
    const run = this.run;
    if (run === null) return raiseErrorTable(L, 'redis.setresp can only be called inside a script invocation');
    if (lua.lua_gettop(L) !== 1) return raiseErrorTable(L, 'redis.setresp() requires one argument.');
    const v = lua.lua_tonumber(L, 1);
    if (v !== 2 && v !== 3) return raiseErrorTable(L, 'RESP version must be 2 or 3.');
    run.resp = v;
    return 0;
  }

  private setRepl(L: LuaState): number {
    if (this.run === null) return raiseErrorTable(L, 'redis.set_repl can only be called inside a script invocation');
    if (lua.lua_gettop(L) !== 1) return raiseErrorTable(L, 'redis.set_repl() requires two arguments.');
    // Accepted for compatibility: every write replicates through the keyspace's write path regardless.
    if ((lua.lua_tonumber(L, 1) & ~3) !== 0) {
      return raiseErrorTable(L, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.');
    }
    return 0;
  }

  private aclCheckCmd(L: LuaState): number {
    const run = this.run;
    if (run === null) return raiseErrorTable(L, 'redis.acl_check_cmd can only be called inside a script invocation');
    const argv = commandArgs(L);
    if (typeof argv === 'string') return raiseErrorTable(L, argv);
    // Without ACL users every existing command is permitted.
    if (!run.knows(argv)) return raiseErrorTable(L, 'Invalid command passed to redis.acl_check_cmd()');
    lua.lua_pushboolean(L, true);
    return 1;
  }

  private redisLog(L: LuaState): number {
    const argc = lua.lua_gettop(L);
    if (argc < 2) return raiseErrorTable(L, 'redis.log() requires two arguments or more.');
    if (lua.lua_type(L, 1) !== lua.LUA_TNUMBER) return raiseErrorTable(L, 'First argument must be a number (log level).');
    const level = lua.lua_tonumber(L, 1);
    if (!(level >= 0 && level <= 3)) return raiseErrorTable(L, 'Invalid debug level.');
    const parts: string[] = [];
    for (let i = 2; i <= argc; i++) parts.push(toLatin1(L, i) ?? '');
    this.log[LOG_LEVELS[Math.trunc(level)]!]({ script: true }, parts.join(' '));
    return 0;
  }

  // ---- math.random, pcall ------------------------------------------------

  private mathRandom(L: LuaState): number {
    if (this.run === null) return raise(L, 'math.random can only be called inside a script invocation');
    const r = (this.rand.next() % RAND48_MAX) / RAND48_MAX;
    const argc = lua.lua_gettop(L);
    if (argc === 0) lua.lua_pushnumber(L, r);
    else if (argc === 1) {
      const u = lauxlib.luaL_checkinteger(L, 1);
      if (u < 1) lauxlib.luaL_argerror(L, 1, 'interval is empty');
      lua.lua_pushnumber(L, Math.floor(r * u) + 1);
    } else if (argc === 2) {
      const l = lauxlib.luaL_checkinteger(L, 1);
      const u = lauxlib.luaL_checkinteger(L, 2);
      if (l > u) lauxlib.luaL_argerror(L, 2, 'interval is empty');
      lua.lua_pushnumber(L, Math.floor(r * (u - l + 1)) + l);
    } else return raise(L, 'wrong number of arguments');
    return 1;
  }

  private mathRandomSeed(L: LuaState): number {
    if (this.run === null) return raise(L, 'math.randomseed can only be called inside a script invocation');
    this.rand.seed(Math.trunc(lauxlib.luaL_checknumber(L, 1)));
    return 0;
  }

  /**
   * pcall as Redis 7.0 defines it: an error table raised by redis.call
   * reaches the script as its err string. Yieldable (a continuation), so a
   * busy script inside pcall can still let the server serve others.
   */
  private pcall(L: LuaState): number {
    if (lua.lua_gettop(L) < 1) return lauxlib.luaL_argerror(L, 1, 'value expected');
    lua.lua_pushboolean(L, true);
    lua.lua_insert(L, 1);
    const status = lua.lua_pcallk(L, lua.lua_gettop(L) - 2, lua.LUA_MULTRET, 0, 0, finishPcall);
    return finishPcall(L, status);
  }
}

function finishPcall(L: LuaState, status: number): number {
  if (status === lua.LUA_OK || status === lua.LUA_YIELD) return lua.lua_gettop(L);
  restoreHooks(L);
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    lua.lua_getfield(L, -1, 'err');
    if (lua.lua_isstring(L, -1)) lua.lua_replace(L, -2);
    else lua.lua_pop(L, 1);
  }
  lua.lua_pushboolean(L, false);
  lua.lua_insert(L, -2);
  return 2;
}

/** The arguments of redis.call as strings (numbers as %.17g), or the error text. */
function commandArgs(L: LuaState): string[] | string {
  const argc = lua.lua_gettop(L);
  if (argc === 0) return 'Please specify at least one argument for this redis lib call';
  const argv: string[] = [];
  for (let i = 1; i <= argc; i++) {
    const t = lua.lua_type(L, i);
    if (t === lua.LUA_TNUMBER) argv.push(lua.lua_isinteger(L, i) ? String(lua.lua_tointeger(L, i)) : formatDouble(lua.lua_tonumber(L, i)));
    else if (t === lua.LUA_TSTRING) argv.push(toLatin1(L, i)!);
    else return 'Lua redis lib command arguments must be strings or integers';
  }
  lua.lua_settop(L, 0);
  return argv;
}

function sha1hex(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1) return raiseErrorTable(L, 'wrong number of arguments');
  const s = lua.lua_tolstring(L, 1) ?? new Uint8Array(0);
  lua.lua_pushstring(L, createHash('sha1').update(s).digest('hex'));
  return 1;
}

function errorReply(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
    pushErrorTable(L, 'wrong number or type of arguments');
    return 1;
  }
  const s = toLatin1(L, 1)!;
  pushErrorTable(L, s.startsWith('-') ? s : `-${s}`);
  return 1;
}

function statusReply(L: LuaState): number {
  if (lua.lua_gettop(L) !== 1 || lua.lua_type(L, -1) !== lua.LUA_TSTRING) {
    pushErrorTable(L, 'wrong number or type of arguments');
    return 1;
  }
  pushFieldTable(L, 'ok', toLatin1(L, 1)!);
  return 1;
}

/** tostring with Lua 5.1's number format: integral floats without ".0" (as in concatenation, see lua-patches.ts). */
function tostring51(L: LuaState): number {
  if (lua.lua_type(L, 1) === lua.LUA_TNUMBER && !lua.lua_isinteger(L, 1)) {
    lua.lua_settop(L, 1);
    lua.lua_tolstring(L, 1);
    return 1;
  }
  lua.lua_pushvalue(L, lua.lua_upvalueindex(1));
  lua.lua_insert(L, 1);
  lua.lua_call(L, lua.lua_gettop(L) - 1, 1);
  return 1;
}

/** setmetatable that refuses read-only tables (the globals, the libraries). */
function setmetatableChecked(L: LuaState): number {
  if (lua.lua_type(L, 1) !== lua.LUA_TTABLE) return lauxlib.luaL_argerror(L, 1, 'table expected');
  const t2 = lua.lua_type(L, 2);
  if (t2 !== lua.LUA_TNIL && t2 !== lua.LUA_TTABLE) return lauxlib.luaL_argerror(L, 2, 'nil or table expected');
  if (isReadonly(L, 1)) return raise(L, 'Attempt to modify a readonly table');
  if (lua.lua_getmetatable(L, 1)) {
    if (lua.lua_getfield(L, -1, '__metatable') !== lua.LUA_TNIL) return raise(L, 'cannot change a protected metatable');
    lua.lua_pop(L, 2);
  }
  lua.lua_settop(L, 2);
  lua.lua_setmetatable(L, 1);
  return 1;
}

/** Gives the table at the top a metatable whose __index raises Redis's missing-global error. */
export function setErrorMetatable(L: LuaState): void {
  lua.lua_newtable(L);
  lua.lua_pushjsfunction(L, (l) => raise(l, `Script attempted to access nonexistent global variable '${toLatin1(l, 2) ?? '?'}'`));
  lua.lua_setfield(L, -2, '__index');
  lua.lua_setmetatable(L, -2);
}
