import type { BlockedCommand } from '../server/blocking.js';
import type { Client } from '../server/client.js';
import { End, type QuickList } from '../store/list.js';
import {
  listAt,
  moveElement,
  parseEnd,
  popOneWithKeyAndReply,
  popWithKeyAndReply,
  writeList,
} from './lists-common.js';
import { parseDouble } from './util.js';

/**
 * The blocking list family (BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH): one
 * generic pop and one generic move. Each either serves at once from the
 * first non-empty list, or blocks on the server's BlockingRegistry with the
 * same serving routine; when blocking is denied (inside MULTI/EXEC) it
 * answers as a timeout would.
 */

const ERR_TIMEOUT_FLOAT = 'ERR timeout is not a float or out of range';
const ERR_TIMEOUT_NEGATIVE = 'ERR timeout is negative';

/**
 * getTimeoutFromObjectOrReply (seconds as a double): the absolute deadline
 * in Unix ms, 0 for "forever", or null after replying an error.
 */
export function parseTimeout(c: Client, arg: string): number | null {
  const seconds = parseDouble(arg);
  if (seconds === null || Number.isNaN(seconds) || seconds === Infinity) {
    c.error(ERR_TIMEOUT_FLOAT);
    return null;
  }
  const ms = Math.ceil(seconds * 1000);
  if (ms < 0) {
    c.error(ERR_TIMEOUT_NEGATIVE);
    return null;
  }
  return ms > 0 ? c.server.now() + ms : 0;
}

/** Pops from one end: a single element ([key, value]) or, with count >= 1, [key, [values]]. */
interface PopRequest {
  end: End;
  /** -1 for BLPOP/BRPOP's single element, else BLMPOP's count. */
  count: number;
}

function servePop(c: Client, key: string, list: QuickList, req: PopRequest): void {
  if (req.count < 0) popOneWithKeyAndReply(c, key, list, req.end);
  else popWithKeyAndReply(c, key, list, req.end, req.count);
}

/**
 * blockingPopGenericCommand: serves from the first non-empty list among
 * keys, else blocks until one of them gets elements or the deadline passes.
 */
export function blockingPop(c: Client, keys: readonly string[], req: PopRequest, deadlineMs: number): void {
  for (const key of keys) {
    const list = writeList(c, key);
    if (list === null) return;
    if (list !== undefined && list.length > 0) return servePop(c, key, list, req);
  }
  const blocked: BlockedCommand = {
    serve(bc, key) {
      const list = listAt(bc, key);
      if (list === undefined || list.length === 0) return false;
      servePop(bc, key, list, req);
      return true;
    },
    timeout: (bc) => bc.reply.nullArray(),
  };
  blockOrTimeout(c, keys, deadlineMs, blocked);
}

/** blmoveGenericCommand: LMOVE at once when src has elements, else block on src. */
export function blockingMove(c: Client, src: string, dst: string, from: End, to: End, deadlineMs: number): void {
  const list = writeList(c, src);
  if (list === null) return;
  if (list !== undefined && list.length > 0) {
    moveElement(c, src, dst, from, to);
    return;
  }
  const blocked: BlockedCommand = {
    serve(bc) {
      // A wrong-typed destination answers WRONGTYPE and still unblocks, as in Redis.
      moveElement(bc, src, dst, from, to);
      return true;
    },
    timeout: (bc) => bc.reply.nullBulk(),
  };
  blockOrTimeout(c, [src], deadlineMs, blocked);
}

function blockOrTimeout(c: Client, keys: readonly string[], deadlineMs: number, blocked: BlockedCommand): void {
  const registry = c.server.blocking;
  if (registry.mayBlock) registry.block(c, keys, deadlineMs, blocked);
  else blocked.timeout(c);
}

/** BLPOP / BRPOP key [key ...] timeout */
export function bpopHandler(end: End) {
  return (c: Client, argv: string[]): void => {
    const deadline = parseTimeout(c, argv[argv.length - 1]!);
    if (deadline !== null) blockingPop(c, argv.slice(1, -1), { end, count: -1 }, deadline);
  };
}

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
export function blmoveCommand(c: Client, argv: string[]): void {
  const from = parseEnd(c, argv[3]!);
  if (from === null) return;
  const to = parseEnd(c, argv[4]!);
  if (to === null) return;
  const deadline = parseTimeout(c, argv[5]!);
  if (deadline !== null) blockingMove(c, argv[1]!, argv[2]!, from, to, deadline);
}

/** BRPOPLPUSH source destination timeout */
export function brpoplpushCommand(c: Client, argv: string[]): void {
  const deadline = parseTimeout(c, argv[3]!);
  if (deadline !== null) blockingMove(c, argv[1]!, argv[2]!, End.Tail, End.Head, deadline);
}
