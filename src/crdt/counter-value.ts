import { formatHumanDouble } from '../protocol/format.js';
import { counterInt, type CounterRow } from './key-state.js';

/**
 * The value of a counter version: its base plus every origin's increments.
 * Integers add exactly (bigint); once any origin added a float (INCRBYFLOAT)
 * the sum is a double, added in origin order so every replica prints the
 * same digits.
 */
export function counterValue(base: string, rows: readonly CounterRow[]): string {
  return rows.some(hasFloat) ? floatSum(base, rows) : intSum(base, rows);
}

function hasFloat(row: CounterRow): boolean {
  return row[3] !== 0 || row[4] !== 0;
}

/** Canonical int64 text short enough to be exact as a double. */
const SMALL_INT = /^-?(0|[1-9][0-9]{0,14})$/;

function intSum(base: string, rows: readonly CounterRow[]): string {
  if (SMALL_INT.test(base)) {
    // The common case, without bigints: every part a safe integer and so the sum.
    let n = Number(base);
    for (const r of rows) {
      if (typeof r[1] !== 'number' || typeof r[2] !== 'number') return bigSum(base, rows);
      n += r[1] - r[2];
      if (!Number.isSafeInteger(n)) return bigSum(base, rows);
    }
    return String(n);
  }
  return bigSum(base, rows);
}

function bigSum(base: string, rows: readonly CounterRow[]): string {
  let sum: bigint;
  try {
    sum = BigInt(base);
  } catch {
    return base; // not an integer: no INCR could have been applied to it
  }
  for (const r of rows) sum += counterInt(r[1]) - counterInt(r[2]);
  return sum.toString();
}

function floatSum(base: string, rows: readonly CounterRow[]): string {
  let sum = Number(base);
  for (const r of rows) sum += Number(r[1]) - Number(r[2]) + (r[3] - r[4]);
  return Number.isFinite(sum) ? formatHumanDouble(sum) : base;
}
