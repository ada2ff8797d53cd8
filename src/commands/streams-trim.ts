import type { Client } from '../server/client.js';
import type { TrimArgs } from '../store/stream.js';
import { parseStreamId, type ParsedId } from '../store/stream-id.js';
import { ERR_INVALID_ID } from './streams-common.js';
import { ERR, isArg, parseInteger } from './util.js';

/** streamParseAddOrTrimArgsOrReply: the options shared by XADD and XTRIM. */

export interface AddTrimArgs {
  /** XADD: index of the ID argument (fields follow it). */
  idPos: number;
  /** XADD: the explicit ID; null for "*". */
  id: ParsedId | null;
  noMkstream: boolean;
  trim: TrimArgs | null;
}

const ERR_BOTH = 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible';

interface ParseState {
  args: AddTrimArgs;
  strategy: TrimArgs['strategy'] | null;
  approx: boolean;
  maxlen: number;
  minid: bigint;
  limit: number;
  limitGiven: boolean;
}

/** MAXLEN|MINID [=|~] threshold at argv[i]; returns the index of the threshold or -1 after an error. */
function parseStrategy(c: Client, argv: string[], i: number, st: ParseState): number {
  if (st.strategy !== null) {
    c.error(ERR_BOTH);
    return -1;
  }
  const kind = isArg(argv[i]!, 'MAXLEN') ? 'maxlen' : 'minid';
  st.approx = false;
  const next = argv[i + 1]!;
  if (argv.length - 1 - i >= 2 && (next === '~' || next === '=')) {
    st.approx = next === '~';
    i++;
  }
  const arg = argv[i + 1]!;
  if (kind === 'maxlen') {
    const n = parseInteger(arg);
    if (n === null) return c.error(ERR.notInteger), -1;
    if (n < 0) return c.error('ERR The MAXLEN argument must be >= 0.'), -1;
    st.maxlen = n;
  } else {
    const p = parseStreamId(arg, 0n, true);
    if (p === null) return c.error(ERR_INVALID_ID), -1;
    st.minid = p.id;
  }
  st.strategy = kind;
  return i + 1;
}

/** One option at argv[i]; returns the index of its last argument, -1 after an error, -2 at XADD's ID. */
function parseOption(c: Client, argv: string[], i: number, st: ParseState, xadd: boolean): number {
  const opt = argv[i]!;
  const more = argv.length - 1 - i;
  if (xadd && opt === '*') return -2;
  if ((isArg(opt, 'MAXLEN') || isArg(opt, 'MINID')) && more > 0) return parseStrategy(c, argv, i, st);
  if (isArg(opt, 'LIMIT') && more > 0) {
    const n = parseInteger(argv[i + 1]!);
    if (n === null) return c.error(ERR.notInteger), -1;
    if (n < 0) return c.error('ERR The LIMIT argument must be >= 0.'), -1;
    st.limit = n;
    st.limitGiven = true;
    return i + 1;
  }
  if (xadd && isArg(opt, 'NOMKSTREAM')) {
    st.args.noMkstream = true;
    return i;
  }
  if (!xadd) return c.error(ERR.syntax), -1;
  const id = parseStreamId(opt, 0n, true, true);
  if (id === null) return c.error(ERR_INVALID_ID), -1;
  st.args.id = id;
  return -2;
}

export function parseAddTrimArgs(c: Client, argv: string[], xadd: boolean): AddTrimArgs | null {
  const st: ParseState = {
    args: { idPos: argv.length, id: null, noMkstream: false, trim: null },
    strategy: null, approx: false, maxlen: 0, minid: 0n, limit: 0, limitGiven: false,
  };
  let i = 2;
  for (; i < argv.length; i++) {
    const end = parseOption(c, argv, i, st, xadd);
    if (end === -1) return null;
    if (end === -2) break;
    i = end;
  }
  st.args.idPos = i;
  return finishTrim(c, st, xadd);
}

/** The checks after parsing, and LIMIT's default for "~" (100 nodes' worth). */
function finishTrim(c: Client, st: ParseState, xadd: boolean): AddTrimArgs | null {
  if (st.limit !== 0 && st.strategy === null) {
    c.error('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
    return null;
  }
  if (!xadd && st.strategy === null) {
    c.error('ERR syntax error, XTRIM must be called with a trimming strategy');
    return null;
  }
  if (st.limitGiven && !st.approx) {
    c.error('ERR syntax error, LIMIT cannot be used without the special ~ option');
    return null;
  }
  let limit = st.limit;
  if (!st.limitGiven && st.approx) {
    limit = 100 * c.server.config.int('stream-node-max-entries');
    if (limit <= 0) limit = 10000;
    if (limit > 1000000) limit = 1000000;
  }
  if (st.strategy !== null) {
    st.args.trim = { strategy: st.strategy, maxlen: st.maxlen, minid: st.minid, approx: st.approx, limit };
  }
  return st.args;
}
