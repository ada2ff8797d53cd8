/**
 * A command's RESP2/RESP3 reply (as the pseudo-client's writer produced it)
 * converted to the Lua value redis.call returns, with Redis's rules:
 * integer -> number, bulk -> string, null bulk/array -> false, status ->
 * {ok=...}, error -> {err=...}, array -> table; RESP3: null -> nil,
 * bool -> boolean, double -> {double=n}, map -> {map={k=v}}, set ->
 * {set={m=true}}, big number -> {big_number=s}, verbatim ->
 * {verbatim_string={format=f, string=s}}; attributes are skipped.
 */
import { lua, type LuaState } from 'fengari';
import { pushErrorTable, pushFieldTable } from './lua-util.js';

export class ReplyToLua {
  private pos = 0;

  constructor(
    private readonly L: LuaState,
    private readonly buf: Buffer,
  ) {}

  /** Pushes the first reply in the buffer; true if it was an error. */
  pushReply(): boolean {
    const isError = this.buf[this.pos] === 0x2d;
    this.push();
    return isError;
  }

  private line(): string {
    const end = this.buf.indexOf('\r\n', this.pos, 'latin1');
    const s = this.buf.latin1Slice(this.pos + 1, end);
    this.pos = end + 2;
    return s;
  }

  private bulkBody(len: number): string {
    const s = this.buf.latin1Slice(this.pos, this.pos + len);
    this.pos += len + 2;
    return s;
  }

  private push(): void {
    const L = this.L;
    lua.lua_checkstack(L, 4);
    const type = String.fromCharCode(this.buf[this.pos]!);
    const text = this.line();
    switch (type) {
      case ':':
        lua.lua_pushnumber(L, Number(text));
        return;
      case '$':
        if (text === '-1') lua.lua_pushboolean(L, false);
        else lua.lua_pushstring(L, Buffer.from(this.bulkBody(Number(text)), 'latin1'));
        return;
      case '+':
        pushFieldTable(L, 'ok', text);
        return;
      case '-':
        pushErrorTable(L, `-${text}`);
        return;
      case '*':
        if (text === '-1') lua.lua_pushboolean(L, false);
        else this.pushArray(Number(text));
        return;
      case '_':
        lua.lua_pushnil(L);
        return;
      case '#':
        lua.lua_pushboolean(L, text === 't');
        return;
      case ',':
        lua.lua_createtable(L, 0, 1);
        lua.lua_pushnumber(L, parseDouble(text));
        lua.lua_setfield(L, -2, 'double');
        return;
      case '(':
        pushFieldTable(L, 'big_number', text);
        return;
      case '%':
      case '~':
        this.pushMapOrSet(type === '%', Number(text));
        return;
      case '=':
        this.pushVerbatim(this.bulkBody(Number(text)));
        return;
      case '|':
        this.skip(2 * Number(text));
        this.push();
        return;
      default:
        lua.lua_pushnil(L);
    }
  }

  private pushArray(n: number): void {
    lua.lua_createtable(this.L, n, 0);
    for (let i = 1; i <= n; i++) {
      this.push();
      lua.lua_rawseti(this.L, -2, i);
    }
  }

  private pushMapOrSet(isMap: boolean, n: number): void {
    const L = this.L;
    lua.lua_createtable(L, 0, 1);
    lua.lua_createtable(L, 0, n);
    for (let i = 0; i < n; i++) {
      this.push();
      if (isMap) this.push();
      else lua.lua_pushboolean(L, true);
      lua.lua_rawset(L, -3);
    }
    lua.lua_setfield(L, -2, isMap ? 'map' : 'set');
  }

  private pushVerbatim(body: string): void {
    const L = this.L;
    lua.lua_createtable(L, 0, 1);
    lua.lua_createtable(L, 0, 2);
    lua.lua_pushstring(L, Buffer.from(body.slice(0, 3), 'latin1'));
    lua.lua_setfield(L, -2, 'format');
    lua.lua_pushstring(L, Buffer.from(body.slice(4), 'latin1'));
    lua.lua_setfield(L, -2, 'string');
    lua.lua_setfield(L, -2, 'verbatim_string');
  }

  /** Skips n complete replies (attribute contents). */
  private skip(n: number): void {
    for (let i = 0; i < n; i++) {
      this.push();
      lua.lua_pop(this.L, 1);
    }
  }
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan') return NaN;
  return Number(text);
}
