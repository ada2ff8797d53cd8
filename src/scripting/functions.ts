/**
 * FUNCTION libraries (functions.c + function_lua.c): `#!lua name=<lib>`
 * code whose main chunk calls redis.register_function. The chunk and its
 * functions see one environment table whose __index is switched: during
 * FUNCTION LOAD only the load API (register_function, log, version), while
 * a function runs the full globals.
 */
import { lauxlib, lua, type LuaState } from 'fengari';
import type { Logger } from '../log.js';
import { FLAG_NAMES, noFlags, splitWords, type ScriptFlags } from './flags.js';
import { latin1ToBytes, lua51Message, protectRecursively, raiseErrorTable, setFunctions, setReadonly, toLatin1 } from './lua-util.js';
import { Sandbox, setErrorMetatable } from './sandbox.js';

const LOAD_TIMEOUT_MS = 500;
const NAME_ERROR = 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';
const ENV_KEY = '__strata_env__';
const ENV_META_KEY = '__strata_env_meta__';
const LOAD_API_KEY = '__strata_load_api__';

export interface FunctionInfo {
  name: string;
  library: Library;
  flags: ScriptFlags;
  description: string | null;
  /** Registry key of the callback. */
  ref: string;
}

export interface Library {
  name: string;
  code: string;
  functions: Map<string, FunctionInfo>;
}

export class FunctionLibraries {
  sandbox!: Sandbox;
  readonly libraries = new Map<string, Library>();
  /** Every library's functions by lowercase name (FCALL names are case-insensitive, as in Redis). */
  readonly functions = new Map<string, FunctionInfo>();
  /** The library whose code is being loaded (register_function adds to it), or null. */
  private loading: Library | null = null;
  private refs = 0;

  constructor(
    private readonly log: Logger,
    private readonly clock: () => number,
  ) {
    this.reset();
  }

  private reset(): void {
    const s = new Sandbox(this.log);
    const L = s.L;
    s.protectGlobals();
    // The load API: redis = {register_function, log, LOG_*, REDIS_VERSION*}; every other name raises.
    lua.lua_newtable(L);
    lua.lua_newtable(L);
    setFunctions(L, { register_function: (l) => this.registerFunction(l) });
    s.addLogAndVersion();
    setErrorMetatable(L);
    lua.lua_setfield(L, -2, 'redis');
    setErrorMetatable(L);
    protectRecursively(L);
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, LOAD_API_KEY);
    // The environment of library code: empty, read-only, reads through its metatable's __index.
    lua.lua_newtable(L);
    lua.lua_newtable(L);
    lua.lua_pushvalue(L, -1);
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ENV_META_KEY);
    lua.lua_setmetatable(L, -2);
    setReadonly(L, -1, true);
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ENV_KEY);
    this.sandbox = s;
    this.libraries.clear();
    this.functions.clear();
  }

  /** Points the environment's __index at the load API (loading) or the globals (running). */
  private useEnv(loading: boolean): void {
    const L = this.sandbox.L;
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ENV_META_KEY);
    if (loading) lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, LOAD_API_KEY);
    else lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    setReadonly(L, -2, false);
    lua.lua_setfield(L, -2, '__index');
    setReadonly(L, -1, true);
    lua.lua_pop(L, 1);
  }

  flush(): void {
    this.reset();
  }

  /** FUNCTION LOAD: the library's name, or the error text. */
  load(code: string, replace: boolean): string | { error: string } {
    const md = parseMetadata(code);
    if (typeof md === 'string') return { error: md };
    if (!validName(md.name)) return { error: NAME_ERROR };
    if (md.engine.toLowerCase() !== 'lua') return { error: `Engine '${md.engine}' not found` };
    const old = this.libraries.get(md.name);
    if (old !== undefined && !replace) return { error: `Library '${md.name}' already exists` };
    if (old !== undefined) this.unlink(old);
    const lib: Library = { name: md.name, code, functions: new Map() };
    const error = this.runLibraryCode(lib, code.slice(md.codeStart)) ?? this.collision(lib);
    if (error !== null) {
      this.dropRefs(lib);
      if (old !== undefined) this.link(old);
      return { error };
    }
    this.link(lib);
    if (old !== undefined) this.dropRefs(old);
    return md.name;
  }

  private collision(lib: Library): string | null {
    if (lib.functions.size === 0) return 'No functions registered';
    for (const name of lib.functions.keys()) if (this.functions.has(name.toLowerCase())) return `Function ${name} already exists`;
    return null;
  }

  /** Compiles and runs the library's main chunk; an error text on failure. */
  private runLibraryCode(lib: Library, body: string): string | null {
    const L = this.sandbox.L;
    const bytes = latin1ToBytes(body);
    if (lauxlib.luaL_loadbufferx(L, bytes, bytes.length, '@user_function', 't') !== lua.LUA_OK) {
      const message = toLatin1(L, -1) ?? '';
      lua.lua_pop(L, 1);
      return `Error compiling function: ${message}`;
    }
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ENV_KEY);
    lua.lua_setupvalue(L, -2, 1);
    this.useEnv(true);
    this.loading = lib;
    const started = this.clock();
    lua.lua_sethook(L, (l) => {
      if (this.clock() - started > LOAD_TIMEOUT_MS) raiseErrorTable(l, 'FUNCTION LOAD timeout');
    }, lua.LUA_MASKCOUNT, 100000);
    const status = lua.lua_pcall(L, 0, 0, 0);
    lua.lua_sethook(L, null, 0, 0);
    this.loading = null;
    this.useEnv(false);
    if (status === lua.LUA_OK) return null;
    const message = errorMessage(L);
    lua.lua_pop(L, 1);
    return `Error registering functions: ${lua51Message(message)}`;
  }

  private link(lib: Library): void {
    this.libraries.set(lib.name, lib);
    for (const f of lib.functions.values()) this.functions.set(f.name.toLowerCase(), f);
  }

  private unlink(lib: Library): void {
    this.libraries.delete(lib.name);
    for (const name of lib.functions.keys()) this.functions.delete(name.toLowerCase());
  }

  private dropRefs(lib: Library): void {
    const L = this.sandbox.L;
    for (const f of lib.functions.values()) {
      lua.lua_pushnil(L);
      lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, f.ref);
    }
  }

  /**
   * FUNCTION RESTORE: loads every library code (FLUSH first drops the
   * existing ones, REPLACE replaces same-named ones). All or nothing: on an
   * error the previous libraries are loaded back.
   */
  restore(codes: string[], policy: 'flush' | 'append' | 'replace'): string | null {
    const before = [...this.libraries.values()].map((l) => l.code);
    if (policy === 'flush') this.reset();
    for (const code of codes) {
      const md = parseMetadata(code);
      const clash = policy === 'append' && typeof md !== 'string' && this.libraries.has(md.name);
      const out = clash ? { error: `Library ${md.name} already exists` } : this.load(code, policy === 'replace');
      if (typeof out === 'string') continue;
      this.reset();
      for (const old of before) this.load(old, false);
      return out.error;
    }
    return null;
  }

  /** FUNCTION DELETE. */
  delete(name: string): boolean {
    const lib = this.libraries.get(name);
    if (lib === undefined) return false;
    this.unlink(lib);
    this.dropRefs(lib);
    return true;
  }

  /** Pushes the function and its KEYS/ARGV tables onto co (a function gets them as arguments). */
  pushCall(co: LuaState, f: FunctionInfo, keys: string[], args: string[]): number {
    const L = this.sandbox.L;
    this.useEnv(false);
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, f.ref);
    lua.lua_xmove(L, co, 1);
    for (const values of [keys, args]) {
      lua.lua_createtable(co, values.length, 0);
      values.forEach((v, i) => {
        lua.lua_pushstring(co, latin1ToBytes(v));
        lua.lua_rawseti(co, -2, i + 1);
      });
    }
    return 2;
  }

  // ---- redis.register_function ----------------------------------------------

  private registerFunction(L: LuaState): number {
    const lib = this.loading;
    if (lib === null) return raiseErrorTable(L, 'redis.register_function can only be called on FUNCTION LOAD command');
    const argc = lua.lua_gettop(L);
    if (argc < 1 || argc > 2) return raiseErrorTable(L, 'wrong number of arguments to redis.register_function');
    const spec = argc === 1 ? namedArgs(L) : positionalArgs(L);
    if (typeof spec === 'string') return raiseErrorTable(L, spec);
    if (!validName(spec.name)) return raiseErrorTable(L, NAME_ERROR);
    if (lib.functions.has(spec.name)) return raiseErrorTable(L, 'Function already exists in the library');
    const ref = `__strata_fn_${++this.refs}`;
    lua.lua_pushvalue(L, spec.callbackIndex);
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ref);
    lib.functions.set(spec.name, { name: spec.name, library: lib, flags: spec.flags, description: spec.description, ref });
    return 0;
  }
}

interface RegisterSpec {
  name: string;
  callbackIndex: number;
  flags: ScriptFlags;
  description: string | null;
}

function positionalArgs(L: LuaState): RegisterSpec | string {
  if (lua.lua_type(L, 1) !== lua.LUA_TSTRING) return 'first argument to redis.register_function must be a string';
  if (lua.lua_type(L, 2) !== lua.LUA_TFUNCTION) return 'second argument to redis.register_function must be a function';
  return { name: toLatin1(L, 1)!, callbackIndex: 2, flags: noFlags(false), description: null };
}

function namedArgs(L: LuaState): RegisterSpec | string {
  if (lua.lua_type(L, 1) !== lua.LUA_TTABLE) {
    return 'calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).';
  }
  const spec: RegisterSpec = { name: '', callbackIndex: 0, flags: noFlags(false), description: null };
  let hasName = false;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, 1) !== 0) {
    if (lua.lua_type(L, -2) !== lua.LUA_TSTRING) return 'named argument key given to redis.register_function is not a string';
    const key = toLatin1(L, -2)!.toLowerCase();
    const t = lua.lua_type(L, -1);
    if (key === 'function_name') {
      if (t !== lua.LUA_TSTRING) return 'function_name argument given to redis.register_function must be a string';
      spec.name = toLatin1(L, -1)!;
      hasName = true;
    } else if (key === 'description') {
      if (t !== lua.LUA_TSTRING) return 'description argument given to redis.register_function must be a string';
      spec.description = toLatin1(L, -1)!;
    } else if (key === 'callback') {
      if (t !== lua.LUA_TFUNCTION) return 'callback argument given to redis.register_function must be a function';
      // Keep the callback below the iteration's key and value.
      lua.lua_pushvalue(L, -1);
      lua.lua_insert(L, 2);
      spec.callbackIndex = 2;
    } else if (key === 'flags') {
      if (t !== lua.LUA_TTABLE) return 'flags argument to redis.register_function must be a table representing function flags';
      if (!readFlags(L, spec.flags)) return 'unknown flag given';
    } else return 'unknown argument given to redis.register_function';
    lua.lua_pop(L, 1);
  }
  if (!hasName) return 'redis.register_function must get a function name argument';
  if (spec.callbackIndex === 0) return 'redis.register_function must get a callback argument';
  return spec;
}

/** Reads the flags table at the top into flags; false on an unknown flag. */
function readFlags(L: LuaState, flags: ScriptFlags): boolean {
  for (let i = 1; lua.lua_rawgeti(L, -1, i) !== lua.LUA_TNIL; i++) {
    const key = lua.lua_type(L, -1) === lua.LUA_TSTRING ? FLAG_NAMES[toLatin1(L, -1)!] : undefined;
    lua.lua_pop(L, 1);
    if (key === undefined) return false;
    flags[key] = true;
  }
  lua.lua_pop(L, 1);
  return true;
}

/** The message of a raised error value: an error table's err, or "ERR " and the message. */
function errorMessage(L: LuaState): string {
  if (lua.lua_type(L, -1) === lua.LUA_TTABLE) {
    lua.lua_getfield(L, -1, 'err');
    const s = toLatin1(L, -1);
    lua.lua_pop(L, 1);
    if (s !== null) return s;
  }
  return `ERR ${toLatin1(L, -1) ?? 'unknown error'}`;
}

function validName(name: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(name);
}

/** The `#!<engine> name=<lib>` first line; code starts at its newline. */
function parseMetadata(code: string): { engine: string; name: string; codeStart: number } | string {
  if (!code.startsWith('#!')) return 'Missing library metadata';
  const end = code.indexOf('\n');
  if (end < 0) return 'Invalid library metadata';
  const parts = splitWords(code.slice(0, end));
  if (parts.length === 0) return 'Invalid library metadata';
  let name: string | null = null;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() !== 'name=') return `Invalid metadata value given: ${part}`;
    if (name !== null) return 'Invalid metadata value, name argument was given multiple times';
    name = part.slice(5);
  }
  if (name === null) return 'Library name was not given';
  return { engine: parts[0]!.slice(2), name, codeStart: end };
}
