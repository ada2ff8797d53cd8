// Minimal declarations for the parts of fengari (Lua 5.3 in JavaScript) that
// src/scripting/ uses. fengari ships no types; its C-API mirrors Lua's.
declare module 'fengari' {
  /** A lua_State (a thread). Opaque outside fengari. */
  export interface LuaState {
    readonly __luaState: never;
  }
  export type LuaString = Uint8Array;
  export type JsFunction = (L: LuaState) => number;
  export type Continuation = (L: LuaState, status: number, ctx: number) => number;
  export interface LuaDebug {
    currentline: number;
    source: LuaString | null;
    what: LuaString | null;
  }

  export const lua: {
    lua_Debug: new () => LuaDebug;
    LUA_OK: number;
    LUA_YIELD: number;
    LUA_ERRRUN: number;
    LUA_MULTRET: number;
    LUA_REGISTRYINDEX: number;
    LUA_RIDX_GLOBALS: number;
    LUA_TNIL: number;
    LUA_TBOOLEAN: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    LUA_TFUNCTION: number;
    LUA_TLIGHTUSERDATA: number;
    LUA_TUSERDATA: number;
    LUA_MASKCOUNT: number;
    LUA_MASKLINE: number;
    lua_atnativeerror(L: LuaState, f: JsFunction): void;
    lua_absindex(L: LuaState, idx: number): number;
    lua_call(L: LuaState, nargs: number, nresults: number): void;
    lua_checkstack(L: LuaState, n: number): boolean;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_error(L: LuaState): never;
    lua_getfield(L: LuaState, idx: number, k: string | LuaString): number;
    lua_getglobal(L: LuaState, name: string | LuaString): number;
    lua_getinfo(L: LuaState, what: string | LuaString, ar: LuaDebug): number;
    lua_getmetatable(L: LuaState, idx: number): boolean;
    lua_getstack(L: LuaState, level: number, ar: LuaDebug): number;
    lua_gettop(L: LuaState): number;
    lua_insert(L: LuaState, idx: number): void;
    lua_isinteger(L: LuaState, idx: number): boolean;
    lua_isstring(L: LuaState, idx: number): boolean;
    lua_isyieldable(L: LuaState): boolean;
    lua_newtable(L: LuaState): void;
    lua_newthread(L: LuaState): LuaState;
    lua_next(L: LuaState, idx: number): number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_pcallk(L: LuaState, nargs: number, nresults: number, msgh: number, ctx: number, k: Continuation): number;
    lua_pop(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean | number): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushjsfunction(L: LuaState, f: JsFunction): void;
    lua_pushcclosure(L: LuaState, f: JsFunction, n: number): void;
    lua_xmove(from: LuaState, to: LuaState, n: number): void;
    lua_tothread(L: LuaState, idx: number): LuaState;
    lua_pushnil(L: LuaState): void;
    lua_pushlightuserdata(L: LuaState, p: object): void;
    lua_touserdata(L: LuaState, idx: number): unknown;
    lua_typename(L: LuaState, t: number): LuaString;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: LuaString | string): void;
    lua_pushvalue(L: LuaState, idx: number): void;
    lua_rawequal(L: LuaState, a: number, b: number): boolean;
    lua_rawget(L: LuaState, idx: number): number;
    lua_rawgeti(L: LuaState, idx: number, n: number): number;
    lua_rawlen(L: LuaState, idx: number): number;
    lua_rawset(L: LuaState, idx: number): void;
    lua_rawseti(L: LuaState, idx: number, n: number): void;
    lua_remove(L: LuaState, idx: number): void;
    lua_replace(L: LuaState, idx: number): void;
    lua_resume(L: LuaState, from: LuaState | null, nargs: number): number;
    lua_setfield(L: LuaState, idx: number, k: string | LuaString): void;
    lua_setglobal(L: LuaState, name: string | LuaString): void;
    lua_sethook(L: LuaState, f: ((L: LuaState, ar: LuaDebug) => void) | null, mask: number, count: number): void;
    lua_setmetatable(L: LuaState, idx: number): void;
    lua_settop(L: LuaState, idx: number): void;
    lua_setupvalue(L: LuaState, funcindex: number, n: number): LuaString | null;
    lua_toboolean(L: LuaState, idx: number): boolean;
    lua_tointeger(L: LuaState, idx: number): number;
    lua_tolstring(L: LuaState, idx: number): LuaString | null;
    lua_tonumber(L: LuaState, idx: number): number;
    lua_topointer(L: LuaState, idx: number): { readonly?: boolean } | null;
    lua_type(L: LuaState, idx: number): number;
    lua_yield(L: LuaState, n: number): void;
    lua_upvalueindex(i: number): number;
  };

  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadbufferx(L: LuaState, buf: LuaString, size: number, name: LuaString | string, mode: LuaString | string | null): number;
    luaL_requiref(L: LuaState, name: LuaString | string, open: JsFunction, glb: number | boolean): void;
    luaL_checkinteger(L: LuaState, arg: number): number;
    luaL_checknumber(L: LuaState, arg: number): number;
    luaL_checklstring(L: LuaState, arg: number): LuaString;
    luaL_optinteger(L: LuaState, arg: number, def: number): number;
    luaL_argerror(L: LuaState, arg: number, msg: string | LuaString): never;
    luaL_error(L: LuaState, fmt: string | LuaString, ...args: unknown[]): never;
    luaL_checkstack(L: LuaState, n: number, msg: string | null): void;
  };

  export const lualib: {
    luaopen_base: JsFunction;
    luaopen_table: JsFunction;
    luaopen_string: JsFunction;
    luaopen_math: JsFunction;
    luaopen_debug: JsFunction;
    luaopen_coroutine: JsFunction;
  };

  export function to_luastring(s: string): LuaString;
  export function to_jsstring(s: LuaString): string;
}

// Internals patched once by src/scripting/lua-patches.ts (see there for why).
declare module 'fengari/src/ltable.js' {
  const ltable: { luaH_setfrom: (L: unknown, t: { readonly?: boolean }, key: unknown, value: unknown) => void };
  export default ltable;
}
declare module 'fengari/src/lobject.js' {
  const lobject: {
    luaO_tostring: (L: unknown, obj: { ttisinteger(): boolean; value: unknown; setsvalue(ts: unknown): void }) => void;
  };
  export default lobject;
}
declare module 'fengari/src/ldebug.js' {
  const ldebug: { luaG_runerror: (L: unknown, msg: Uint8Array) => never };
  export default ldebug;
}
declare module 'fengari/src/lstring.js' {
  const lstring: { luaS_bless: (L: unknown, bytes: Uint8Array) => unknown };
  export default lstring;
}
