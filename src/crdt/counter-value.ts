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

function intSum(base: string, rows: readonly CounterRow[]): string {
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
