import type { Client } from '../server/client.js';
import { byteView, newBytes } from '../store/bytes.js';
import type { Bytes } from '../store/entry.js';
import { bitOffsetArg, bitRange, bitsForWrite, bitUnitArg, countBits, findBit, getBit } from './bits-core.js';
import { bitfieldCommand } from './bits-field.js';
import { readString } from './strings-common.js';
import type { CommandSpec } from './types.js';
import { ERR, intArg, isArg, lookupRead } from './util.js';

/** The bitmap group (bitops.c): thin handlers over bits-core and bits-field. */

function setbitCommand(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const offset = bitOffsetArg(c, argv[2]!);
  if (offset < 0) return;
  const on = intArg(c, argv[3]!, ERR.bitValue);
  if (on === null) return;
  if (on !== 0 && on !== 1) {
    c.error(ERR.bitValue);
    return;
  }
  const target = bitsForWrite(c, key, offset);
  if (target === null) return;
  const byte = Math.floor(offset / 8);
  const mask = 1 << (7 - (offset & 7));
  const old = (target.buf[byte]! & mask) !== 0 ? 1 : 0;
  if (target.grown || old !== on) {
    target.buf[byte] = on === 1 ? target.buf[byte]! | mask : target.buf[byte]! & ~mask;
    c.db.written(key, 'setbit');
  }
  c.reply.int(old);
}

function getbitCommand(c: Client, argv: string[]): void {
  const offset = bitOffsetArg(c, argv[2]!);
  if (offset < 0) return;
  const v = readString(c, argv[1]!);
  if (v !== null) c.reply.int(v === undefined ? 0 : getBit(v, offset));
}

/** BITCOUNT key [start end [BYTE | BIT]]. */
function bitcountCommand(c: Client, argv: string[]): void {
  const v = readString(c, argv[1]!);
  if (v === null) return;
  if (v === undefined) {
    c.reply.int(0);
    return;
  }
  let range = bitRange(0, -1, v.length, false);
  if (argv.length === 4 || argv.length === 5) {
    const start = intArg(c, argv[2]!);
    if (start === null) return;
    const end = intArg(c, argv[3]!);
    if (end === null) return;
    if (start < 0 && end < 0 && start > end) {
      c.reply.int(0);
      return;
    }
    const isBit = argv.length === 5 ? bitUnitArg(c, argv[4]!) : false;
    if (isBit === null) return;
    range = bitRange(start, end, v.length, isBit);
  } else if (argv.length !== 2) {
    c.error(ERR.syntax);
    return;
  }
  c.reply.int(range === null ? 0 : countBits(v, range[0], range[1]));
}

/** BITPOS key bit [start [end [BYTE | BIT]]]. */
function bitposCommand(c: Client, argv: string[]): void {
  const bit = intArg(c, argv[2]!);
  if (bit === null) return;
  if (bit !== 0 && bit !== 1) {
    c.error('ERR The bit argument must be 1 or 0.');
    return;
  }
  const v = readString(c, argv[1]!);
  if (v === null) return;
  if (v === undefined) {
    c.reply.int(bit === 1 ? -1 : 0);
    return;
  }
  if (argv.length > 6) {
    c.error(ERR.syntax);
    return;
  }
  const start = argv.length >= 4 ? intArg(c, argv[3]!) : 0;
  if (start === null) return;
  const isBit = argv.length === 6 ? bitUnitArg(c, argv[5]!) : false;
  if (isBit === null) return;
  const end = argv.length >= 5 ? intArg(c, argv[4]!) : -1;
  if (end === null) return;
  const range = bitRange(start, end, v.length, isBit);
  if (range === null) {
    c.reply.int(-1);
    return;
  }
  const pos = findBit(v, range[0], range[1], bit);
  // Without an explicit end the string counts as padded with zeros on the right.
  c.reply.int(pos === -1 && bit === 0 && argv.length < 5 ? range[1] + 1 : pos);
}

const enum BitOp {
  And,
  Or,
  Xor,
  Not,
}

function bitOpArg(arg: string): BitOp | null {
  if (isArg(arg, 'AND')) return BitOp.And;
  if (isArg(arg, 'OR')) return BitOp.Or;
  if (isArg(arg, 'XOR')) return BitOp.Xor;
  if (isArg(arg, 'NOT')) return BitOp.Not;
  return null;
}

/** BITOP op destkey key [key ...]. */
function bitopCommand(c: Client, argv: string[]): void {
  const op = bitOpArg(argv[1]!);
  if (op === null) {
    c.error(ERR.syntax);
    return;
  }
  if (op === BitOp.Not && argv.length !== 4) {
    c.error('ERR BITOP NOT must be called with a single source key.');
    return;
  }
  const sources: Buffer[] = [];
  for (let j = 3; j < argv.length; j++) {
    const e = lookupRead(c, argv[j]!);
    if (e !== undefined && e.type !== 'string') {
      c.error(ERR.wrongType);
      return;
    }
    sources.push(e === undefined ? Buffer.alloc(0) : byteView(e.value as Bytes));
  }
  const result = combine(op, sources);
  const dest = argv[2]!;
  if (result.length > 0) {
    c.db.set(dest, 'string', result);
    c.db.written(dest, 'set');
  } else if (c.db.delete(dest) !== undefined) {
    // dbDelete, as Redis: no expire-if-due first, so a logically expired dest is deleted with "del", not "expired".
    c.db.written(dest, 'del');
  }
  c.reply.int(result.length);
}

/** The bitwise combination of the sources, each zero-padded to the longest. */
function combine(op: BitOp, sources: readonly Buffer[]): Buffer {
  let maxLen = 0;
  for (const s of sources) maxLen = Math.max(maxLen, s.length);
  const out = newBytes(maxLen);
  if (maxLen === 0) return out;
  sources[0]!.copy(out, 0);
  if (op === BitOp.Not) {
    for (let i = 0; i < maxLen; i++) out[i] = ~out[i]! & 0xff;
    return out;
  }
  for (let k = 1; k < sources.length; k++) {
    const s = sources[k]!;
    if (op === BitOp.And) {
      for (let i = 0; i < s.length; i++) out[i] &= s[i]!;
      out.fill(0, s.length);
    } else if (op === BitOp.Or) {
      for (let i = 0; i < s.length; i++) out[i] |= s[i]!;
    } else {
      for (let i = 0; i < s.length; i++) out[i] ^= s[i]!;
    }
  }
  return out;
}

export const bitCommands: CommandSpec[] = [
  {
    name: 'setbit',
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['RW', 'ACCESS', 'UPDATE'] }],
    group: 'bitmap',
    since: '2.2.0',
    summary: 'Sets or clears the bit at offset of the string value. Creates the key if it doesn\'t exist.',
    complexity: 'O(1)',
    syntax: 'key offset value',
    handler: setbitCommand,
  },
  {
    name: 'getbit',
    arity: 3,
    flags: ['readonly', 'fast'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['RO', 'ACCESS'] }],
    group: 'bitmap',
    since: '2.2.0',
    summary: 'Returns a bit value by offset.',
    complexity: 'O(1)',
    syntax: 'key offset',
    handler: getbitCommand,
  },
  {
    name: 'bitcount',
    arity: -2,
    flags: ['readonly'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['RO', 'ACCESS'] }],
    group: 'bitmap',
    since: '2.6.0',
    summary: 'Counts the number of set bits (population counting) in a string.',
    complexity: 'O(N)',
    syntax: 'key [start end [BYTE | BIT]]',
    handler: bitcountCommand,
  },
  {
    name: 'bitpos',
    arity: -3,
    flags: ['readonly'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['RO', 'ACCESS'] }],
    group: 'bitmap',
    since: '2.8.7',
    summary: 'Finds the first set (1) or clear (0) bit in a string.',
    complexity: 'O(N)',
    syntax: 'key bit [start [end [BYTE | BIT]]]',
    handler: bitposCommand,
  },
  {
    name: 'bitop',
    arity: -4,
    flags: ['write', 'denyoom'],
    keys: [
      { kind: 'range', first: 2, last: 2, step: 1, flags: ['OW', 'UPDATE'] },
      { kind: 'range', first: 3, last: -1, step: 1, flags: ['RO', 'ACCESS'] },
    ],
    group: 'bitmap',
    since: '2.6.0',
    summary: 'Performs bitwise operations on multiple strings, and stores the result.',
    complexity: 'O(N)',
    syntax: '<AND | OR | XOR | NOT> destkey key [key ...]',
    handler: bitopCommand,
  },
  {
    name: 'bitfield',
    arity: -2,
    flags: ['write', 'denyoom'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['RW', 'UPDATE', 'ACCESS'] }],
    group: 'bitmap',
    since: '3.2.0',
    summary: 'Performs arbitrary bitfield integer operations on strings.',
    complexity: 'O(1) for each subcommand specified',
    syntax:
      'key [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> [GET encoding offset | [OVERFLOW <WRAP | SAT | FAIL>] <SET encoding offset value | INCRBY encoding offset increment> ...]]',
    handler: (c, argv) => bitfieldCommand(c, argv, false),
  },
  {
    name: 'bitfield_ro',
    arity: -2,
    flags: ['readonly', 'fast'],
    keys: [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['RO', 'ACCESS'] }],
    group: 'bitmap',
    since: '6.0.0',
    summary: 'Performs arbitrary read-only bitfield integer operations on strings.',
    complexity: 'O(1) for each subcommand specified',
    syntax: 'key [GET encoding offset [GET encoding offset ...]]',
    handler: (c, argv) => bitfieldCommand(c, argv, true),
  },
];
