/** LuaBitOp ("bit"): 32-bit operations on Lua numbers, results as signed 32-bit integers. */
import { lauxlib, lua, type LuaState } from 'fengari';
import { setFunctions } from '../lua-util.js';

/** A Lua number as LuaBitOp sees it: rounded, then taken modulo 2^32 as a signed int. */
function arg(L: LuaState, i: number): number {
  const n = lauxlib.luaL_checknumber(L, i);
  return Number(BigInt.asIntN(32, BigInt(Math.round(n) || 0)));
}

function ret(L: LuaState, n: number): number {
  lua.lua_pushinteger(L, n | 0);
  return 1;
}

function fold(op: (a: number, b: number) => number): (L: LuaState) => number {
  return (L) => {
    let acc = arg(L, 1);
    for (let i = 2, n = lua.lua_gettop(L); i <= n; i++) acc = op(acc, arg(L, i));
    return ret(L, acc);
  };
}

function shift(op: (a: number, s: number) => number): (L: LuaState) => number {
  return (L) => ret(L, op(arg(L, 1), arg(L, 2) & 31));
}

function tohex(L: LuaState): number {
  let x = arg(L, 1) >>> 0;
  let n = lua.lua_type(L, 2) <= lua.LUA_TNIL ? 8 : arg(L, 2);
  const upper = n < 0;
  if (upper) n = -n;
  if (n > 8) n = 8;
  if (n < 8) x &= 2 ** (4 * n) - 1;
  let s = (x >>> 0).toString(16).padStart(n, '0').slice(-n || 8);
  if (upper) s = s.toUpperCase();
  lua.lua_pushstring(L, n === 0 ? '' : s);
  return 1;
}

export function openBit(L: LuaState): number {
  lua.lua_newtable(L);
  setFunctions(L, {
    tobit: (l) => ret(l, arg(l, 1)),
    bnot: (l) => ret(l, ~arg(l, 1)),
    band: fold((a, b) => a & b),
    bor: fold((a, b) => a | b),
    bxor: fold((a, b) => a ^ b),
    lshift: shift((a, s) => a << s),
    rshift: shift((a, s) => a >>> s),
    arshift: shift((a, s) => a >> s),
    rol: shift((a, s) => (a << s) | (a >>> (32 - s))),
    ror: shift((a, s) => (a >>> s) | (a << (32 - s))),
    bswap: (l) => {
      const a = arg(l, 1);
      return ret(l, ((a & 0xff) << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | ((a >>> 24) & 0xff));
    },
    tohex,
  });
  return 1;
}
