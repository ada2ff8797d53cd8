import type { Client } from '../server/client.js';
import { decodeScore, distance, encodeScore, formatDistance, geohashString } from '../store/geohash.js';
import { geoSearchGeneric, longLatArg, replyCoordinate, type SearchVariant, unitArg } from './geo-search.js';
import type { CommandFlag, CommandSpec, Handler, KeyFlag, KeySpec } from './types.js';
import { ERR, isArg } from './util.js';
import { zaddCommand } from './zsets.js';
import { readZset } from './zsets-common.js';

/**
 * The geo group (geo.c). Positions are members of a sorted set scored by
 * their 52-bit geohash (src/store/geohash.ts), so a geo index is a plain
 * zset and every Z command works on it. GEOADD turns its triples into a
 * ZADD call; the searches live in geo-search.ts.
 */

/** GEOADD key [NX | XX] [CH] longitude latitude member [...]: rewritten into ZADD key [options] score member [...]. */
function geoaddCommand(c: Client, argv: string[]): void {
  let nx = false;
  let xx = false;
  let first = 2;
  for (; first < argv.length; first++) {
    const a = argv[first]!;
    if (isArg(a, 'NX')) nx = true;
    else if (isArg(a, 'XX')) xx = true;
    else if (!isArg(a, 'CH')) break;
  }
  if ((argv.length - first) % 3 !== 0 || (nx && xx)) return c.error(ERR.syntax);
  const zadd = ['zadd', ...argv.slice(1, first)];
  for (let j = first; j < argv.length; j += 3) {
    const p = longLatArg(c, argv[j]!, argv[j + 1]!);
    if (p === null) return;
    zadd.push(String(encodeScore(p.lon, p.lat)), argv[j + 2]!);
  }
  zaddCommand(c, zadd);
}

/** One reply per member of argv[2..] (GEOPOS, GEOHASH): `missing` when the key or the member is not there. */
function perMember(c: Client, argv: string[], missing: () => void, present: (score: number) => void): void {
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  c.reply.arrayHeader(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z?.score(argv[j]!);
    if (score === undefined) missing();
    else present(score);
  }
}

/** GEOPOS key member [...]: [longitude, latitude] of each member, a null array for a missing one. */
function geoposCommand(c: Client, argv: string[]): void {
  perMember(c, argv, () => c.reply.nullArray(), (score) => {
    const p = decodeScore(score);
    c.reply.arrayHeader(2);
    replyCoordinate(c, p.lon);
    replyCoordinate(c, p.lat);
  });
}

/** GEOHASH key member [...]: standard 11-character geohash strings, a null bulk for a missing member. */
function geohashCommand(c: Client, argv: string[]): void {
  perMember(c, argv, () => c.reply.nullBulk(), (score) => c.reply.bulk(geohashString(score)));
}

/** GEODIST key member1 member2 [M | KM | FT | MI]: a null bulk unless the key and both members exist. */
function geodistCommand(c: Client, argv: string[]): void {
  let toMeters = 1;
  if (argv.length === 5) {
    const u = unitArg(c, argv[4]!);
    if (u === null) return;
    toMeters = u;
  } else if (argv.length > 5) {
    return c.error(ERR.syntax);
  }
  const z = readZset(c, argv[1]!);
  if (z === null) return;
  const s1 = z?.score(argv[2]!);
  const s2 = s1 === undefined ? undefined : z?.score(argv[3]!);
  if (s1 === undefined || s2 === undefined) return c.reply.nullBulk();
  const a = decodeScore(s1);
  const b = decodeScore(s2);
  c.reply.bulk(formatDistance(distance(a.lon, a.lat, b.lon, b.lat) / toMeters));
}

const search = (srcIdx: number, variant: SearchVariant): Handler => (c, argv) => geoSearchGeneric(c, argv, srcIdx, variant);

// ---- command table ----

function keyAt(index: number, ...flags: KeyFlag[]): KeySpec {
  return { kind: 'range', first: index, last: index, step: 1, flags };
}

/**
 * The key after the first `keyword` from argv[startFrom] on (a key spec
 * searching by keyword, as Redis declares GEORADIUS's STORE and STOREDIST).
 */
function keyAfter(keyword: string, startFrom: number): KeySpec {
  const find = (argv: readonly string[]): number[] => {
    for (let i = startFrom; i < argv.length - 1; i++) if (isArg(argv[i]!, keyword)) return [i + 1];
    return [];
  };
  return { kind: 'custom', find, flags: ['OW', 'UPDATE'] };
}

function spec(
  name: string, arity: number, flags: CommandFlag[], keys: KeySpec[], since: string, syntax: string,
  summary: string, complexity: string, handler: Handler, extra: Partial<CommandSpec> = {},
): CommandSpec {
  return { name, arity, flags, keys, group: 'geo', since, summary, complexity, syntax, handler, ...extra };
}

const SRC = keyAt(1, 'RO', 'ACCESS');
const UNIT = '<M | KM | FT | MI>';
const OUTPUT = '[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC]';
const RADIUS_C =
  'O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.';
const SEARCH_C =
  'O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape';
const SHAPE = `<FROMMEMBER member | FROMLONLAT longitude latitude> <BYRADIUS radius ${UNIT} | BYBOX width height ${UNIT}> [ASC | DESC] [COUNT count [ANY]]`;
const DEPRECATED = (by: string): Partial<CommandSpec> => ({ docFlags: ['deprecated'], deprecatedSince: '6.2.0', replacedBy: by });

export const GEO_COMMANDS: CommandSpec[] = [
  spec('geoadd', -5, ['write', 'denyoom'], [keyAt(1, 'RW', 'UPDATE')], '3.2.0',
    'key [NX | XX] [CH] longitude latitude member [longitude latitude member ...]',
    'Add one or more geospatial items in the geospatial index represented using a sorted set',
    'O(log(N)) for each item added, where N is the number of elements in the sorted set.', geoaddCommand),
  spec('geodist', -4, ['readonly'], [SRC], '3.2.0', 'key member1 member2 [M | KM | FT | MI]',
    'Returns the distance between two members of a geospatial index', 'O(log(N))', geodistCommand),
  spec('geohash', -2, ['readonly'], [SRC], '3.2.0', 'key member [member ...]',
    'Returns members of a geospatial index as standard geohash strings',
    'O(log(N)) for each member requested, where N is the number of elements in the sorted set.', geohashCommand),
  spec('geopos', -2, ['readonly'], [SRC], '3.2.0', 'key member [member ...]',
    'Returns longitude and latitude of members of a geospatial index',
    'O(N) where N is the number of members requested.', geoposCommand),
  spec('georadius', -6, ['write', 'denyoom'], [SRC, keyAfter('STORE', 6), keyAfter('STOREDIST', 6)], '3.2.0',
    `key longitude latitude radius ${UNIT} ${OUTPUT} [STORE key] [STOREDIST key]`,
    'Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point',
    RADIUS_C, search(1, 'georadius'), DEPRECATED('`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument')),
  spec('georadius_ro', -6, ['readonly'], [SRC], '3.2.10', `key longitude latitude radius ${UNIT} ${OUTPUT}`,
    'A read-only variant for GEORADIUS', RADIUS_C, search(1, 'georadius_ro'), DEPRECATED('`GEOSEARCH` with the `BYRADIUS` argument')),
  spec('georadiusbymember', -5, ['write', 'denyoom'], [SRC, keyAfter('STORE', 5), keyAfter('STOREDIST', 5)], '3.2.0',
    `key member radius ${UNIT} ${OUTPUT} [STORE key] [STOREDIST key]`,
    'Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member',
    RADIUS_C, search(1, 'georadiusbymember'),
    DEPRECATED('`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments')),
  spec('georadiusbymember_ro', -5, ['readonly'], [SRC], '3.2.10', `key member radius ${UNIT} ${OUTPUT}`,
    'A read-only variant for GEORADIUSBYMEMBER', RADIUS_C, search(1, 'georadiusbymember_ro'),
    DEPRECATED('`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments')),
  spec('geosearch', -7, ['readonly'], [SRC], '6.2.0', `key ${SHAPE} [WITHCOORD] [WITHDIST] [WITHHASH]`,
    'Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.',
    SEARCH_C, search(1, 'geosearch')),
  spec('geosearchstore', -8, ['write', 'denyoom'], [keyAt(1, 'OW', 'UPDATE'), keyAt(2, 'RO', 'ACCESS')], '6.2.0',
    `destination source ${SHAPE} [STOREDIST]`,
    'Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.',
    SEARCH_C, search(2, 'geosearchstore')),
];
