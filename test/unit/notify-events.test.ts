import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NOTIFY } from '../../src/server/notify-flags.js';
import { eventClass, knownEvents } from '../../src/server/notify.js';

/**
 * Keeps notify.ts's EVENT_CLASS complete: every keyspace event name a
 * command module can pass to db.written() (directly, through an event
 * table such as REM_EVENTS, or through a helper's `event` parameter such as
 * storeResult) must have a class, or eventClass() would silently file it
 * as generic. The event names replication keys on must exist too, so a
 * renamed event cannot leave a stale name in a CRDT hook.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const commandsDir = path.join(root, 'src/commands');

/** The source with comments blanked (string literals kept), so commented-out calls are not scanned. */
function stripComments(src: string): string {
  let out = '';
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    const next = src[i + 1];
    if (ch === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (ch === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
    } else if (ch === "'" || ch === '"' || ch === '`') {
      const start = i++;
      while (i < src.length && src[i] !== ch) i += src[i] === '\\' ? 2 : 1;
      i++;
      out += src.slice(start, i);
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Index just past the string literal starting at i. */
function skipString(code: string, i: number): number {
  const q = code[i]!;
  i++;
  while (i < code.length && code[i] !== q) i += code[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** The top-level arguments of the call whose '(' is at `open`. */
function callArgs(code: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < code.length; ) {
    const ch = code[i]!;
    if (ch === "'" || ch === '"' || ch === '`') {
      i = skipString(code, i);
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        args.push(code.slice(start, i));
        return args.map((a) => a.trim()).filter((a, k, all) => a !== '' || k < all.length - 1);
      }
    } else if (ch === ',' && depth === 1) {
      args.push(code.slice(start, i));
      start = i + 1;
    }
    i++;
  }
  throw new Error(`unbalanced call at ${open}`);
}

/** The initializer of the declaration whose '=' is at eq: up to the first top-level ';' or line end. */
function initializer(code: string, eq: number): string {
  let depth = 0;
  for (let i = eq + 1; i < code.length; ) {
    const ch = code[i]!;
    if (ch === "'" || ch === '"' || ch === '`') {
      i = skipString(code, i);
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (depth <= 0 && (ch === ';' || ch === '\n')) return code.slice(eq + 1, i);
    i++;
  }
  return code.slice(eq + 1);
}

/** The string literals of an expression, less the operands of comparisons (`where === 'min' ? 'zpopmin' : ...`). */
function literals(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) {
    const before = text.slice(0, m.index);
    const after = text.slice(m.index + m[0].length);
    if (/[!=]==?\s*$/.test(before) || /^\s*[!=]==?/.test(after)) continue;
    out.push(m[1] ?? m[2]!);
  }
  return out;
}

interface Found {
  event: string;
  where: string;
}

/** Every event name the command modules can pass to written(). */
function commandEvents(): Found[] {
  const files = readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ name: `src/commands/${f}`, code: stripComments(readFileSync(path.join(commandsDir, f), 'utf8')) }));
  const found: Found[] = [];
  const add = (text: string, where: string): void => {
    for (const event of literals(text)) found.push({ event, where });
  };
  // Helpers taking the event as a parameter: name -> argument index.
  const helpers = new Map<string, number>();
  for (const f of files) {
    for (const m of f.code.matchAll(/function\s+(\w+)\s*\(([^)]*)\)/g)) {
      const params = m[2]!.split(',').map((p) => p.trim().split(/[?:\s=]/)[0]!);
      const i = params.findIndex((p) => p === 'event' || /Event$/.test(p));
      if (i >= 0) helpers.set(m[1]!, i);
    }
  }
  for (const f of files) {
    // db.written(key, <event>): the literals in the event argument (a ternary gives two).
    for (const m of f.code.matchAll(/\bwritten\s*\(/g)) {
      const args = callArgs(f.code, m.index + m[0].length - 1);
      if (args.length >= 2) add(args.slice(1).join(','), `${f.name}: written(${args.join(', ')})`);
    }
    // Event tables and event-valued constants (REM_EVENTS, pushEvent, const event = ...).
    for (const m of f.code.matchAll(/\b(?:const|let|var)\s+(\w*(?:[Ee]vent|EVENT)\w*)\b[^=;\n]*=(?!=)/g)) {
      add(initializer(f.code, m.index + m[0].length - 1), `${f.name}: ${m[1]}`);
    }
    // Calls of the helpers that take an event.
    for (const [name, i] of helpers) {
      for (const m of f.code.matchAll(new RegExp(`(?<![\\w.])${name}\\s*\\(`, 'g'))) {
        const before = f.code.slice(Math.max(0, m.index - 9), m.index);
        if (/function\s*$/.test(before)) continue; // the declaration itself
        const args = callArgs(f.code, m.index + m[0].length - 1);
        if (args[i] !== undefined) add(args[i]!, `${f.name}: ${name}(${args.join(', ')})`);
      }
    }
  }
  return found;
}

/** Event names the replication hooks test for (sets of names, comparisons with a literal). */
function replicationEvents(): Found[] {
  const found: Found[] = [];
  for (const file of ['key-crdt.ts', 'container-crdt.ts', 'list-writes.ts', 'state-apply.ts']) {
    const code = stripComments(readFileSync(path.join(root, 'src/replication', file), 'utf8'));
    for (const m of code.matchAll(/\bconst\s+(\w*EVENTS)\b[^=]*=/g)) {
      for (const event of literals(initializer(code, m.index + m[0].length - 1))) found.push({ event, where: `src/replication/${file}: ${m[1]}` });
    }
    for (const m of code.matchAll(/\bevent\s*[!=]==\s*'([^']+)'/g)) found.push({ event: m[1]!, where: `src/replication/${file}: ${m[0]}` });
  }
  return found;
}

describe('keyspace event classes (EVENT_CLASS)', () => {
  const known = new Set(knownEvents());

  it('the scan sees direct, tabled and helper-passed events', () => {
    const names = new Set(commandEvents().map((f) => f.event));
    // direct literals, a ternary, popEvent/pushEvent, REM_EVENTS, STORE_EVENTS, storeResult's and the geo store's argument
    for (const e of ['set', 'expire', 'zincr', 'zadd', 'lpop', 'rpush', 'zremrangebylex', 'zdiffstore', 'sinterstore', 'georadiusstore', 'hincrbyfloat']) {
      expect(names, e).toContain(e);
    }
  });

  it('every event a command can emit has a class', () => {
    const missing = commandEvents().filter((f) => !known.has(f.event));
    expect(missing.map((f) => `${f.event}  (${f.where})`)).toEqual([]);
  });

  it('every event name replication keys on is a known event', () => {
    const found = replicationEvents();
    expect(found.length).toBeGreaterThan(10);
    const missing = found.filter((f) => !known.has(f.event));
    expect(missing.map((f) => `${f.event}  (${f.where})`)).toEqual([]);
  });

  it('classes follow notify.c', () => {
    const expectClass: [number, string][] = [
      [NOTIFY.generic, 'del expire persist rename_from rename_to move_from move_to copy_to restore'],
      [NOTIFY.string, 'set setrange incrby incrbyfloat append setbit pfadd'],
      [NOTIFY.list, 'lpush rpush lpop rpop linsert lset lrem ltrim sortstore'],
      [NOTIFY.set, 'sadd srem spop sinterstore sunionstore sdiffstore'],
      [NOTIFY.hash, 'hset hdel hincrby hincrbyfloat'],
      [NOTIFY.zset, 'zadd zincr zrem zremrangebyscore zremrangebyrank zremrangebylex zpopmin zpopmax zunionstore zinterstore zdiffstore zrangestore georadiusstore geosearchstore'],
      [NOTIFY.stream, 'xadd xtrim xdel xsetid xgroup-create xgroup-createconsumer xgroup-setid xgroup-destroy xgroup-delconsumer'],
      [NOTIFY.expired, 'expired'],
      [NOTIFY.evicted, 'evicted'],
      [NOTIFY.new, 'new'],
    ];
    for (const [bit, names] of expectClass) for (const name of names.split(' ')) expect(eventClass(name), name).toBe(bit);
  });
});
