import type { Client } from '../server/client.js';
import { writableBytes } from '../store/bytes.js';
import type { Bytes, Entry } from '../store/entry.js';
import {
  denseGet,
  hllAdd,
  hllCachedCount,
  hllCount,
  hllCountRegisters,
  hllCreate,
  hllDecodeSparse,
  hllEncoding,
  hllInvalidateCache,
  hllIsValid,
  hllMergeRegisters,
  hllSelfTest,
  hllSetRegisters,
  hllStoreCount,
  hllToDense,
  HLL_REGISTERS,
} from '../store/hll.js';
import { storeString } from './strings-common.js';
import type { CommandSpec, KeyFlag, KeySpec } from './types.js';
import { readOfType, writeOfType } from './util.js';

/**
 * The HyperLogLog group (hyperloglog.c): thin handlers over store/hll.ts.
 * HLLs are ordinary string values in Redis's byte format. Only changes to
 * the registers are writes (db.written 'pfadd', for PFMERGE too, as Redis
 * notifies): filling the cached cardinality (PFCOUNT) or converting to dense
 * (PFDEBUG GETREG/TODENSE) rewrites the bytes without changing what the
 * value counts, so it stamps no new version that could win over a
 * concurrent PFADD on another replica.
 */

const ERR_NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const ERR_CORRUPT = 'INVALIDOBJ Corrupted HLL object detected';

function sparseMaxBytes(c: Client): number {
  return c.server.config.int('hll-sparse-max-bytes');
}

/**
 * The value of a string entry as a buffer we may edit (the stored Buffer
 * itself when it is ours), or null after replying that it is not an HLL.
 * The caller stores it back if it changed.
 */
function editableHll(c: Client, e: Entry): Buffer | null {
  const v = e.value as Bytes;
  const buf = writableBytes(v, v.length);
  if (hllIsValid(buf)) return buf;
  c.error(ERR_NOT_HLL);
  return null;
}

/**
 * isHLLObjectOrReply after a read lookup: the HLL bytes (read only),
 * undefined for a missing key, null after an error reply.
 */
function readHll(c: Client, key: string): Buffer | undefined | null {
  const e = readOfType(c, key, 'string');
  if (e === undefined || e === null) return e;
  const v = e.value as Bytes;
  const buf = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
  if (hllIsValid(buf)) return buf;
  c.error(ERR_NOT_HLL);
  return null;
}

/** PFADD key [element ...]: 1 if the key was created or a register changed. */
function pfaddCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const e = writeOfType(c, key, 'string');
  if (e === null) return;
  const v = e === undefined ? hllCreate() : editableHll(c, e);
  if (v === null) return;
  const r = hllAdd(v, argv, 2, sparseMaxBytes(c));
  if (r.corrupt) {
    c.error(ERR_CORRUPT);
    return;
  }
  const changed = e === undefined || r.updated > 0;
  if (changed) {
    hllInvalidateCache(r.value);
    storeString(c, key, e, r.value);
    c.db.written(key, 'pfadd');
  }
  c.reply.int(changed ? 1 : 0);
}

/** PFCOUNT key [key ...]: one key uses (and fills) its cache; several are merged into a scratch HLL. */
function pfcountCommand(c: Client, argv: string[]): void {
  if (argv.length > 2) {
    const max = mergeSources(c, argv, 1);
    if (max !== null) c.reply.int(hllCountRegisters(max.registers));
    return;
  }
  const key = argv[1]!;
  const e = readOfType(c, key, 'string');
  if (e === null) return;
  if (e === undefined) {
    c.reply.int(0);
    return;
  }
  const v = editableHll(c, e);
  if (v === null) return;
  e.value = v;
  const cached = hllCachedCount(v);
  if (cached !== null) {
    c.reply.int(cached);
    return;
  }
  const card = hllCount(v);
  if (card === null) {
    c.error(ERR_CORRUPT);
    return;
  }
  hllStoreCount(v, card);
  c.reply.int(card);
}

/**
 * Register-wise max of the HLLs at argv[from..] (missing keys count as
 * empty); null after an error reply. `dense` tells whether one was dense.
 */
function mergeSources(c: Client, argv: string[], from: number): { registers: Uint8Array; dense: boolean } | null {
  const registers = new Uint8Array(HLL_REGISTERS);
  let dense = false;
  for (let j = from; j < argv.length; j++) {
    const v = readHll(c, argv[j]!);
    if (v === null) return null;
    if (v === undefined) continue;
    if (hllEncoding(v) === 'dense') dense = true;
    if (!hllMergeRegisters(registers, v)) {
      c.error(ERR_CORRUPT);
      return null;
    }
  }
  return { registers, dense };
}

/** PFMERGE destkey [sourcekey ...]: the destination (also a source) gets the union; dense if any input was. */
function pfmergeCommand(c: Client, argv: string[]): void {
  const max = mergeSources(c, argv, 1);
  if (max === null) return;
  const key = argv[1]!;
  // Already checked as a source: a string holding a valid HLL, or missing.
  const e = writeOfType(c, key, 'string');
  if (e === null) return;
  const into = e === undefined ? null : writableBytes(e.value as Bytes, (e.value as Bytes).length);
  const out = hllSetRegisters(into, max.registers, max.dense, sparseMaxBytes(c));
  if (out === null) {
    c.error(ERR_CORRUPT);
    return;
  }
  storeString(c, key, e, out);
  c.db.written(key, 'pfadd');
  c.reply.ok();
}

/**
 * PFDEBUG GETREG and TODENSE: the entry's value in dense form, stored back
 * (a representation change only), or null after an INVALIDOBJ reply.
 */
function denseInPlace(c: Client, e: Entry, v: Buffer): Buffer | null {
  const dense = hllToDense(v);
  if (dense === null) c.error(ERR_CORRUPT);
  else e.value = dense;
  return dense;
}

/** PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. The key is checked before the subcommand, as in Redis. */
function pfdebugCommand(c: Client, argv: string[]): void {
  const sub = argv[1]!;
  const e = writeOfType(c, argv[2]!, 'string');
  if (e === null) return;
  if (e === undefined) {
    c.error('ERR The specified key does not exist');
    return;
  }
  const v = editableHll(c, e);
  if (v === null) return;
  switch (sub.toLowerCase()) {
    case 'getreg': {
      const dense = denseInPlace(c, e, v);
      if (dense === null) return;
      c.reply.arrayHeader(HLL_REGISTERS);
      for (let r = 0; r < HLL_REGISTERS; r++) c.reply.int(denseGet(dense, r));
      return;
    }
    case 'decode':
      if (hllEncoding(v) !== 'sparse') c.error('ERR HLL encoding is not sparse');
      else c.reply.bulk(hllDecodeSparse(v));
      return;
    case 'encoding':
      c.reply.status(hllEncoding(v));
      return;
    case 'todense': {
      const dense = denseInPlace(c, e, v);
      if (dense !== null) c.reply.int(dense === v ? 0 : 1);
      return;
    }
    default:
      c.error(`ERR Unknown PFDEBUG subcommand '${sub}'`);
  }
}

function pfselftestCommand(c: Client): void {
  const random = c.server.runtime.random;
  const failed = hllSelfTest((n) => random.bytes(n), sparseMaxBytes(c));
  if (failed === null) c.reply.ok();
  else c.error(`ERR ${failed}`);
}

/** The fields every HyperLogLog command shares (all date from 2.8.9). */
function pfSpec(spec: Omit<CommandSpec, 'group' | 'since'>): CommandSpec {
  return { ...spec, group: 'hyperloglog', since: '2.8.9' };
}

/** Key spec of argv[i] alone, or of argv[i..] with last = -1. */
function keysFrom(first: number, last: number, ...flags: KeyFlag[]): KeySpec {
  return { kind: 'range', first, last, step: 1, flags };
}

export const HLL_COMMANDS: CommandSpec[] = [
  pfSpec({
    name: 'pfadd',
    arity: -2,
    flags: ['write', 'denyoom', 'fast'],
    keys: [keysFrom(1, 1, 'RW', 'INSERT')],
    summary: 'Adds the specified elements to the specified HyperLogLog.',
    complexity: 'O(1) to add every element.',
    syntax: 'key [element [element ...]]',
    handler: pfaddCommand,
  }),
  pfSpec({
    name: 'pfcount',
    arity: -2,
    flags: ['readonly', 'may_replicate'],
    keys: [keysFrom(1, -1, 'RW', 'ACCESS')],
    summary: 'Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).',
    complexity:
      'O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.',
    syntax: 'key [key ...]',
    handler: pfcountCommand,
  }),
  pfSpec({
    name: 'pfmerge',
    arity: -2,
    flags: ['write', 'denyoom'],
    keys: [keysFrom(1, 1, 'RW', 'ACCESS', 'INSERT'), keysFrom(2, -1, 'RO', 'ACCESS')],
    summary: 'Merge N different HyperLogLogs into a single one.',
    complexity: 'O(N) to merge N HyperLogLogs, but with high constant times.',
    syntax: 'destkey sourcekey [sourcekey ...]',
    handler: pfmergeCommand,
  }),
  pfSpec({
    name: 'pfdebug',
    arity: 3,
    flags: ['write', 'denyoom', 'admin'],
    keys: [keysFrom(2, 2, 'RW', 'ACCESS')],
    summary: 'Internal commands for debugging HyperLogLog values',
    complexity: 'N/A',
    syntax: 'subcommand key',
    docFlags: ['syscmd'],
    handler: pfdebugCommand,
  }),
  pfSpec({
    name: 'pfselftest',
    arity: 1,
    flags: ['admin'],
    summary: 'An internal command for testing HyperLogLog values',
    complexity: 'N/A',
    docFlags: ['syscmd'],
    handler: pfselftestCommand,
  }),
];
