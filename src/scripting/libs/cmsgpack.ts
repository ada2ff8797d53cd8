/**
 * lua-cmsgpack as Redis bundles it: pack(...) encodes each argument (tables
 * as arrays when their keys are 1..n, maps otherwise; nesting deeper than
 * 16 becomes nil), unpack/unpack_one/unpack_limit decode.
 */
import { lauxlib, lua, type LuaState } from 'fengari';
import { pushInt, raise, setFunctions } from '../lua-util.js';

const MAX_NESTING = 16;

export function openCmsgpack(L: LuaState): number {
  lua.lua_newtable(L);
  setFunctions(L, {
    pack,
    unpack: (l) => unpack(l, 0, 0, false),
    unpack_one: (l) => unpack(l, 1, lauxlib.luaL_optinteger(l, 2, 0), true),
    unpack_limit: (l) => unpack(l, lauxlib.luaL_checkinteger(l, 2), lauxlib.luaL_optinteger(l, 3, 0), true),
  });
  lua.lua_pushstring(L, 'lua-cmsgpack');
  lua.lua_setfield(L, -2, '_NAME');
  return 1;
}

function pack(L: LuaState): number {
  const n = lua.lua_gettop(L);
  if (n === 0) return raise(L, 'MessagePack pack needs input.');
  const out: Buffer[] = [];
  for (let i = 1; i <= n; i++) encode(L, i, 0, out);
  lua.lua_pushstring(L, Buffer.concat(out));
  return 1;
}

function header(small: number, smallMax: number, codes: [number, number, number?], n: number): Buffer {
  if (n <= smallMax) return Buffer.from([small | n]);
  if (codes[2] !== undefined && n < 0x100) return Buffer.from([codes[2], n]);
  if (n < 0x10000) return Buffer.from([codes[0], n >> 8, n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = codes[1];
  b.writeUInt32BE(n, 1);
  return b;
}

function encode(L: LuaState, idx: number, depth: number, out: Buffer[]): void {
  const t = lua.lua_type(L, idx);
  if (t === lua.LUA_TBOOLEAN) out.push(Buffer.from([lua.lua_toboolean(L, idx) ? 0xc3 : 0xc2]));
  else if (t === lua.LUA_TNUMBER) out.push(encodeNumber(lua.lua_tonumber(L, idx)));
  else if (t === lua.LUA_TSTRING) {
    const s = Buffer.from(lua.lua_tolstring(L, idx)!);
    out.push(header(0xa0, 31, [0xda, 0xdb, 0xd9], s.length), s);
  } else if (t === lua.LUA_TTABLE && depth < MAX_NESTING) encodeTable(L, lua.lua_absindex(L, idx), depth + 1, out);
  else out.push(Buffer.from([0xc0]));
}

function encodeNumber(n: number): Buffer {
  if (!Number.isInteger(n) || Math.abs(n) >= 2 ** 64) {
    const b = Buffer.alloc(Math.fround(n) === n ? 5 : 9);
    if (b.length === 5) b.writeFloatBE(n, 1);
    else b.writeDoubleBE(n, 1);
    b[0] = b.length === 5 ? 0xca : 0xcb;
    return b;
  }
  if (n >= 0) {
    if (n < 128) return Buffer.from([n]);
    if (n < 0x100) return Buffer.from([0xcc, n]);
    if (n < 0x10000) return Buffer.from([0xcd, n >> 8, n & 0xff]);
    const b = Buffer.alloc(n < 2 ** 32 ? 5 : 9);
    b[0] = b.length === 5 ? 0xce : 0xcf;
    if (b.length === 5) b.writeUInt32BE(n, 1);
    else b.writeBigUInt64BE(BigInt(n), 1);
    return b;
  }
  if (n >= -32) return Buffer.from([n & 0xff]);
  if (n >= -128) return Buffer.from([0xd0, n & 0xff]);
  if (n >= -32768) return Buffer.from([0xd1, (n >> 8) & 0xff, n & 0xff]);
  const b = Buffer.alloc(n >= -(2 ** 31) ? 5 : 9);
  b[0] = b.length === 5 ? 0xd2 : 0xd3;
  if (b.length === 5) b.writeInt32BE(n, 1);
  else b.writeBigInt64BE(BigInt(n), 1);
  return b;
}

/** Array length when the keys are exactly 1..n, else -1. */
function arrayLength(L: LuaState, t: number): number {
  let count = 0;
  let max = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, t) !== 0) {
    lua.lua_pop(L, 1);
    const k = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -1) : NaN;
    if (!(Number.isInteger(k) && k > 0)) {
      lua.lua_pop(L, 1);
      return -1;
    }
    max = Math.max(max, k);
    count++;
  }
  return max === count ? count : -1;
}

function encodeTable(L: LuaState, t: number, depth: number, out: Buffer[]): void {
  lauxlib.luaL_checkstack(L, 3, null);
  const n = arrayLength(L, t);
  if (n >= 0) {
    out.push(header(0x90, 15, [0xdc, 0xdd], n));
    for (let i = 1; i <= n; i++) {
      lua.lua_rawgeti(L, t, i);
      encode(L, -1, depth, out);
      lua.lua_pop(L, 1);
    }
    return;
  }
  let pairs = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, t) !== 0) {
    lua.lua_pop(L, 1);
    pairs++;
  }
  out.push(header(0x80, 15, [0xde, 0xdf], pairs));
  lua.lua_pushnil(L);
  while (lua.lua_next(L, t) !== 0) {
    encode(L, -2, depth, out);
    encode(L, -1, depth, out);
    lua.lua_pop(L, 1);
  }
}

function unpack(L: LuaState, limit: number, offset: number, withOffset: boolean): number {
  const s = Buffer.from(lauxlib.luaL_checklstring(L, 1));
  if (offset < 0 || limit < 0) return raise(L, `Invalid request to unpack with offset of ${offset} and limit of ${limit}.`);
  if (offset > s.length) return raise(L, `Start offset ${offset} greater than input length ${s.length}.`);
  lua.lua_settop(L, 0);
  if (withOffset) lua.lua_pushnil(L);
  const d = new MsgpackDecoder(L, s, offset);
  let count = 0;
  while (d.pos < s.length && (limit === 0 || count < limit)) {
    d.value();
    count++;
  }
  if (withOffset) {
    lua.lua_pushinteger(L, d.pos >= s.length ? -1 : d.pos);
    lua.lua_replace(L, 1);
  }
  return lua.lua_gettop(L);
}

class MsgpackDecoder {
  constructor(
    private readonly L: LuaState,
    private readonly s: Buffer,
    public pos: number,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.s.length) raise(this.L, 'Missing bytes in input.');
  }

  private take(n: number): number {
    this.need(n);
    const p = this.pos;
    this.pos += n;
    return p;
  }

  value(): void {
    const L = this.L;
    lauxlib.luaL_checkstack(L, 3, null);
    const s = this.s;
    const c = s[this.take(1)]!;
    if (c < 0x80) return pushInt(L, c);
    if (c >= 0xe0) return pushInt(L, c - 0x100);
    if ((c & 0xf0) === 0x80) return this.map(c & 0x0f);
    if ((c & 0xf0) === 0x90) return this.array(c & 0x0f);
    if ((c & 0xe0) === 0xa0) return this.str(c & 0x1f);
    switch (c) {
      case 0xc0: return lua.lua_pushnil(L);
      case 0xc2: return lua.lua_pushboolean(L, false);
      case 0xc3: return lua.lua_pushboolean(L, true);
      case 0xca: return lua.lua_pushnumber(L, s.readFloatBE(this.take(4)));
      case 0xcb: return lua.lua_pushnumber(L, s.readDoubleBE(this.take(8)));
      case 0xcc: return pushInt(L, s[this.take(1)]!);
      case 0xcd: return pushInt(L, s.readUInt16BE(this.take(2)));
      case 0xce: return pushInt(L, s.readUInt32BE(this.take(4)));
      case 0xcf: return pushBig(L, s.readBigUInt64BE(this.take(8)));
      case 0xd0: return pushInt(L, s.readInt8(this.take(1)));
      case 0xd1: return pushInt(L, s.readInt16BE(this.take(2)));
      case 0xd2: return pushInt(L, s.readInt32BE(this.take(4)));
      case 0xd3: return pushBig(L, s.readBigInt64BE(this.take(8)));
      case 0xc4: case 0xd9: return this.str(s[this.take(1)]!);
      case 0xc5: case 0xda: return this.str(s.readUInt16BE(this.take(2)));
      case 0xc6: case 0xdb: return this.str(s.readUInt32BE(this.take(4)));
      case 0xdc: return this.array(s.readUInt16BE(this.take(2)));
      case 0xdd: return this.array(s.readUInt32BE(this.take(4)));
      case 0xde: return this.map(s.readUInt16BE(this.take(2)));
      case 0xdf: return this.map(s.readUInt32BE(this.take(4)));
      default: return void raise(L, 'Bad data format in input.');
    }
  }

  private str(n: number): void {
    const p = this.take(n);
    lua.lua_pushstring(this.L, this.s.subarray(p, p + n));
  }

  private array(n: number): void {
    lua.lua_createtable(this.L, n, 0);
    for (let i = 1; i <= n; i++) {
      this.value();
      lua.lua_rawseti(this.L, -2, i);
    }
  }

  private map(n: number): void {
    lua.lua_createtable(this.L, 0, n);
    for (let i = 0; i < n; i++) {
      this.value();
      this.value();
      if (lua.lua_type(this.L, -2) === lua.LUA_TNIL) lua.lua_pop(this.L, 2);
      else lua.lua_rawset(this.L, -3);
    }
  }
}

function pushBig(L: LuaState, v: bigint): void {
  pushInt(L, Number(v));
}
