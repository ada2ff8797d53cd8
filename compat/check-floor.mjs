// Compares redis-tcl-compat results with the floor the repo keeps:
// fails when any unit's ok count is below its floor, and says which units
// now pass more than their floor (raise the floor in the same commit).
import { readFileSync } from 'node:fs';

const [floorFile, resultFile] = process.argv.slice(2);
const floors = new Map();
for (const line of readFileSync(floorFile, 'utf8').split('\n')) {
  const t = line.trim();
  if (!t || t.startsWith('#')) continue;
  const [unit, ok] = t.split(/\s+/);
  floors.set(unit, Number(ok));
}
const results = new Map();
for (const line of readFileSync(resultFile, 'utf8').split('\n')) {
  const m = /^(\S+)\s+ok=(\d+)/.exec(line.trim());
  if (m) results.set(m[1], Number(m[2]));
}
let failed = false;
for (const [unit, floor] of floors) {
  const ok = results.get(unit);
  if (ok === undefined) {
    console.log(`FAIL ${unit}: no result`);
    failed = true;
  } else if (ok < floor) {
    console.log(`FAIL ${unit}: ok=${ok} below floor ${floor}`);
    failed = true;
  } else {
    console.log(`ok   ${unit}: ok=${ok} (floor ${floor})${ok > floor ? '  <- raise the floor' : ''}`);
  }
}
process.exit(failed ? 1 : 0);
