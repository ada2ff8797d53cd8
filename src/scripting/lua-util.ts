/** Small helpers over fengari's C-API: Strata strings are latin1 (one char per byte), Lua strings are bytes. */
import { lua, lauxlib, type LuaState } from 'fengari';

/** Lua string bytes -> latin1 string (binary safe). */
export function bytesToLatin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).latin1Slice();
}

/** latin1 string -> the bytes Lua sees. */
export function latin1ToBytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

/** The string at idx (numbers converted as Lua does), or null. */
export function toLatin1(L: LuaState, idx: number): string | null {
  if (!lua.lua_isstring(L, idx)) return null;
  return bytesToLatin1(lua.lua_tolstring(L, idx)!);
}

export function pushLatin1(L: LuaState, s: string): void {
  lua.lua_pushstring(L, latin1ToBytes(s));
}

/** Raises a plain Lua error with msg (position info added as luaL_error does). */
export function raise(L: LuaState, msg: string): never {
  return lauxlib.luaL_error(L, latin1ToBytes(msg.replace(/%/g, '%%')));
}

/** Pushes a new table {[field] = value}. */
export function pushFieldTable(L: LuaState, field: string, value: string): void {
  lua.lua_createtable(L, 0, 1);
  pushLatin1(L, value);
  lua.lua_setfield(L, -2, field);
}

/**
 * Redis's error table for a failed call: {err = "CODE message"}. A message
 * starting with '-' carries its code; otherwise the code is ERR.
 */
export function pushErrorTable(L: LuaState, message: string): void {
  let text: string;
  if (message.startsWith('-')) {
    const space = message.indexOf(' ');
    text = space < 0 ? `ERR ${message.slice(1)}` : message.slice(1);
  } else text = `ERR ${message}`;
  pushFieldTable(L, 'err', text.replace(/[\r\n]+$/, ''));
}

/** Raises Redis's error table for message (what redis.call and the API functions throw). */
export function raiseErrorTable(L: LuaState, message: string): never {
  pushErrorTable(L, message);
  return lua.lua_error(L);
}

/** Registers fns into the table at the top of the stack. */
export function setFunctions(L: LuaState, fns: Record<string, (L: LuaState) => number>): void {
  for (const [name, fn] of Object.entries(fns)) {
    lua.lua_pushjsfunction(L, fn);
    lua.lua_setfield(L, -2, name);
  }
}

/** Marks the table at idx read-only (see lua-patches.ts). */
export function setReadonly(L: LuaState, idx: number, on: boolean): void {
  const t = lua.lua_topointer(L, idx) as { readonly?: boolean } | null;
  if (t !== null) t.readonly = on;
}

export function isReadonly(L: LuaState, idx: number): boolean {
  return (lua.lua_topointer(L, idx) as { readonly?: boolean } | null)?.readonly === true;
}

/** Read-only protection of the table at the top of the stack, its sub-tables and metatables (cycles allowed). */
export function protectRecursively(L: LuaState): void {
  if (isReadonly(L, -1)) return;
  setReadonly(L, -1, true);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    if (lua.lua_type(L, -1) === lua.LUA_TTABLE) protectRecursively(L);
    lua.lua_pop(L, 1);
  }
  if (lua.lua_getmetatable(L, -1)) {
    protectRecursively(L);
    lua.lua_pop(L, 1);
  }
}

/**
 * Lua 5.3 words type errors "attempt to call a nil value (field 'f')"; Redis's
 * Lua 5.1 said "attempt to call field 'f' (a nil value)", which clients match.
 */
export function lua51Message(message: string): string {
  return message.replace(/attempt to (\w+) a (\w+) value \((\w+) '([^']*)'\)/g, "attempt to $1 $3 '$4' (a $2 value)");
}

/** fengari's Lua integers are 32-bit: larger integral values go in as floats (as every number did in Lua 5.1). */
export function pushInt(L: LuaState, n: number): void {
  if ((n | 0) === n) lua.lua_pushinteger(L, n);
  else lua.lua_pushnumber(L, n);
}
