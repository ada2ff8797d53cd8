/**
 * The seams: everything under src/ except src/runtime/ reaches time, timers,
 * randomness, the file system and the network only through the injected
 * Runtime, so the simulator can replace them. This test scans the sources for
 * direct uses and reports each offending file:line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'src');
const EXEMPT = join(SRC, 'runtime');

export interface Violation {
  line: number;
  rule: string;
  text: string;
}

/**
 * Blanks out comments (in both outputs) and the contents of string, template
 * and regex literals (in `bare` only), keeping every newline so that offsets
 * map to the same line numbers as the source.
 */
export function lex(source: string): { code: string; bare: string } {
  const code: string[] = [];
  const bare: string[] = [];
  const n = source.length;
  let i = 0;
  // Template literal nesting: for each `${` opened inside a template, the brace depth at which it closes.
  const templateStack: number[] = [];
  let braceDepth = 0;
  let lastSignificant = ''; // last non-space code char (or a keyword marker) for regex detection
  let lastWord = '';

  const keep = (c: string, inBare: boolean): void => {
    code.push(c);
    bare.push(inBare ? c : c === '\n' ? '\n' : ' ');
  };
  const blank = (c: string): void => {
    const b = c === '\n' ? '\n' : ' ';
    code.push(b);
    bare.push(b);
  };
  const regexAllowed = (): boolean =>
    lastSignificant === '' ||
    '(,=:[!&|?{};+-*%<>~^'.includes(lastSignificant) ||
    /^(return|typeof|case|in|of|delete|void|throw|new|else|do|yield|await|instanceof)$/.test(lastWord);

  /** Reads the body of a template literal from i (just after ` or }), stopping after ` or ${. */
  const templateBody = (): void => {
    while (i < n) {
      const c = source[i]!;
      if (c === '\\') {
        keep(c, false);
        if (i + 1 < n) keep(source[i + 1]!, false);
        i += 2;
        continue;
      }
      if (c === '`') {
        keep(c, true);
        i++;
        lastSignificant = '`';
        lastWord = '';
        return;
      }
      if (c === '$' && source[i + 1] === '{') {
        keep('$', true);
        keep('{', true);
        i += 2;
        braceDepth++;
        templateStack.push(braceDepth);
        lastSignificant = '{';
        lastWord = '';
        return;
      }
      keep(c, false);
      i++;
    }
  };

  while (i < n) {
    const c = source[i]!;
    const d = source[i + 1];
    if (c === '/' && d === '/') {
      while (i < n && source[i] !== '\n') blank(source[i++]!);
      continue;
    }
    if (c === '/' && d === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      while (i < stop) blank(source[i++]!);
      continue;
    }
    if (c === '"' || c === "'") {
      keep(c, true);
      i++;
      while (i < n && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\' && i + 1 < n) {
          keep(source[i]!, false);
          i++;
        }
        keep(source[i]!, false);
        i++;
      }
      if (i < n) keep(source[i]!, source[i] === c);
      i++;
      lastSignificant = c;
      lastWord = '';
      continue;
    }
    if (c === '`') {
      keep(c, true);
      i++;
      templateBody();
      continue;
    }
    if (c === '/' && regexAllowed()) {
      keep(c, true);
      i++;
      let inClass = false;
      while (i < n && source[i] !== '\n') {
        const r = source[i]!;
        if (r === '\\' && i + 1 < n) {
          keep(r, false);
          keep(source[i + 1]!, false);
          i += 2;
          continue;
        }
        if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        keep(r, false);
        i++;
      }
      if (i < n && source[i] === '/') keep(source[i++]!, true);
      lastSignificant = '/';
      lastWord = '';
      continue;
    }
    if (c === '{') braceDepth++;
    if (c === '}') {
      if (templateStack.length > 0 && templateStack[templateStack.length - 1] === braceDepth) {
        templateStack.pop();
        braceDepth--;
        keep(c, true);
        i++;
        templateBody();
        continue;
      }
      braceDepth--;
    }
    keep(c, true);
    i++;
    if (/[A-Za-z0-9_$]/.test(c)) {
      lastWord = /[A-Za-z0-9_$]/.test(source[i - 2] ?? '') ? lastWord + c : c;
      lastSignificant = 'a';
    } else if (!/\s/.test(c)) {
      lastSignificant = c;
      lastWord = '';
    }
  }
  return { code: code.join(''), bare: bare.join('') };
}

const FORBIDDEN_MODULES = ['fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net'];
const GLOBAL = String.raw`(?:(?<![\w$.])|(?<=\b(?:globalThis|global|window|self)\s*\.\s*))`;

/** Rules over code with string contents blanked (so messages and comments never match). */
const CODE_RULES: { rule: string; re: RegExp }[] = [
  { rule: 'Date.now', re: new RegExp(String.raw`${GLOBAL}Date\s*\.\s*now\b`, 'g') },
  { rule: 'Date.now', re: new RegExp(String.raw`${GLOBAL}Date\s*\[\s*['"\`]`, 'g') },
  // new Date() / new Date: the current time. new Date(ms) formats a given time and is fine.
  { rule: 'new Date()', re: new RegExp(String.raw`\bnew\s+(?:globalThis\s*\.\s*)?Date\b(?!\s*\(\s*[^\s)])`, 'g') },
  { rule: 'setTimeout', re: new RegExp(String.raw`${GLOBAL}setTimeout\b`, 'g') },
  { rule: 'setInterval', re: new RegExp(String.raw`${GLOBAL}setInterval\b`, 'g') },
  { rule: 'setImmediate', re: new RegExp(String.raw`${GLOBAL}setImmediate\b`, 'g') },
  { rule: 'Math.random', re: new RegExp(String.raw`${GLOBAL}Math\s*\.\s*random\b`, 'g') },
  { rule: 'process.hrtime', re: new RegExp(String.raw`${GLOBAL}process\s*\.\s*hrtime\b`, 'g') },
  { rule: 'performance.now', re: new RegExp(String.raw`${GLOBAL}performance\s*\.\s*now\b`, 'g') },
];

/** Module specifiers, read from code with comments blanked but strings intact. */
const IMPORT_RES: RegExp[] = [
  /\bfrom\s*(['"])([^'"\n]+)\1/g, // import x from 'm' / export { x } from 'm'
  /\bimport\s*(['"])([^'"\n]+)\1/g, // import 'm'
  /\bimport\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g, // import('m')
  /\brequire\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g, // require('m')
];

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let k = text.indexOf('\n'); k >= 0 && k < index; k = text.indexOf('\n', k + 1)) line++;
  return line;
}

/** All seam violations in one source file. */
export function scanSource(source: string): Violation[] {
  const { code, bare } = lex(source);
  const lines = source.split('\n');
  const found: Violation[] = [];
  const add = (index: number, rule: string): void => {
    const line = lineAt(source, index);
    if (!found.some((v) => v.line === line && v.rule === rule)) found.push({ line, rule, text: lines[line - 1]!.trim() });
  };
  for (const { rule, re } of CODE_RULES) {
    for (const m of bare.matchAll(re)) add(m.index!, rule);
  }
  for (const re of IMPORT_RES) {
    for (const m of code.matchAll(re)) {
      // Only a specifier that is a real string literal in the code (not inside a blanked string).
      if (bare[m.index!] === ' ') continue;
      if (FORBIDDEN_MODULES.includes(m[2]!)) add(m.index!, `import '${m[2]}'`);
    }
  }
  return found.sort((a, b) => a.line - b.line);
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (path === EXEMPT) continue;
      out.push(...tsFiles(path));
    } else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

describe('the scanner itself', () => {
  it('finds every kind of violation, with its line', () => {
    const fixture = [
      "import { readFileSync } from 'node:fs';", // 1
      "import * as net from 'net';", // 2
      "import { readFile } from 'fs/promises';", // 3
      'const t = Date.now();', // 4
      'const d = new Date();', // 5
      'setTimeout(() => undefined, 10);', // 6
      'const h = setInterval(tick, 100);', // 7
      'setImmediate(run);', // 8
      'const r = Math.random();', // 9
      'const [s, ns] = process.hrtime();', // 10
      'const p = performance.now();', // 11
      'const fs = require("fs");', // 12
      "const m = await import('node:net');", // 13
      'globalThis.setTimeout(f, 1);', // 14
      'const e = new Date;', // 15
      "export { createServer } from 'node:net';", // 16
      'const big = process.hrtime.bigint();', // 17
      "const fsp = await import('node:fs/promises');", // 18
      'const x = `${Date.now()}`;', // 19
      'const g = new globalThis.Date();', // 20
    ].join('\n');
    const found = scanSource(fixture);
    expect(found.map((v) => `${v.line} ${v.rule}`)).toEqual([
      "1 import 'node:fs'",
      "2 import 'net'",
      "3 import 'fs/promises'",
      '4 Date.now',
      '5 new Date()',
      '6 setTimeout',
      '7 setInterval',
      '8 setImmediate',
      '9 Math.random',
      '10 process.hrtime',
      '11 performance.now',
      "12 import 'fs'",
      "13 import 'node:net'",
      '14 setTimeout',
      '15 new Date()',
      "16 import 'node:net'",
      '17 process.hrtime',
      "18 import 'node:fs/promises'",
      '19 Date.now',
      '20 new Date()',
    ]);
  });

  it('ignores comments, strings, injected runtime calls and new Date(givenTime)', () => {
    const fixture = [
      '// Date.now() is not allowed here, nor setTimeout',
      '/* Math.random() and',
      "   import fs from 'node:fs' */",
      "const msg = 'use Date.now() via the clock, not setTimeout';",
      'const tpl = `performance.now() ${value} process.hrtime`;',
      'this.runtime.timer.setTimeout(() => undefined, 5);',
      'server.runtime.timer.setImmediate(run);',
      'const when = new Date(ms).toISOString();',
      'const ms = this.runtime.clock.now();',
      'const rnd = this.runtime.random.next();',
      "import { join } from 'node:path';",
      "import { x } from './fs.js';",
      "import type { Socket } from './net-types.js';",
      'const re = /Date.now|setTimeout/g;',
      "const q = a / b; const note = 'x'; // Math.random",
      'myDate.now();',
      'obj.setInterval = 3;',
      "const s = \"import fs from 'fs'\";",
    ].join('\n');
    expect(scanSource(fixture)).toEqual([]);
  });

  it('reports file:line in the failure message format used below', () => {
    const v = scanSource('\n\nconst t = Date.now();\n');
    expect(v).toEqual([{ line: 3, rule: 'Date.now', text: 'const t = Date.now();' }]);
  });
});

describe('seams', () => {
  it('src/ outside src/runtime/ uses no clock, timer, randomness, fs or net directly', () => {
    const files = tsFiles(SRC);
    expect(files.length).toBeGreaterThan(10);
    const report: string[] = [];
    for (const file of files) {
      const rel = relative(ROOT, file).split(sep).join('/');
      for (const v of scanSource(readFileSync(file, 'utf8'))) report.push(`${rel}:${v.line}: ${v.rule}: ${v.text}`);
    }
    expect(report, `seam violations (use the injected Runtime instead):\n${report.join('\n')}`).toEqual([]);
  });
});
