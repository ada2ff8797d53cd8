/**
 * lua-cjson as Redis bundles it: cjson.encode / cjson.decode, cjson.null and
 * the configuration functions (max depths, invalid numbers, precision...).
 */
import { lauxlib, lua, type LuaState } from 'fengari';
import { bytesToLatin1, latin1ToBytes, pushInt, raise, setFunctions } from '../lua-util.js';
import { formatG } from './json-format.js';

/** The value cjson.null stands for (a light userdata, compared by identity). */
const JSON_NULL = { cjsonNull: true };

interface Config {
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  encodeInvalidNumbers: boolean;
  decodeInvalidNumbers: boolean;
  precision: number;
  sparseRatio: number;
  sparseSafe: number;
  sparseConvert: boolean;
}

export function openCjson(L: LuaState): number {
  const cfg: Config = {
    encodeMaxDepth: 1000,
    decodeMaxDepth: 1000,
    encodeInvalidNumbers: false,
    decodeInvalidNumbers: true,
    precision: 14,
    sparseRatio: 2,
    sparseSafe: 10,
    sparseConvert: false,
  };
  lua.lua_newtable(L);
  const intOption = (key: 'encodeMaxDepth' | 'decodeMaxDepth' | 'precision') => (l: LuaState) => {
    if (lua.lua_gettop(l) >= 1) cfg[key] = lauxlib.luaL_checkinteger(l, 1);
    lua.lua_pushinteger(l, cfg[key]);
    return 1;
  };
  const boolOption = (key: 'encodeInvalidNumbers' | 'decodeInvalidNumbers') => (l: LuaState) => {
    if (lua.lua_gettop(l) >= 1) cfg[key] = lua.lua_toboolean(l, 1) || lua.lua_tolstring(l, 1)?.[0] === 0x6f;
    lua.lua_pushboolean(l, cfg[key]);
    return 1;
  };
  setFunctions(L, {
    encode: (l) => {
      if (lua.lua_gettop(l) !== 1) return raise(l, "bad argument #1 to 'encode' (expected 1 argument)");
      lua.lua_pushstring(l, latin1ToBytes(new Encoder(l, cfg).value(1, 0)));
      return 1;
    },
    decode: (l) => {
      if (lua.lua_gettop(l) !== 1) return raise(l, "bad argument #1 to 'decode' (expected 1 argument)");
      new Decoder(l, cfg, bytesToLatin1(lauxlib.luaL_checklstring(l, 1))).decode();
      return 1;
    },
    encode_max_depth: intOption('encodeMaxDepth'),
    decode_max_depth: intOption('decodeMaxDepth'),
    encode_number_precision: intOption('precision'),
    encode_invalid_numbers: boolOption('encodeInvalidNumbers'),
    decode_invalid_numbers: boolOption('decodeInvalidNumbers'),
    encode_keep_buffer: (l) => (lua.lua_pushboolean(l, true), 1),
    encode_sparse_array: (l) => {
      if (lua.lua_gettop(l) >= 1) cfg.sparseConvert = lua.lua_toboolean(l, 1);
      if (lua.lua_gettop(l) >= 2) cfg.sparseRatio = lauxlib.luaL_checkinteger(l, 2);
      if (lua.lua_gettop(l) >= 3) cfg.sparseSafe = lauxlib.luaL_checkinteger(l, 3);
      lua.lua_pushboolean(l, cfg.sparseConvert);
      lua.lua_pushinteger(l, cfg.sparseRatio);
      lua.lua_pushinteger(l, cfg.sparseSafe);
      return 3;
    },
  });
  lua.lua_pushlightuserdata(L, JSON_NULL);
  lua.lua_setfield(L, -2, 'null');
  lua.lua_pushstring(L, 'cjson');
  lua.lua_setfield(L, -2, '_NAME');
  return 1;
}

const ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function quote(s: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${s.replace(/[\x00-\x1f"\\/\x7f]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

class Encoder {
  constructor(
    private readonly L: LuaState,
    private readonly cfg: Config,
  ) {}

  value(idx: number, depth: number): string {
    const L = this.L;
    switch (lua.lua_type(L, idx)) {
      case lua.LUA_TSTRING:
        return quote(bytesToLatin1(lua.lua_tolstring(L, idx)!));
      case lua.LUA_TNUMBER:
        return this.number(lua.lua_tonumber(L, idx));
      case lua.LUA_TBOOLEAN:
        return lua.lua_toboolean(L, idx) ? 'true' : 'false';
      case lua.LUA_TNIL:
        return 'null';
      case lua.LUA_TTABLE:
        return this.table(lua.lua_absindex(L, idx), depth + 1);
      default:
        if (lua.lua_touserdata(L, idx) === JSON_NULL) return 'null';
        return raise(L, `Cannot serialise ${typeName(L, idx)}: type not supported`);
    }
  }

  private number(n: number): string {
    if (!Number.isFinite(n)) {
      if (!this.cfg.encodeInvalidNumbers) return raise(this.L, 'Cannot serialise number: must not be NaN or Inf');
      return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
    }
    return formatG(n, this.cfg.precision);
  }

  private table(t: number, depth: number): string {
    const L = this.L;
    if (depth > this.cfg.encodeMaxDepth) return raise(L, `Cannot serialise, excessive nesting (${depth})`);
    lauxlib.luaL_checkstack(L, 3, null);
    const length = this.arrayLength(t);
    if (length >= 0) {
      const items: string[] = [];
      for (let i = 1; i <= length; i++) {
        lua.lua_rawgeti(L, t, i);
        items.push(this.value(-1, depth));
        lua.lua_pop(L, 1);
      }
      return `[${items.join(',')}]`;
    }
    const items: string[] = [];
    lua.lua_pushnil(L);
    while (lua.lua_next(L, t) !== 0) {
      const kt = lua.lua_type(L, -2);
      let key: string;
      if (kt === lua.LUA_TSTRING) key = quote(bytesToLatin1(lua.lua_tolstring(L, -2)!));
      else if (kt === lua.LUA_TNUMBER) key = `"${this.number(lua.lua_tonumber(L, -2))}"`;
      else return raise(L, 'Cannot serialise table: table key must be a number or string');
      items.push(`${key}:${this.value(-1, depth)}`);
      lua.lua_pop(L, 1);
    }
    return `{${items.join(',')}}`;
  }

  /** The array length if t is an array (positive integer keys, not too sparse); -1 for an object. */
  private arrayLength(t: number): number {
    const L = this.L;
    let max = 0;
    let items = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, t) !== 0) {
      const k = lua.lua_type(L, -2) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : NaN;
      if (!(Number.isInteger(k) && k >= 1)) {
        lua.lua_pop(L, 2);
        return -1;
      }
      max = Math.max(max, k);
      items++;
      lua.lua_pop(L, 1);
    }
    const { sparseRatio, sparseSafe, sparseConvert } = this.cfg;
    if (sparseRatio > 0 && max > items * sparseRatio && max > sparseSafe) {
      if (!sparseConvert) return raise(L, 'Cannot serialise table: excessively sparse array');
      return -1;
    }
    // An empty table encodes as an object, as lua-cjson does.
    return items === 0 ? -1 : max;
  }
}

function typeName(L: LuaState, idx: number): string {
  return bytesToLatin1(lua.lua_typename(L, lua.lua_type(L, idx)));
}

class Decoder {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly L: LuaState,
    private readonly cfg: Config,
    private readonly s: string,
  ) {}

  decode(): void {
    this.value();
    this.ws();
    if (this.pos < this.s.length) this.fail('the end');
  }

  private fail(expected: string): never {
    const found = this.pos >= this.s.length ? 'T_END' : 'invalid token';
    return raise(this.L, `Expected ${expected} but found ${found} at character ${this.pos + 1}`);
  }

  private ws(): void {
    while (/[ \t\r\n]/.test(this.s[this.pos] ?? '')) this.pos++;
  }

  private value(): void {
    const L = this.L;
    lauxlib.luaL_checkstack(L, 3, null);
    this.ws();
    const c = this.s[this.pos];
    if (c === '{' || c === '[') return this.container(c === '{');
    if (c === '"') return void lua.lua_pushstring(L, latin1ToBytes(this.string()));
    for (const [word, push] of [
      ['true', () => lua.lua_pushboolean(L, true)],
      ['false', () => lua.lua_pushboolean(L, false)],
      ['null', () => lua.lua_pushlightuserdata(L, JSON_NULL)],
    ] as const) {
      if (this.s.startsWith(word, this.pos)) {
        this.pos += word.length;
        return push();
      }
    }
    const m = /^-?(?:\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(this.s.slice(this.pos, this.pos + 400));
    if (m === null) return this.fail('value');
    this.pos += m[0].length;
    const n = Number(m[0]);
    if (/^-?\d+$/.test(m[0])) pushInt(L, n);
    else lua.lua_pushnumber(L, n);
  }

  private container(isObject: boolean): void {
    const L = this.L;
    if (++this.depth > this.cfg.decodeMaxDepth) {
      raise(L, `Found too many nested data structures (${this.depth}) at character ${this.pos + 1}`);
    }
    this.pos++;
    lua.lua_newtable(L);
    const close = isObject ? '}' : ']';
    this.ws();
    if (this.s[this.pos] === close) {
      this.pos++;
      this.depth--;
      return;
    }
    for (let i = 1; ; i++) {
      if (isObject) {
        this.ws();
        if (this.s[this.pos] !== '"') this.fail('object key string');
        lua.lua_pushstring(L, latin1ToBytes(this.string()));
        this.ws();
        if (this.s[this.pos++] !== ':') this.fail('colon');
        this.value();
        lua.lua_rawset(L, -3);
      } else {
        this.value();
        lua.lua_rawseti(L, -2, i);
      }
      this.ws();
      const c = this.s[this.pos++];
      if (c === close) break;
      if (c !== ',') this.fail(`comma or ${isObject ? 'object' : 'array'} end`);
    }
    this.depth--;
  }

  /** A JSON string at pos, returned as latin1 bytes (UTF-8 for \u escapes). */
  private string(): string {
    const s = this.s;
    let out = '';
    this.pos++;
    for (;;) {
      const c = s[this.pos++];
      if (c === undefined) return this.fail('string end');
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = s[this.pos++];
      if (e === 'u') {
        let code = parseInt(s.slice(this.pos, this.pos + 4), 16);
        this.pos += 4;
        if (code >= 0xd800 && code < 0xdc00 && s.startsWith('\\u', this.pos)) {
          const low = parseInt(s.slice(this.pos + 2, this.pos + 6), 16);
          this.pos += 6;
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        }
        out += Buffer.from(String.fromCodePoint(code), 'utf8').latin1Slice();
      } else out += { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }[e ?? ''] ?? e ?? '';
    }
  }
}
