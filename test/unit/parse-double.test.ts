import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDouble } from '../../src/commands/util.js';

/** strtod's answer for what Redis accepts as a float argument (the slow path's rule). */
function reference(s: string): number | null {
  if (/^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/.test(s)) return Number(s);
  if (/^[+-]?inf(?:inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  return null;
}

describe('parseDouble', () => {
  it('reads integers of any sign, length and leading zeros as Number() does', () => {
    const digits = fc.stringMatching(/^[0-9]{1,22}$/);
    fc.assert(
      fc.property(fc.constantFrom('', '-', '+'), digits, (sign, d) => {
        expect(Object.is(parseDouble(sign + d), reference(sign + d))).toBe(true);
      }),
    );
  });

  it('keeps the sign of zero and refuses lone signs and junk', () => {
    expect(Object.is(parseDouble('-0'), -0)).toBe(true);
    expect(Object.is(parseDouble('000'), 0)).toBe(true);
    for (const bad of ['-', '+', '', ' 1', '1 ', '1x', '--1', '0x10', 'nan']) expect(parseDouble(bad)).toBe(null);
    expect(parseDouble('999999999999999')).toBe(999999999999999);
    expect(parseDouble('9999999999999999')).toBe(1e16);
  });

  it('agrees with the reference on any short string of number characters', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[-+0-9.eEinfINF]{0,12}$/), (s) => {
        expect(Object.is(parseDouble(s), reference(s))).toBe(true);
      }),
    );
  });
});
