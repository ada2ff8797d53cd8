import type { Client } from '../server/client.js';
import type { QuickList } from '../store/list.js';
import { readList } from './lists-common.js';
import { ERR, isArg, parseInteger } from './util.js';

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] (lposCommand). */

const ERR_RANK_ZERO =
  'ERR RANK can\'t be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list';

interface LposOptions {
  rank: number;
  /** -1 when COUNT was not given; 0 = all matches. */
  count: number;
  maxlen: number;
}

/** A non-negative option value, or null after replying `error` (getPositiveLongFromObjectOrReply). */
function nonNegative(c: Client, arg: string, error: string): number | null {
  const n = parseInteger(arg);
  if (n === null || n < 0) {
    c.error(error);
    return null;
  }
  return n;
}

function parseLposOptions(c: Client, argv: string[]): LposOptions | null {
  const o: LposOptions = { rank: 1, count: -1, maxlen: 0 };
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    const hasValue = j + 1 < argv.length;
    let v: number | null;
    if (isArg(opt, 'RANK') && hasValue) {
      v = parseInteger(argv[++j]!);
      if (v === null) c.error(ERR.notInteger);
      else if (v === 0) c.error(ERR_RANK_ZERO);
      else o.rank = v;
      if (v === null || v === 0) return null;
    } else if (isArg(opt, 'COUNT') && hasValue) {
      if ((v = nonNegative(c, argv[++j]!, "ERR COUNT can't be negative")) === null) return null;
      o.count = v;
    } else if (isArg(opt, 'MAXLEN') && hasValue) {
      if ((v = nonNegative(c, argv[++j]!, "ERR MAXLEN can't be negative")) === null) return null;
      o.maxlen = v;
    } else {
      c.error(ERR.syntax);
      return null;
    }
  }
  return o;
}

/** Indexes of matches, from the head (rank > 0) or the tail (rank < 0), as LINDEX numbers them. */
function findMatches(list: QuickList, element: string, o: LposOptions): number[] {
  const reverse = o.rank < 0;
  const skip = Math.abs(o.rank) - 1;
  const wanted = o.count === -1 ? 1 : o.count === 0 ? Infinity : o.count;
  const limit = o.maxlen === 0 ? list.length : Math.min(o.maxlen, list.length);
  const cur = list.cursor(reverse ? list.length - 1 : 0, reverse);
  const out: number[] = [];
  let matches = 0;
  for (let i = 0; i < limit && out.length < wanted; i++) {
    if (cur.next() !== element || ++matches <= skip) continue;
    out.push(reverse ? list.length - 1 - i : i);
  }
  return out;
}

export function lposCommand(c: Client, argv: string[]): void {
  const o = parseLposOptions(c, argv);
  if (o === null) return;
  const list = readList(c, argv[1]!);
  if (list === null) return;
  const found = list === undefined ? [] : findMatches(list, argv[2]!, o);
  if (o.count !== -1) {
    c.reply.arrayHeader(found.length);
    for (const i of found) c.reply.int(i);
  } else if (found.length === 0) {
    c.reply.nullBulk();
  } else {
    c.reply.int(found[0]!);
  }
}
