/**
 * The value a script returns, converted to the caller's reply with Redis's
 * rules: string -> bulk, number -> integer (truncated), boolean -> 1/null
 * (RESP3 booleans once the script called redis.setresp(3)), table with
 * err/ok -> error/status, {double}, {big_number}, {verbatim_string}, {map},
 * {set}, otherwise an array up to the first nil; anything else -> null.
 */
import { lua, type LuaState } from 'fengari';
import type { ReplyWriter } from '../protocol/reply.js';
import { toLatin1 } from './lua-util.js';

/** Nesting at which a reply gives up (Redis: when its Lua C stack is exhausted). */
const MAX_DEPTH = 1000;

/** What the error reply of an {err=...} table needs besides its text. */
export interface ErrorSink {
  (message: string): void;
}

/** Writes the value at the top of L's stack to w and pops it. */
export function writeLuaValue(L: LuaState, w: ReplyWriter, scriptResp: 2 | 3, onError: ErrorSink, depth = 0): void {
  // Redis runs out of Lua C stack on deep (or self-referencing) tables; so do we, before JavaScript's stack does.
  if (depth > MAX_DEPTH || !lua.lua_checkstack(L, 4)) {
    onError('ERR reached lua stack limit');
    lua.lua_pop(L, 1);
    return;
  }
  const t = lua.lua_type(L, -1);
  if (t === lua.LUA_TSTRING) w.bulk(toLatin1(L, -1)!);
  else if (t === lua.LUA_TBOOLEAN) writeBoolean(w, lua.lua_toboolean(L, -1), scriptResp);
  else if (t === lua.LUA_TNUMBER) w.int(truncate(lua.lua_tonumber(L, -1)));
  else if (t === lua.LUA_TTABLE) {
    writeTable(L, w, scriptResp, onError, depth + 1);
  } else w.nullBulk();
  lua.lua_pop(L, 1);
}

function writeBoolean(w: ReplyWriter, b: boolean, scriptResp: 2 | 3): void {
  if (scriptResp === 3) w.bool(b);
  else if (b) w.int(1);
  else w.nullBulk();
}

/** C's (long long) cast of a double: toward zero, saturating. */
function truncate(n: number): number | bigint {
  if (Number.isNaN(n)) return -(2n ** 63n);
  if (n >= 2 ** 63) return -(2n ** 63n);
  if (n <= -(2 ** 63)) return -(2n ** 63n);
  const t = Math.trunc(n);
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

/** Pushes t[field] (raw); returns its type. */
function field(L: LuaState, name: string): number {
  lua.lua_pushstring(L, name);
  return lua.lua_rawget(L, -2);
}

function writeTable(L: LuaState, w: ReplyWriter, resp: 2 | 3, onError: ErrorSink, depth: number): void {
  if (field(L, 'err') === lua.LUA_TSTRING) {
    onError(toLatin1(L, -1)!);
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (field(L, 'ok') === lua.LUA_TSTRING) {
    w.status(toLatin1(L, -1)!.replace(/[\r\n]/g, ' '));
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (field(L, 'double') === lua.LUA_TNUMBER) {
    w.double(lua.lua_tonumber(L, -1));
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (field(L, 'big_number') === lua.LUA_TSTRING) {
    writeBigNumber(w, toLatin1(L, -1)!.replace(/[\r\n]/g, ' '));
    lua.lua_pop(L, 1);
    return;
  }
  lua.lua_pop(L, 1);
  if (writeVerbatim(L, w)) return;
  if (writeMapOrSet(L, w, resp, onError, depth)) return;
  writeArray(L, w, resp, onError, depth);
}

function writeBigNumber(w: ReplyWriter, s: string): void {
  if (w.resp === 3) w.raw(`(${s}\r\n`);
  else w.bulk(s);
}

function writeVerbatim(L: LuaState, w: ReplyWriter): boolean {
  if (field(L, 'verbatim_string') !== lua.LUA_TTABLE) {
    lua.lua_pop(L, 1);
    return false;
  }
  const format = field(L, 'format') === lua.LUA_TSTRING ? toLatin1(L, -1) : null;
  lua.lua_pop(L, 1);
  const text = field(L, 'string') === lua.LUA_TSTRING ? toLatin1(L, -1) : null;
  lua.lua_pop(L, 2);
  if (format === null || text === null) return false;
  w.verbatim(text, format);
  return true;
}

function writeMapOrSet(L: LuaState, w: ReplyWriter, resp: 2 | 3, onError: ErrorSink, depth: number): boolean {
  for (const kind of ['map', 'set'] as const) {
    if (field(L, kind) !== lua.LUA_TTABLE) {
      lua.lua_pop(L, 1);
      continue;
    }
    let n = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      n++;
      lua.lua_pop(L, 1);
    }
    if (kind === 'map') w.mapHeader(n);
    else w.setHeader(n);
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      // Stack: table, key, value. Write a copy of the key, then the value (or only the key for a set).
      lua.lua_pushvalue(L, -2);
      writeLuaValue(L, w, resp, onError, depth);
      if (kind === 'map') writeLuaValue(L, w, resp, onError, depth);
      else lua.lua_pop(L, 1);
    }
    lua.lua_pop(L, 1);
    return true;
  }
  return false;
}

function writeArray(L: LuaState, w: ReplyWriter, resp: 2 | 3, onError: ErrorSink, depth: number): void {
  let n = 0;
  while (lua.lua_rawgeti(L, -1, n + 1) !== lua.LUA_TNIL) {
    n++;
    lua.lua_pop(L, 1);
  }
  lua.lua_pop(L, 1);
  w.arrayHeader(n);
  for (let i = 1; i <= n; i++) {
    lua.lua_rawgeti(L, -1, i);
    writeLuaValue(L, w, resp, onError, depth);
  }
}
