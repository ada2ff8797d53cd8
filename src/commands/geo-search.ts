import type { Client } from '../server/client.js';
import {
  cellScoreRange,
  decodeScore,
  distance,
  formatCoordinate,
  formatDistance,
  formatFixed,
  isNoCell,
  type LongLat,
  searchCells,
  type Shape,
  validLongLat,
  withinShape,
} from '../store/geohash.js';
import type { ZSetValue } from '../store/zset.js';
import { ERR, isArg, parseDouble, parseInteger } from './util.js';
import { newZset, readZset, storeZset } from './zsets-common.js';

/**
 * georadiusGeneric (geo.c): GEOSEARCH, GEOSEARCHSTORE, GEORADIUS,
 * GEORADIUSBYMEMBER and the _RO forms over one parser and one search. The
 * parse checks happen in Redis's order, since which error a bad call gets
 * depends on it: the source key's type first, the fixed centre and radius
 * of the GEORADIUS forms, then options left to right, then the
 * combinations.
 */

export const ERR_DECODE_MEMBER = 'ERR could not decode requested zset member';

/** Meters per unit, or null after replying the unit error (extractUnitOrReply). */
export function unitArg(c: Client, s: string): number | null {
  const u = s.toLowerCase();
  if (u === 'm') return 1;
  if (u === 'km') return 1000;
  if (u === 'ft') return 0.3048;
  if (u === 'mi') return 1609.34;
  c.error('ERR unsupported unit provided. please use M, KM, FT, MI');
  return null;
}

/** extractLongLatOrReply: two floats within the indexable limits; null after replying. */
export function longLatArg(c: Client, lonArg: string, latArg: string): LongLat | null {
  const lon = parseDouble(lonArg);
  const lat = lon === null ? null : parseDouble(latArg);
  if (lon === null || lat === null) return fail(c, ERR.notFloat);
  if (!validLongLat(lon, lat)) return fail(c, `ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
  return { lon, lat };
}

function fail(c: Client, message: string): null {
  c.error(message);
  return null;
}

function refuse(c: Client, message: string): false {
  c.error(message);
  return false;
}

/** A non-negative float of a size argument, or null after replying `notNumber`. */
function sizeArg(c: Client, s: string, notNumber: string): number | null {
  const v = parseDouble(s);
  return v === null ? fail(c, notNumber) : v;
}

/** BYRADIUS / GEORADIUS: radius unit (extractDistanceOrReply). */
function radiusArgs(c: Client, argv: string[], at: number): { radius: number; conversion: number } | null {
  const radius = sizeArg(c, argv[at]!, 'ERR need numeric radius');
  if (radius === null) return null;
  if (radius < 0) return fail(c, 'ERR radius cannot be negative');
  const conversion = unitArg(c, argv[at + 1]!);
  return conversion === null ? null : { radius, conversion };
}

/** BYBOX width height unit (extractBoxOrReply). */
function boxArgs(c: Client, argv: string[], at: number): { width: number; height: number; conversion: number } | null {
  const width = sizeArg(c, argv[at]!, 'ERR need numeric width');
  const height = width === null ? null : sizeArg(c, argv[at + 1]!, 'ERR need numeric height');
  if (width === null || height === null) return null;
  if (height < 0 || width < 0) return fail(c, 'ERR height or width cannot be negative');
  const conversion = unitArg(c, argv[at + 2]!);
  return conversion === null ? null : { width, height, conversion };
}

/** Which command of the family runs. */
export type SearchVariant = 'georadius' | 'georadius_ro' | 'georadiusbymember' | 'georadiusbymember_ro' | 'geosearch' | 'geosearchstore';

type Size = { type: 'circle'; radius: number; conversion: number } | { type: 'box'; width: number; height: number; conversion: number };

/** Everything a call asks for once parsed. */
interface Request {
  centre: LongLat | null;
  size: Size | null;
  withdist: boolean;
  withhash: boolean;
  withcoord: boolean;
  any: boolean;
  sort: 'none' | 'asc' | 'desc';
  /** Max results, 0 for all. */
  count: number;
  store: string | null;
  storedist: boolean;
}

/** A member found inside the shape. */
interface Found {
  member: string;
  score: number;
  lon: number;
  lat: number;
  /** Meters from the centre; computed only when a sort or the reply needs it (NaN until then). */
  dist: number;
}

/** A member's position (longLatFromMember), or null when it is not in the set. */
function memberPosition(z: ZSetValue, member: string): LongLat | null {
  const score = z.score(member);
  return score === undefined ? null : decodeScore(score);
}

/**
 * The fixed arguments of the GEORADIUS forms; null after replying. A
 * GEORADIUSBYMEMBER on a missing key leaves its radius unparsed, as Redis
 * does, so only the options decide between the empty replies.
 */
function parseFixed(c: Client, argv: string[], variant: SearchVariant, z: ZSetValue | undefined, req: Request): number | null {
  if (variant === 'georadius' || variant === 'georadius_ro') {
    req.centre = longLatArg(c, argv[2]!, argv[3]!);
    if (req.centre === null) return null;
    const r = radiusArgs(c, argv, 4);
    if (r === null) return null;
    req.size = { type: 'circle', ...r };
    return 6;
  }
  if (variant === 'georadiusbymember' || variant === 'georadiusbymember_ro') {
    if (z === undefined) return 5;
    req.centre = memberPosition(z, argv[2]!);
    if (req.centre === null) return fail(c, ERR_DECODE_MEMBER);
    const r = radiusArgs(c, argv, 3);
    if (r === null) return null;
    req.size = { type: 'circle', ...r };
    return 5;
  }
  if (variant === 'geosearchstore') {
    req.store = argv[1]!;
    return 3;
  }
  return 2;
}

/** The options from argv[from] on; false after replying. */
function parseOptions(c: Client, argv: string[], from: number, variant: SearchVariant, z: ZSetValue | undefined, req: Request): boolean {
  const search = variant === 'geosearch' || variant === 'geosearchstore';
  const storable = variant === 'georadius' || variant === 'georadiusbymember';
  let fromMember = false;
  let fromLonLat = false;
  for (let j = from; j < argv.length; j++) {
    const a = argv[j]!;
    const more = argv.length - 1 - j;
    if (isArg(a, 'WITHDIST')) req.withdist = true;
    else if (isArg(a, 'WITHHASH')) req.withhash = true;
    else if (isArg(a, 'WITHCOORD')) req.withcoord = true;
    else if (isArg(a, 'ANY')) req.any = true;
    else if (isArg(a, 'ASC')) req.sort = 'asc';
    else if (isArg(a, 'DESC')) req.sort = 'desc';
    else if (isArg(a, 'COUNT') && more >= 1) {
      const n = parseInteger(argv[++j]!);
      if (n === null) return refuse(c, ERR.notInteger);
      if (n <= 0) return refuse(c, 'ERR COUNT must be > 0');
      req.count = n;
    } else if ((isArg(a, 'STORE') || isArg(a, 'STOREDIST')) && more >= 1 && storable) {
      req.storedist = isArg(a, 'STOREDIST');
      req.store = argv[++j]!;
    } else if (isArg(a, 'STOREDIST') && variant === 'geosearchstore') {
      req.storedist = true;
    } else if (isArg(a, 'FROMMEMBER') && more >= 1 && search && !fromLonLat) {
      const member = argv[++j]!;
      fromMember = true;
      if (z === undefined) continue; // parsing goes on; the missing key decides the reply
      req.centre = memberPosition(z, member);
      if (req.centre === null) return refuse(c, ERR_DECODE_MEMBER);
    } else if (isArg(a, 'FROMLONLAT') && more >= 2 && search && !fromMember) {
      req.centre = longLatArg(c, argv[j + 1]!, argv[j + 2]!);
      if (req.centre === null) return false;
      fromLonLat = true;
      j += 2;
    } else if (isArg(a, 'BYRADIUS') && more >= 2 && search && req.size?.type !== 'box') {
      const r = radiusArgs(c, argv, j + 1);
      if (r === null) return false;
      req.size = { type: 'circle', ...r };
      j += 2;
    } else if (isArg(a, 'BYBOX') && more >= 3 && search && req.size?.type !== 'circle') {
      const b = boxArgs(c, argv, j + 1);
      if (b === null) return false;
      req.size = { type: 'box', ...b };
      j += 3;
    } else {
      return refuse(c, ERR.syntax);
    }
  }
  return checkCombinations(c, argv, search, variant, req, fromMember || fromLonLat);
}

/** The checks after the options, in Redis's order. */
function checkCombinations(c: Client, argv: string[], search: boolean, variant: SearchVariant, req: Request, hasFrom: boolean): boolean {
  if (req.store !== null && (req.withdist || req.withhash || req.withcoord)) {
    const what = variant === 'geosearchstore' ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    return refuse(c, `ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
  }
  if (search && !hasFrom) return refuse(c, `ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${argv[0]!}`);
  if (search && req.size === null) return refuse(c, `ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]!}`);
  if (req.any && req.count === 0) return refuse(c, 'ERR the ANY argument requires COUNT argument');
  return true;
}

/**
 * Every member of the shape's search cells that lies inside the shape, in
 * cell order then score order (membersOfAllNeighbors). With `limit` > 0
 * (COUNT ... ANY) the walk stops once that many are found.
 */
function findInShape(z: ZSetValue, shape: Shape, limit: number): Found[] {
  const found: Found[] = [];
  const cells = searchCells(shape);
  const full = (): boolean => limit > 0 && found.length >= limit;
  const at: LongLat = { lon: 0, lat: 0 };
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i]!;
    if (isNoCell(cell)) continue;
    // Huge radiuses can make adjacent cells the same; Redis skips a repeat of the previous cell it walked
    // (never comparing with the centre, index 0).
    if (last !== 0 && cell.bits === cells[last]!.bits && cell.step === cells[last]!.step) continue;
    if (full()) break;
    const [min, max] = cellScoreRange(cell);
    const ranks = z.scoreRanks({ min, max, minex: false, maxex: true });
    if (ranks !== null) {
      for (const n of z.range(ranks[0], ranks[1] - ranks[0] + 1)) {
        const p = decodeScore(n.score, at);
        if (withinShape(shape, p.lon, p.lat)) found.push({ member: n.key, score: n.score, lon: p.lon, lat: p.lat, dist: NaN });
        if (full()) break;
      }
    }
    last = i;
  }
  return found;
}

const ascending = (a: Found, b: Found): number => (a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1);
const descending = (a: Found, b: Found): number => -ascending(a, b);

/**
 * Sorts enough of `v` for positions first..last to hold what a full sort
 * would put there (Redis's pqsort): Bentley and McIlroy's quicksort (median
 * of three, or of nine above 40 elements, with equal keys gathered at both
 * ends and swapped to the middle) recursing only into parts that overlap
 * first..last. Followed step by step, so equal distances come out in
 * Redis's order too.
 */
function partialSort<T>(v: T[], cmp: (a: T, b: T) => number, first: number, last: number): void {
  const swap = (i: number, j: number): void => {
    const t = v[i]!;
    v[i] = v[j]!;
    v[j] = t;
  };
  const swapRuns = (i: number, j: number, n: number): void => {
    for (let k = 0; k < n; k++) swap(i + k, j + k);
  };
  const median = (i: number, j: number, k: number): number =>
    cmp(v[i]!, v[j]!) < 0
      ? cmp(v[j]!, v[k]!) < 0 ? j : cmp(v[i]!, v[k]!) < 0 ? k : i
      : cmp(v[j]!, v[k]!) > 0 ? j : cmp(v[i]!, v[k]!) < 0 ? i : k;
  const overlaps = (start: number, n: number): boolean => !(last < start || first > start + n - 1);
  const sortRun = (start: number, n: number): void => {
    for (;;) {
      if (n < 7) {
        for (let m = start + 1; m < start + n; m++) for (let l = m; l > start && cmp(v[l - 1]!, v[l]!) > 0; l--) swap(l, l - 1);
        return;
      }
      let pm = start + Math.floor(n / 2);
      if (n > 7) {
        let pl = start;
        let pn = start + n - 1;
        if (n > 40) {
          const d = Math.floor(n / 8);
          pl = median(pl, pl + d, pl + 2 * d);
          pm = median(pm - d, pm, pm + d);
          pn = median(pn - 2 * d, pn - d, pn);
        }
        pm = median(pl, pm, pn);
      }
      swap(start, pm);
      // v[start] is the pivot; keys equal to it collect in [start+1, pa) and (pd, end).
      let pa = start + 1;
      let pb = pa;
      let pc = start + n - 1;
      let pd = pc;
      for (;;) {
        let r = 0;
        while (pb <= pc && (r = cmp(v[pb]!, v[start]!)) <= 0) {
          if (r === 0) swap(pa++, pb);
          pb++;
        }
        while (pb <= pc && (r = cmp(v[pc]!, v[start]!)) >= 0) {
          if (r === 0) swap(pc, pd--);
          pc--;
        }
        if (pb > pc) break;
        swap(pb++, pc--);
      }
      const end = start + n;
      let r = Math.min(pa - start, pb - pa);
      swapRuns(start, pb - r, r);
      r = Math.min(pd - pc, end - pd - 1);
      swapRuns(pb, end - r, r);
      const less = pb - pa;
      if (less > 1 && overlaps(start, less)) sortRun(start, less);
      const more = pd - pc;
      if (more <= 1 || !overlaps(end - more, more)) return;
      start = end - more;
      n = more;
    }
  };
  sortRun(0, v.length);
}

/** C's (long long) conversion of a score (WITHHASH): truncation, INT64_MIN when out of range. */
function scoreAsInteger(score: number): number | bigint {
  const t = Math.trunc(score);
  if (Number.isSafeInteger(t)) return t;
  return Math.abs(t) < 9223372036854775808 ? BigInt(t) : -9223372036854775808n;
}

/** A coordinate reply (addReplyHumanLongDouble): a bulk string in RESP2, a double in RESP3. */
export function replyCoordinate(c: Client, d: number): void {
  const text = formatCoordinate(d);
  if (c.reply.resp === 3) c.reply.raw(`,${text}\r\n`);
  else c.reply.bulk(text);
}

function replyFound(c: Client, found: Found[], n: number, conversion: number, req: Request): void {
  const extras = (req.withdist ? 1 : 0) + (req.withhash ? 1 : 0) + (req.withcoord ? 1 : 0);
  c.reply.arrayHeader(n);
  for (let i = 0; i < n; i++) {
    const f = found[i]!;
    if (extras > 0) c.reply.arrayHeader(extras + 1);
    c.reply.bulk(f.member);
    if (req.withdist) c.reply.bulk(formatDistance(f.dist / conversion));
    if (req.withhash) c.reply.int(scoreAsInteger(f.score));
    if (req.withcoord) {
      c.reply.arrayHeader(2);
      replyCoordinate(c, f.lon);
      replyCoordinate(c, f.lat);
    }
  }
}

/** The result as a new sorted set: the members' scores, or their distances in the unit with STOREDIST. */
function storeFound(c: Client, dst: string, found: Found[], n: number, conversion: number, req: Request, event: string): void {
  let longest = 0;
  for (let i = 0; i < n; i++) longest = Math.max(longest, found[i]!.member.length);
  const out = newZset(c, n, longest);
  for (let i = 0; i < n; i++) {
    const f = found[i]!;
    if (out.node(f.member) === undefined) out.insert(f.member, req.storedist ? f.dist / conversion : f.score);
  }
  storeZset(c, dst, out, event);
}

/** georadiusGeneric: argv[srcIdx] is the source key. */
export function geoSearchGeneric(c: Client, argv: string[], srcIdx: number, variant: SearchVariant): void {
  const z = readZset(c, argv[srcIdx]!);
  if (z === null) return;
  const req: Request = {
    centre: null, size: null, withdist: false, withhash: false, withcoord: false,
    any: false, sort: 'none', count: 0, store: null, storedist: false,
  };
  const from = parseFixed(c, argv, variant, z, req);
  if (from === null || !parseOptions(c, argv, from, variant, z, req)) return;
  const event = variant === 'geosearchstore' ? 'geosearchstore' : 'georadiusstore';
  if (z === undefined) {
    if (req.store !== null) storeFound(c, req.store, [], 0, 1, req, event);
    else c.reply.emptyArray();
    return;
  }
  const centre = req.centre!;
  const size = req.size!;
  const shape: Shape = { ...size, lon: centre.lon, lat: centre.lat };
  if (req.count !== 0 && req.sort === 'none' && !req.any) req.sort = 'asc';
  const found = findInShape(z, shape, req.any ? req.count : 0);
  if (found.length === 0 && req.store === null) return c.reply.emptyArray();
  const n = req.count === 0 || found.length < req.count ? found.length : req.count;
  if (req.sort !== 'none' || req.withdist || req.storedist) {
    const upto = req.sort !== 'none' ? found.length : n;
    for (let i = 0; i < upto; i++) found[i]!.dist = distance(shape.lon, shape.lat, found[i]!.lon, found[i]!.lat);
  }
  if (req.sort !== 'none') {
    const cmp = req.sort === 'asc' ? ascending : descending;
    // All sorted: glibc's qsort, a stable merge sort. The first n only: Redis's partial quicksort.
    if (n === found.length) found.sort(cmp);
    else partialSort(found, cmp, 0, n - 1);
  }
  if (req.store === null) replyFound(c, found, n, size.conversion, req);
  else storeFound(c, req.store, found, n, size.conversion, req, event);
}
