import { describe, expect, it } from 'vitest';
import { parseShebang, splitWords } from '../../src/scripting/flags.js';
import { formatG } from '../../src/scripting/libs/json-format.js';
import { Rand48 } from '../../src/scripting/rand48.js';

describe('script shebang', () => {
  it('parses flags and keeps the newline for line numbers', () => {
    expect(parseShebang('return 1')).toEqual({ flags: expect.objectContaining({ compat: true }), skip: 0 });
    const parsed = parseShebang('#!lua flags=no-writes,allow-oom\nreturn 1');
    expect(parsed).toEqual({ flags: expect.objectContaining({ compat: false, noWrites: true, allowOom: true }), skip: 31 });
  });

  it("answers Redis's errors", () => {
    expect(parseShebang('#!lua')).toBe('Invalid script shebang');
    expect(parseShebang('#!python\n')).toBe('Unexpected engine in script shebang: #!python');
    expect(parseShebang('#!lua foo=bar\n')).toBe('Unknown lua shebang option: foo=bar');
    expect(parseShebang('#!lua flags=bad\n')).toBe('Unexpected flag in script shebang: bad');
  });

  it('splits words as sdssplitargs, quotes included', () => {
    expect(splitWords('#!lua name="foo"  x')).toEqual(['#!lua', 'name=foo', 'x']);
  });
});

describe('cjson number format', () => {
  it('is printf %.14g', () => {
    expect([0.1, 100, 1e20, 1.5e-7, -5000, 1 / 3].map((d) => formatG(d, 14))).toEqual(['0.1', '100', '1e+20', '1.5e-07', '-5000', '0.33333333333333']);
  });
});

describe('rand48', () => {
  it('repeats a seeded sequence', () => {
    const a = new Rand48();
    const b = new Rand48();
    a.seed(10);
    b.seed(10);
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()]);
  });
});
