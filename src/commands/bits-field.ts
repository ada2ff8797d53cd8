import type { Client } from '../server/client.js';
import type { Bytes } from '../store/entry.js';
import { bitOffsetArg, bitsForWrite, readField, writeField } from './bits-core.js';
import { ERR, isArg, parseInt64, parseInteger, readOfType } from './util.js';

/** BITFIELD and BITFIELD_RO (bitfieldGeneric): GET/SET/INCRBY over i1..i64 and u1..u63 fields. */

const enum FieldOpKind {
  Get,
  Set,
  Incrby,
}

const enum Overflow {
  Wrap,
  Sat,
  Fail,
}

interface FieldOp {
  kind: FieldOpKind;
  offset: number;
  bits: number;
  signed: boolean;
  /** SET value or INCRBY increment. */
  value: bigint;
  overflow: Overflow;
}

interface FieldPlan {
  ops: FieldOp[];
  /** Highest bit a SET/INCRBY touches, -1 when read-only. */
  maxWriteBit: number;
}

const TYPE_ERROR = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';

export function bitfieldCommand(c: Client, argv: readonly string[], readonly: boolean): void {
  const plan = parseBitfield(c, argv);
  if (plan === null) return;
  if (plan.maxWriteBit < 0) {
    const e = readOfType(c, argv[1]!, 'string');
    if (e === null) return;
    const v = e === undefined ? '' : (e.value as Bytes);
    c.reply.arrayHeader(plan.ops.length);
    for (const op of plan.ops) c.reply.int(readField(v, op.offset, op.bits, op.signed));
    return;
  }
  if (readonly) {
    c.error('ERR BITFIELD_RO only supports the GET subcommand');
    return;
  }
  runWrites(c, argv[1]!, plan);
}

/** Parses every subcommand before anything runs; null after replying an error. */
function parseBitfield(c: Client, argv: readonly string[]): FieldPlan | null {
  const plan: FieldPlan = { ops: [], maxWriteBit: -1 };
  let overflow = Overflow.Wrap;
  for (let j = 2; j < argv.length; j++) {
    const sub = argv[j]!;
    const remaining = argv.length - j - 1;
    let kind: FieldOpKind;
    if (isArg(sub, 'GET') && remaining >= 2) kind = FieldOpKind.Get;
    else if (isArg(sub, 'SET') && remaining >= 3) kind = FieldOpKind.Set;
    else if (isArg(sub, 'INCRBY') && remaining >= 3) kind = FieldOpKind.Incrby;
    else if (isArg(sub, 'OVERFLOW') && remaining >= 1) {
      const o = overflowArg(argv[++j]!);
      if (o === null) {
        c.error('ERR Invalid OVERFLOW type specified');
        return null;
      }
      overflow = o;
      continue;
    } else {
      c.error(ERR.syntax);
      return null;
    }
    const op = parseFieldOp(c, argv, j, kind, overflow);
    if (op === null) return null;
    plan.ops.push(op);
    if (kind !== FieldOpKind.Get) plan.maxWriteBit = Math.max(plan.maxWriteBit, op.offset + op.bits - 1);
    j += kind === FieldOpKind.Get ? 2 : 3;
  }
  return plan;
}

function overflowArg(arg: string): Overflow | null {
  if (isArg(arg, 'WRAP')) return Overflow.Wrap;
  if (isArg(arg, 'SAT')) return Overflow.Sat;
  if (isArg(arg, 'FAIL')) return Overflow.Fail;
  return null;
}

/** Type, offset and (for SET/INCRBY) value of the subcommand at argv[j]. */
function parseFieldOp(c: Client, argv: readonly string[], j: number, kind: FieldOpKind, overflow: Overflow): FieldOp | null {
  const type = argv[j + 1]!;
  const signed = type.charCodeAt(0) === 105; // 'i'
  const bits = type.charCodeAt(0) === 117 || signed ? parseInteger(type.slice(1)) : null; // 'u'
  if (bits === null || bits < 1 || bits > (signed ? 64 : 63)) {
    c.error(TYPE_ERROR);
    return null;
  }
  const offset = bitOffsetArg(c, argv[j + 2]!, bits);
  if (offset < 0) return null;
  let value = 0n;
  if (kind !== FieldOpKind.Get) {
    const v = parseInt64(argv[j + 3]!);
    if (v === null) {
      c.error(ERR.notInteger);
      return null;
    }
    value = v;
  }
  return { kind, offset, bits, signed, value, overflow };
}

/** Runs a plan with writes: replies one entry per op, then signals the key once if anything changed. */
function runWrites(c: Client, key: string, plan: FieldPlan): void {
  const target = bitsForWrite(c, key, plan.maxWriteBit);
  if (target === null) return;
  const buf = target.buf;
  let changes = 0;
  c.reply.arrayHeader(plan.ops.length);
  for (const op of plan.ops) {
    const old = readField(buf, op.offset, op.bits, op.signed);
    if (op.kind === FieldOpKind.Get) {
      c.reply.int(old);
      continue;
    }
    const wanted = op.kind === FieldOpKind.Set ? (op.signed ? op.value : BigInt.asUintN(64, op.value)) : old + op.value;
    const next = withOverflow(wanted, op);
    if (next === null) {
      c.reply.nullBulk();
      continue;
    }
    c.reply.int(op.kind === FieldOpKind.Set ? old : next);
    writeField(buf, op.offset, op.bits, next);
    if (target.grown || next !== old) changes++;
  }
  if (changes > 0) {
    c.db.written(key, 'setbit');
    c.server.stats.dirty += changes - 1;
  }
}

/** The value a field ends up holding for `wanted` under the op's OVERFLOW policy; null for FAIL. */
function withOverflow(wanted: bigint, op: FieldOp): bigint | null {
  const b = BigInt(op.bits);
  const min = op.signed ? -(1n << (b - 1n)) : 0n;
  const max = op.signed ? (1n << (b - 1n)) - 1n : (1n << b) - 1n;
  if (wanted >= min && wanted <= max) return wanted;
  if (op.overflow === Overflow.Fail) return null;
  if (op.overflow === Overflow.Sat) return wanted > max ? max : min;
  return op.signed ? BigInt.asIntN(op.bits, wanted) : BigInt.asUintN(op.bits, wanted);
}
