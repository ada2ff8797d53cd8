/**
 * Two behaviours of Redis's Lua that fengari (Lua 5.3) lacks, patched once
 * into fengari's module objects (its VM calls these through the module, so
 * replacing the export changes every call site):
 *
 * - Read-only tables. Redis 7.0 ships a Lua with lua_enablereadonlytable; the
 *   globals and library tables of a script are read-only and any write (plain,
 *   rawset, table.insert...) fails with "Attempt to modify a readonly table".
 *   Every table write reaches ltable.luaH_setfrom, so a flag on the table
 *   object checked there covers them all.
 * - Number to string as Lua 5.1: integral floats print without ".0"
 *   (tostring(10/2) is "5"), since scripts written for Redis rely on it.
 */
import ldebug from 'fengari/src/ldebug.js';
import lobject from 'fengari/src/lobject.js';
import lstring from 'fengari/src/lstring.js';
import ltable from 'fengari/src/ltable.js';
import { to_luastring, type LuaState } from 'fengari';

const READONLY_ERROR = to_luastring('Attempt to modify a readonly table');
let applied = false;

/**
 * fengari bug: lua_pcallk never records "hooks were allowed" in the call
 * info (a wrong bit operation), so an error caught by a pcall in a resumed
 * coroutine leaves hooks disabled for good. A caught error is never inside a
 * hook, so re-enabling them in pcall's continuation is what Lua 5.3 does.
 */
export function restoreHooks(L: LuaState): void {
  (L as unknown as { allowhook: number }).allowhook = 1;
}

export function applyLuaPatches(): void {
  if (applied) return;
  applied = true;
  const setfrom = ltable.luaH_setfrom;
  ltable.luaH_setfrom = (L, t, key, value) => {
    if (t.readonly === true) ldebug.luaG_runerror(L, READONLY_ERROR);
    setfrom(L, t, key, value);
  };
  const tostring = lobject.luaO_tostring;
  lobject.luaO_tostring = (L, obj) => {
    const integer = obj.ttisinteger();
    tostring(L, obj);
    if (integer) return;
    const bytes = (obj.value as unknown as { getstr(): Uint8Array }).getstr();
    const n = bytes.length;
    if (n > 2 && bytes[n - 2] === 0x2e && bytes[n - 1] === 0x30) obj.setsvalue(lstring.luaS_bless(L, bytes.subarray(0, n - 2)));
  };
}
