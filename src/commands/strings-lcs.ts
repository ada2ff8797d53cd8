import type { Client } from '../server/client.js';
import { byteView } from '../store/bytes.js';
import type { Bytes } from '../store/entry.js';
import { ERR, isArg, lookupRead, parseInteger } from './util.js';

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the vanilla dynamic programming algorithm. */

interface LcsOptions {
  len: boolean;
  idx: boolean;
  withMatchLen: boolean;
  minMatchLen: number;
}

export function lcsCommand(c: Client, argv: readonly string[]): void {
  const a = lcsOperand(c, argv[1]!);
  const b = lcsOperand(c, argv[2]!);
  if (a === null || b === null) {
    c.error('ERR The specified keys must contain string values');
    return;
  }
  const opts = parseLcsOptions(c, argv);
  if (opts === null) return;
  if ((a.length + 1) * (b.length + 1) * 4 > c.server.config.int('proto-max-bulk-len')) {
    c.error('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
    return;
  }
  const x = byteView(a);
  const y = byteView(b);
  const table = lcsTable(x, y);
  const total = table[table.length - 1]!;
  if (opts.len && !opts.idx) {
    c.reply.int(total);
    return;
  }
  const walk = lcsWalk(x, y, table, total, opts.minMatchLen);
  if (opts.idx) replyMatches(c, walk.ranges, total, opts.withMatchLen);
  else c.reply.bulk(walk.text);
}

/** A key's string value, '' when missing, null when it holds another type. */
function lcsOperand(c: Client, key: string): Bytes | null {
  const e = lookupRead(c, key);
  if (e === undefined) return '';
  return e.type === 'string' ? (e.value as Bytes) : null;
}

function parseLcsOptions(c: Client, argv: readonly string[]): LcsOptions | null {
  const o: LcsOptions = { len: false, idx: false, withMatchLen: false, minMatchLen: 0 };
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    if (isArg(opt, 'IDX')) o.idx = true;
    else if (isArg(opt, 'LEN')) o.len = true;
    else if (isArg(opt, 'WITHMATCHLEN')) o.withMatchLen = true;
    else if (isArg(opt, 'MINMATCHLEN') && j < argv.length - 1) {
      const n = parseInteger(argv[++j]!);
      if (n === null) {
        c.error(ERR.notInteger);
        return null;
      }
      o.minMatchLen = Math.max(0, n);
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  if (o.len && o.idx) {
    c.error('ERR If you want both the length and indexes, please just use IDX.');
    return null;
  }
  return o;
}

/** LCS(i, j) of the prefixes a[0..i) and b[0..j), row-major with rows of b.length + 1. */
function lcsTable(a: Uint8Array, b: Uint8Array): Uint32Array {
  const w = b.length + 1;
  const t = new Uint32Array((a.length + 1) * w);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    const row = i * w;
    const up = row - w;
    for (let j = 1; j <= b.length; j++) {
      if (ai === b[j - 1]) t[row + j] = t[up + j - 1]! + 1;
      else t[row + j] = Math.max(t[up + j]!, t[row + j - 1]!);
    }
  }
  return t;
}

/** A matching range: [aStart, aEnd, bStart, bEnd]. */
type Range = [number, number, number, number];

/**
 * Walks the table back from the end, collecting the common subsequence and
 * its contiguous matching ranges (last ones first, as Redis emits them).
 */
function lcsWalk(a: Uint8Array, b: Uint8Array, t: Uint32Array, total: number, minLen: number) {
  const w = b.length + 1;
  const out = Buffer.allocUnsafe(total);
  const ranges: Range[] = [];
  let cur: Range | null = null;
  let i = a.length;
  let j = b.length;
  let k = total;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      out[--k] = a[i - 1]!;
      if (cur === null) cur = [i - 1, i - 1, j - 1, j - 1];
      else if (cur[0] === i && cur[2] === j) {
        cur[0]--;
        cur[2]--;
      } else emit = true;
      if (cur[0] === 0 || cur[2] === 0) emit = true;
      i--;
      j--;
    } else {
      if (t[(i - 1) * w + j]! > t[i * w + j - 1]!) i--;
      else j--;
      if (cur !== null) emit = true;
    }
    if (emit && cur !== null) {
      if (cur[1] - cur[0] + 1 >= minLen) ranges.push(cur);
      cur = null;
    }
  }
  return { text: out, ranges };
}

function replyMatches(c: Client, ranges: readonly Range[], total: number, withLen: boolean): void {
  c.reply.mapHeader(2);
  c.reply.bulk('matches');
  c.reply.arrayHeader(ranges.length);
  for (const [as, ae, bs, be] of ranges) {
    c.reply.arrayHeader(withLen ? 3 : 2);
    c.reply.arrayHeader(2);
    c.reply.int(as);
    c.reply.int(ae);
    c.reply.arrayHeader(2);
    c.reply.int(bs);
    c.reply.int(be);
    if (withLen) c.reply.int(ae - as + 1);
  }
  c.reply.bulk('len');
  c.reply.int(total);
}
