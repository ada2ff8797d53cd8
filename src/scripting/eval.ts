/** EVAL's script cache: sha1 -> compiled function (kept in the sandbox's registry) and flags. */
import { createHash } from 'node:crypto';
import { lauxlib, lua } from 'fengari';
import type { Logger } from '../log.js';
import { parseShebang, type ScriptFlags } from './flags.js';
import { latin1ToBytes, setReadonly, toLatin1 } from './lua-util.js';
import { Sandbox } from './sandbox.js';

export interface EvalScript {
  sha: string;
  body: string;
  flags: ScriptFlags;
}

export class EvalScripts {
  sandbox: Sandbox;
  readonly scripts = new Map<string, EvalScript>();

  constructor(private readonly log: Logger) {
    this.sandbox = this.newSandbox();
  }

  private newSandbox(): Sandbox {
    const s = new Sandbox(this.log);
    s.protectGlobals();
    return s;
  }

  static sha1(body: string): string {
    return createHash('sha1').update(body, 'latin1').digest('hex');
  }

  /** The cached script, compiling and caching body first if needed; an error text if it does not compile. */
  load(body: string): EvalScript | string {
    const sha = EvalScripts.sha1(body);
    const cached = this.scripts.get(sha);
    if (cached !== undefined) return cached;
    const parsed = parseShebang(body);
    if (typeof parsed === 'string') return `ERR ${parsed}`;
    const L = this.sandbox.L;
    const code = latin1ToBytes(body.slice(parsed.skip));
    if (lauxlib.luaL_loadbufferx(L, code, code.length, '@user_script', 't') !== lua.LUA_OK) {
      const message = toLatin1(L, -1) ?? '';
      lua.lua_pop(L, 1);
      return `ERR Error compiling script (new function): ${message}`;
    }
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, `f_${sha}`);
    const script = { sha, body, flags: parsed.flags };
    this.scripts.set(sha, script);
    return script;
  }

  /** Pushes the script's function onto co and sets KEYS and ARGV (EVAL's globals). */
  pushCall(co: import('fengari').LuaState, sha: string, keys: string[], args: string[]): number {
    const L = this.sandbox.L;
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
    setReadonly(L, -1, false);
    for (const [name, values] of [['KEYS', keys], ['ARGV', args]] as const) {
      lua.lua_createtable(L, values.length, 0);
      values.forEach((v, i) => {
        lua.lua_pushstring(L, latin1ToBytes(v));
        lua.lua_rawseti(L, -2, i + 1);
      });
      lua.lua_setfield(L, -2, name);
    }
    setReadonly(L, -1, true);
    lua.lua_pop(L, 1);
    lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, `f_${sha}`);
    lua.lua_xmove(L, co, 1);
    return 0;
  }

  /** SCRIPT FLUSH: forget every script and start from a fresh interpreter. */
  flush(): void {
    this.scripts.clear();
    this.sandbox = this.newSandbox();
  }
}
