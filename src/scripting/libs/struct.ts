/**
 * Roberto Ierusalimschy's struct library as Redis bundles it:
 * struct.pack(fmt, ...), struct.unpack(fmt, s [, pos]), struct.size(fmt).
 * Formats: < > ! = endianness/alignment, x pad, b B h H l L T i[n] I[n]
 * integers, f d floats, s zero-terminated string, c[n] fixed string.
 */
import { lauxlib, lua, type LuaState } from 'fengari';
import { bytesToLatin1, raise, setFunctions } from '../lua-util.js';

interface Item {
  op: string;
  size: number;
}

const SIZES: Record<string, number> = { b: 1, B: 1, h: 2, H: 2, l: 8, L: 8, T: 8, i: 4, I: 4, f: 4, d: 8 };

/** Splits fmt into items; tracks endianness in each item's op ('<'/'>'). */
function* items(L: LuaState, fmt: string): Generator<Item & { little: boolean }> {
  let little = true;
  for (let i = 0; i < fmt.length; i++) {
    const op = fmt[i]!;
    const digits = /^\d*/.exec(fmt.slice(i + 1))![0];
    i += digits.length;
    const n = digits === '' ? -1 : Number(digits);
    if (op === '<' || op === '=') little = true;
    else if (op === '>') little = false;
    else if (op === '!' || op === ' ') continue;
    else if (op === 'x') yield { op, size: 1, little };
    else if (op === 'i' || op === 'I') {
      if (n > 8) raise(L, `integral size ${n} is larger than limit of 8`);
      yield { op, size: n < 0 ? 4 : n, little };
    } else if (op in SIZES) yield { op, size: SIZES[op]!, little };
    else if (op === 'c') yield { op, size: n < 0 ? 1 : n, little };
    else if (op === 's') yield { op, size: 0, little };
    else raise(L, `invalid format option '${op}'`);
  }
}

function intBytes(v: bigint, size: number, little: boolean): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    b[little ? i : size - 1 - i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

function pack(L: LuaState): number {
  const fmt = bytesToLatin1(lauxlib.luaL_checklstring(L, 1));
  const out: Buffer[] = [];
  let arg = 2;
  for (const it of items(L, fmt)) {
    if (it.op === 'x') out.push(Buffer.alloc(1));
    else if (it.op === 'f' || it.op === 'd') {
      const b = Buffer.alloc(it.size);
      const n = lauxlib.luaL_checknumber(L, arg++);
      if (it.size === 4) (it.little ? b.writeFloatLE(n) : b.writeFloatBE(n));
      else (it.little ? b.writeDoubleLE(n) : b.writeDoubleBE(n));
      out.push(b);
    } else if (it.op === 's' || it.op === 'c') {
      const s = Buffer.from(lauxlib.luaL_checklstring(L, arg++));
      if (it.op === 's') out.push(s, Buffer.alloc(1));
      else {
        if (s.length < it.size) return lauxlib.luaL_argerror(L, arg - 1, 'string too short');
        out.push(s.subarray(0, it.size === 0 ? s.length : it.size));
      }
    } else out.push(intBytes(BigInt(Math.trunc(lauxlib.luaL_checknumber(L, arg++))), it.size, it.little));
  }
  lua.lua_pushstring(L, Buffer.concat(out));
  return 1;
}

function unpack(L: LuaState): number {
  const fmt = bytesToLatin1(lauxlib.luaL_checklstring(L, 1));
  const s = Buffer.from(lauxlib.luaL_checklstring(L, 2));
  let pos = lauxlib.luaL_optinteger(L, 3, 1) - 1;
  if (pos < 0 || pos > s.length) return lauxlib.luaL_argerror(L, 3, 'offset must be 1 or greater');
  let results = 0;
  let lastNumber = 0;
  for (const it of items(L, fmt)) {
    const size = it.op === 'c' && it.size === 0 ? lastNumber : it.size;
    if (it.op !== 's' && pos + size > s.length) return lauxlib.luaL_argerror(L, 2, 'data string too short');
    lauxlib.luaL_checkstack(L, 2, 'too many results');
    if (it.op === 'x') {
      pos += 1;
      continue;
    }
    if (it.op === 'f' || it.op === 'd') {
      const n = size === 4 ? (it.little ? s.readFloatLE(pos) : s.readFloatBE(pos)) : it.little ? s.readDoubleLE(pos) : s.readDoubleBE(pos);
      lua.lua_pushnumber(L, n);
    } else if (it.op === 's') {
      const end = s.indexOf(0, pos);
      if (end < 0) return raise(L, 'unfinished string in data');
      lua.lua_pushstring(L, s.subarray(pos, end));
      pos = end + 1 - size;
    } else if (it.op === 'c') lua.lua_pushstring(L, s.subarray(pos, pos + size));
    else {
      let v = 0n;
      for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(s[it.little ? pos + size - 1 - i : pos + i]!);
      if (it.op === it.op.toLowerCase()) v = BigInt.asIntN(size * 8, v);
      lastNumber = Number(v);
      lua.lua_pushnumber(L, lastNumber);
    }
    pos += size;
    results++;
  }
  lua.lua_pushinteger(L, pos + 1);
  return results + 1;
}

function size(L: LuaState): number {
  const fmt = bytesToLatin1(lauxlib.luaL_checklstring(L, 1));
  let total = 0;
  for (const it of items(L, fmt)) {
    if (it.op === 's' || (it.op === 'c' && it.size === 0)) return lauxlib.luaL_argerror(L, 1, 'options \'c0\' - \'s\' have undefined sizes');
    total += it.size;
  }
  lua.lua_pushinteger(L, total);
  return 1;
}

export function openStruct(L: LuaState): number {
  lua.lua_newtable(L);
  setFunctions(L, { pack, unpack, size });
  return 1;
}
