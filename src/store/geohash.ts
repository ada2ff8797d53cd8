/**
 * Geohashing as Redis's geo commands do it (geohash.c, geohash_helper.c):
 * pure functions, no state.
 *
 * A position is stored as a sorted set score: the longitude and latitude
 * are each scaled to a 26-bit cell index over [-180, 180] and
 * [-85.05112878, 85.05112878] (the Web Mercator limits), and the two indexes
 * are interleaved, latitude on the even bits and longitude on the odd bits,
 * into a 52-bit integer. A coordinate exactly on the upper limit scales to
 * 2^26 and spills one bit past 52, as in Redis, which is why the 64-bit
 * values here travel as two 32-bit halves (or a bigint off the hot path).
 *
 * Searches cover a shape with the cell that holds its centre plus the eight
 * cells around it, at a precision (step) chosen from the shape's size, then
 * filter every member of those cells' score ranges by its exact distance.
 */

export const GEO_STEP_MAX = 26;
export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;

/** Redis's earth radius for WGS-84 distances, in meters. */
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const D_R = Math.PI / 180;

const TWO_32 = 4294967296;
const MASK64 = (1n << 64n) - 1n;
const EVEN_BITS = 0x5555555555555555n;
const ODD_BITS = 0xaaaaaaaaaaaaaaaan;

/** A cell: `step` bits per coordinate, interleaved into `bits`. Both 0 is the "no cell" marker of area searches. */
export interface HashBits {
  bits: bigint;
  step: number;
}

export interface CoordRange {
  min: number;
  max: number;
}

/** The coordinates a cell covers. */
export interface Area {
  longitude: CoordRange;
  latitude: CoordRange;
}

/** The ranges positions are encoded over. */
export const GEO_LONG_RANGE: CoordRange = { min: GEO_LONG_MIN, max: GEO_LONG_MAX };
export const GEO_LAT_RANGE: CoordRange = { min: GEO_LAT_MIN, max: GEO_LAT_MAX };
/** The ranges of the standard geohash alphabet strings (GEOHASH re-encodes on these). */
const STANDARD_LAT_RANGE: CoordRange = { min: -90, max: 90 };

export function degRad(deg: number): number {
  return deg * D_R;
}

export function radDeg(rad: number): number {
  return rad / D_R;
}

// ---- bit interleaving on 32-bit halves ----

/** Spreads the low 16 bits of v onto the even bits of a 32-bit word. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  return (v | (v << 1)) & 0x55555555;
}

/** Gathers the even bits of a 32-bit word into 16 bits (inverse of spread16). */
function gather16(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  return (v | (v >>> 8)) & 0xffff;
}

/** Two 32-bit unsigned words of a 64-bit value, high first. */
type Words = [hi: number, lo: number];

/** lat (uint32) on the even bits, lon (uint32) on the odd bits. */
function interleave(lat: number, lon: number): Words {
  const lo = (spread16(lat) | (spread16(lon) << 1)) >>> 0;
  const hi = (spread16(lat >>> 16) | (spread16(lon >>> 16) << 1)) >>> 0;
  return [hi, lo];
}

/** The even bits (latitude index) of a 64-bit value, as a uint32. */
function evenBits(hi: number, lo: number): number {
  return ((gather16(hi) << 16) | gather16(lo)) >>> 0;
}

/** The odd bits (longitude index) of a 64-bit value, as a uint32. */
function oddBits(hi: number, lo: number): number {
  return ((gather16(hi >>> 1) << 16) | gather16(lo >>> 1)) >>> 0;
}

function wordsToBigint(w: Words): bigint {
  return (BigInt(w[0]) << 32n) | BigInt(w[1]);
}

function bigintToWords(b: bigint): Words {
  return [Number((b >> 32n) & 0xffffffffn), Number(b & 0xffffffffn)];
}

// ---- encode / decode ----

/** Whether a position is inside what can be indexed (Redis's coordinate limits). */
export function validLongLat(lon: number, lat: number): boolean {
  return lon >= GEO_LONG_MIN && lon <= GEO_LONG_MAX && lat >= GEO_LAT_MIN && lat <= GEO_LAT_MAX;
}

/** Cell indexes of a position at `step` over the given ranges, or null outside the limits or the ranges. */
function cellOf(lonRange: CoordRange, latRange: CoordRange, lon: number, lat: number, step: number): Words | null {
  if (step <= 0 || step > 32 || !validLongLat(lon, lat)) return null;
  if (lat < latRange.min || lat > latRange.max || lon < lonRange.min || lon > lonRange.max) return null;
  const scale = 2 ** step;
  const latOffset = ((lat - latRange.min) / (latRange.max - latRange.min)) * scale;
  const lonOffset = ((lon - lonRange.min) / (lonRange.max - lonRange.min)) * scale;
  // The C code truncates into a uint32; offsets are within [0, 2^step] here.
  return interleave(latOffset >>> 0, lonOffset >>> 0);
}

/** geohashEncode: the cell of a position at `step`, or null outside the limits. */
export function encode(lonRange: CoordRange, latRange: CoordRange, lon: number, lat: number, step: number): HashBits | null {
  const w = cellOf(lonRange, latRange, lon, lat, step);
  return w === null ? null : { bits: wordsToBigint(w), step };
}

/**
 * The sorted set score of a validated position (GEOADD): the 52-bit
 * interleaved cell at full precision, as a double (a value past 2^53, from
 * a coordinate on the upper limit, rounds as C's conversion does).
 */
export function encodeScore(lon: number, lat: number): number {
  const w = cellOf(GEO_LONG_RANGE, GEO_LAT_RANGE, lon, lat, GEO_STEP_MAX);
  if (w === null) throw new RangeError(`invalid longitude,latitude ${lon},${lat}`);
  return w[0] * TWO_32 + w[1];
}

/** The area of a cell over the given ranges (geohashDecode). */
export function decodeArea(hash: HashBits, lonRange: CoordRange = GEO_LONG_RANGE, latRange: CoordRange = GEO_LAT_RANGE): Area {
  const [hi, lo] = bigintToWords(hash.bits);
  return cellArea(evenBits(hi, lo), oddBits(hi, lo), hash.step, lonRange, latRange);
}

function cellArea(latIdx: number, lonIdx: number, step: number, lonRange: CoordRange, latRange: CoordRange): Area {
  const cells = 2 ** step;
  const latScale = latRange.max - latRange.min;
  const lonScale = lonRange.max - lonRange.min;
  // The "+ 1" is uint32 arithmetic in the C code.
  const latNext = (latIdx + 1) >>> 0;
  const lonNext = (lonIdx + 1) >>> 0;
  return {
    latitude: { min: latRange.min + (latIdx / cells) * latScale, max: latRange.min + (latNext / cells) * latScale },
    longitude: { min: lonRange.min + (lonIdx / cells) * lonScale, max: lonRange.min + (lonNext / cells) * lonScale },
  };
}

/** A decoded position. */
export interface LongLat {
  lon: number;
  lat: number;
}

/**
 * C's (uint64_t) conversion of a score outside [0, 2^53) as x86-64 performs
 * it: truncation toward zero, negative values wrapping around 2^64, values
 * from 2^64 up (and +inf) giving 0, values at or below -2^63 (and -inf)
 * giving 2^63.
 */
function unusualScoreWords(score: number): Words {
  let b: bigint;
  if (score >= 18446744073709551616) b = 0n;
  else if (score >= 0) b = BigInt(score); // integral at this magnitude
  else if (score > -9223372036854775808) b = BigInt.asUintN(64, BigInt(Math.trunc(score)));
  else b = 1n << 63n;
  return bigintToWords(b);
}

const CELLS = 2 ** GEO_STEP_MAX;
const LAT_SCALE = GEO_LAT_MAX - GEO_LAT_MIN;
const LONG_SCALE = GEO_LONG_MAX - GEO_LONG_MIN;

/**
 * The position of a score (decodeGeohash): the centre of its full-precision
 * cell, clamped to the limits. Any score decodes, as in Redis. This runs for
 * every candidate of a search, so it allocates nothing beyond `out`.
 */
export function decodeScore(score: number, out: LongLat = { lon: 0, lat: 0 }): LongLat {
  let hi: number;
  let lo: number;
  if (score >= 0 && score < 9007199254740992) {
    const v = Math.trunc(score);
    hi = Math.floor(v / TWO_32);
    lo = v - hi * TWO_32;
  } else {
    [hi, lo] = unusualScoreWords(score);
  }
  // The same arithmetic as cellArea() at full precision, then the centre of the cell.
  const latIdx = evenBits(hi, lo);
  const lonIdx = oddBits(hi, lo);
  const latMin = GEO_LAT_MIN + (latIdx / CELLS) * LAT_SCALE;
  const latMax = GEO_LAT_MIN + (((latIdx + 1) >>> 0) / CELLS) * LAT_SCALE;
  const lonMin = GEO_LONG_MIN + (lonIdx / CELLS) * LONG_SCALE;
  const lonMax = GEO_LONG_MIN + (((lonIdx + 1) >>> 0) / CELLS) * LONG_SCALE;
  out.lon = Math.min(GEO_LONG_MAX, Math.max(GEO_LONG_MIN, (lonMin + lonMax) / 2));
  out.lat = Math.min(GEO_LAT_MAX, Math.max(GEO_LAT_MIN, (latMin + latMax) / 2));
  return out;
}

const GEO_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * GEOHASH's 11-character string of a score: the decoded position
 * re-encoded over the standard [-90, 90] latitude range, 5 bits a
 * character from bit 51 down; the 11th character stands for bits Redis
 * does not have and is always '0'.
 */
export function geohashString(score: number): string {
  const p = decodeScore(score);
  const h = encode(GEO_LONG_RANGE, STANDARD_LAT_RANGE, p.lon, p.lat, GEO_STEP_MAX);
  const bits = h === null ? 0n : h.bits;
  let s = '';
  for (let i = 0; i < 10; i++) s += GEO_ALPHABET[Number((bits >> BigInt(52 - (i + 1) * 5)) & 0x1fn)];
  return s + '0';
}

// ---- neighbours ----

/** The cell `d` (-1, 0, 1) columns east (odd bits, longitude) or rows north (even bits, latitude), wrapping. */
function shift(hash: HashBits, d: number, moving: bigint, other: bigint): HashBits {
  if (d === 0) return hash;
  const width = BigInt(64 - hash.step * 2);
  const fill = other >> width;
  let v = hash.bits & moving;
  const rest = hash.bits & other;
  // Filling the other coordinate's bits makes the carry (or borrow) run across them.
  v = d > 0 ? v + (fill + 1n) : (v | fill) - (fill + 1n);
  v = BigInt.asUintN(64, v) & (moving >> width);
  return { bits: (v | rest) & MASK64, step: hash.step };
}

function moveLon(hash: HashBits, d: number): HashBits {
  return shift(hash, d, ODD_BITS, EVEN_BITS);
}

function moveLat(hash: HashBits, d: number): HashBits {
  return shift(hash, d, EVEN_BITS, ODD_BITS);
}

export interface Neighbours {
  north: HashBits;
  south: HashBits;
  east: HashBits;
  west: HashBits;
  northEast: HashBits;
  northWest: HashBits;
  southEast: HashBits;
  southWest: HashBits;
}

/** The eight cells around a cell at the same step (geohashNeighbors). */
export function neighbours(hash: HashBits): Neighbours {
  const at = (dLon: number, dLat: number): HashBits => moveLat(moveLon(hash, dLon), dLat);
  return {
    north: at(0, 1),
    south: at(0, -1),
    east: at(1, 0),
    west: at(-1, 0),
    northEast: at(1, 1),
    northWest: at(-1, 1),
    southEast: at(1, -1),
    southWest: at(-1, -1),
  };
}

// ---- search areas ----

/** geohashEstimateStepsByRadius: the step whose cells are about as large as the range, wider near the poles. */
export function estimateStepsByRadius(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return GEO_STEP_MAX;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  return Math.min(GEO_STEP_MAX, Math.max(1, step));
}

/** A search shape (GeoShape): a circle or an axis-aligned box around a centre, sizes in `unit`s of `conversion` meters. */
export type Shape =
  | { type: 'circle'; lon: number; lat: number; conversion: number; radius: number }
  | { type: 'box'; lon: number; lat: number; conversion: number; width: number; height: number };

/** [minLon, minLat, maxLon, maxLat] around a shape (geohashBoundingBox); longitudes may pass ±180. */
export type Bounds = [minLon: number, minLat: number, maxLon: number, maxLat: number];

export function boundingBox(shape: Shape): Bounds {
  const { lon, lat, conversion } = shape;
  const height = conversion * (shape.type === 'circle' ? shape.radius : shape.height / 2);
  const width = conversion * (shape.type === 'circle' ? shape.radius : shape.width / 2);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(lat - latDelta)));
  // Meridians converge toward the pole, so the widest edge is the one nearer the equator.
  const lonDelta = lat < 0 ? lonDeltaBottom : lonDeltaTop;
  return [lon - lonDelta, lat - latDelta, lon + lonDelta, lat + latDelta];
}

const NO_CELL: HashBits = { bits: 0n, step: 0 };

export function isNoCell(h: HashBits): boolean {
  return h.bits === 0n && h.step === 0;
}

/** The cells an area search visits, in Redis's order: centre, N, S, E, W, NE, NW, SE, SW (NO_CELL where excluded). */
export type SearchCells = [HashBits, HashBits, HashBits, HashBits, HashBits, HashBits, HashBits, HashBits, HashBits];

/**
 * geohashCalculateAreasByShapeWGS84: the centre's cell at the estimated
 * step (one step coarser when a side neighbour does not reach the bounding
 * box) and its neighbours, minus those on sides the centre cell already
 * covers past the bounding box.
 */
export function searchCells(shape: Shape): SearchCells {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  let radiusMeters = shape.type === 'circle' ? shape.radius : Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2));
  radiusMeters *= shape.conversion;
  let steps = estimateStepsByRadius(radiusMeters, shape.lat);
  const cellAt = (s: number): HashBits => encode(GEO_LONG_RANGE, GEO_LAT_RANGE, shape.lon, shape.lat, s) ?? { bits: 0n, step: s };
  let hash = cellAt(steps);
  let n = neighbours(hash);
  const tooSmall =
    decodeArea(n.north).latitude.max < maxLat ||
    decodeArea(n.south).latitude.min > minLat ||
    decodeArea(n.east).longitude.max < maxLon ||
    decodeArea(n.west).longitude.min > minLon;
  if (steps > 1 && tooSmall) {
    steps--;
    hash = cellAt(steps);
    n = neighbours(hash);
  }
  if (steps >= 2) {
    const area = decodeArea(hash);
    if (area.latitude.min < minLat) n.south = n.southWest = n.southEast = NO_CELL;
    if (area.latitude.max > maxLat) n.north = n.northEast = n.northWest = NO_CELL;
    if (area.longitude.min < minLon) n.west = n.southWest = n.northWest = NO_CELL;
    if (area.longitude.max > maxLon) n.east = n.southEast = n.northEast = NO_CELL;
  }
  return [hash, n.north, n.south, n.east, n.west, n.northEast, n.northWest, n.southEast, n.southWest];
}

/**
 * The scores [min, max) of every position inside a cell: the cell's bits
 * aligned to 52 bits, and the next cell's (scoresOfGeoHashBox).
 */
export function cellScoreRange(hash: HashBits): [min: number, max: number] {
  const shiftBy = BigInt(52 - hash.step * 2);
  const min = BigInt.asUintN(64, hash.bits << shiftBy);
  const max = BigInt.asUintN(64, (hash.bits + 1n) << shiftBy);
  return [Number(min), Number(max)];
}

// ---- correctly rounded sin, cos and asin ----
//
// Redis gets its distances from glibc, whose sin, cos and asin return the
// correctly rounded result nearly always; V8's differ from it in the last
// bit for a few percent of arguments, which shows in STOREDIST scores. These
// evaluate in double-double arithmetic (about 75 good bits) and round once.
// Arguments here are small (|x| <= 2*pi), so the reduction needs no more
// than pi/2 to 159 bits.

/** Result of the double-double helpers: [hi, lo], |lo| <= ulp(hi) / 2 (a typed array: no number boxing). */
const DD = new Float64Array(2);

/** DD = a + b exactly. */
function twoSum(a: number, b: number): void {
  const s = a + b;
  const bb = s - a;
  DD[1] = a - (s - bb) + (b - bb);
  DD[0] = s;
}

/** DD = a * b exactly (Dekker's product). */
function twoProd(a: number, b: number): void {
  const p = a * b;
  const ta = 134217729 * a;
  const ah = ta - (ta - a);
  const al = a - ah;
  const tb = 134217729 * b;
  const bh = tb - (tb - b);
  const bl = b - bh;
  DD[1] = ah * bh - p + ah * bl + al * bh + al * bl;
  DD[0] = p;
}

function ddMul(ah: number, al: number, bh: number, bl: number): void {
  twoProd(ah, bh);
  twoSum(DD[0]!, DD[1]! + (ah * bl + al * bh));
}

function ddAdd(ah: number, al: number, bh: number, bl: number): void {
  twoSum(ah, bh);
  twoSum(DD[0]!, DD[1]! + al + bl);
}

/** 1/n! as a double-double [hi, lo], exact to well beyond 106 bits. */
function invFactorial(n: number): [number, number] {
  let f = 1n;
  for (let i = 2n; i <= BigInt(n); i++) f *= i;
  const scaled = (1n << 400n) / f;
  const hi = Number(scaled) / 2 ** 400;
  const rest = scaled - BigInt(hi * 2 ** 200) * (1n << 200n);
  return [hi, Number(rest) / 2 ** 400];
}

/** Taylor coefficients (-1)^k / (2k + first)!: the first 4 double-double, the tail double. */
function series(first: number): { dd: Float64Array; tail: Float64Array } {
  const dd: number[] = [];
  const tail: number[] = [];
  for (let k = 0; k < 15; k++) {
    const [hi, lo] = invFactorial(2 * k + first);
    const sign = k % 2 === 0 ? 1 : -1;
    if (k < 4) dd.push(sign * hi, sign * lo);
    else tail.push(sign * hi);
  }
  return { dd: Float64Array.from(dd), tail: Float64Array.from(tail) };
}

const SIN_SERIES = series(1);
const COS_SERIES = series(0);
const PIO2_1 = 1.5707963267948966;
const PIO2_2 = 6.123233995736766e-17;
const PIO2_3 = -1.4973849048591698e-33;

/**
 * The series at r = rh + rl (|r| <= pi/4) into DD; sine: r * sum (-1)^k r^2k/(2k+1)!,
 * cosine: sum (-1)^k r^2k/(2k)!. The double-double steps are written out
 * (Dekker products, two-sums) because V8 runs them several times faster so.
 */
function kernel(rh: number, rl: number, sine: boolean): void {
  const { dd, tail } = sine ? SIN_SERIES : COS_SERIES;
  // q = r * r
  let t = 134217729 * rh;
  const rhh = t - (t - rh);
  const rhl = rh - rhh;
  let p = rh * rh;
  let e = rhh * rhh - p + 2 * rhh * rhl + rhl * rhl + 2 * rh * rl;
  const qh = p + e;
  const ql = e - (qh - p);
  t = 134217729 * qh;
  const qhh = t - (t - qh);
  const qhl = qh - qhh;
  let sh = tail[tail.length - 1]!;
  for (let k = tail.length - 2; k >= 0; k--) sh = sh * qh + tail[k]!;
  let sl = 0;
  for (let k = 3; k >= 0; k--) {
    // s = s * q + c[k]
    t = 134217729 * sh;
    const shh = t - (t - sh);
    const shl = sh - shh;
    p = sh * qh;
    e = shh * qhh - p + shh * qhl + shl * qhh + shl * qhl + (sh * ql + sl * qh);
    const mh = p + e;
    const ml = e - (mh - p);
    const c = dd[2 * k]!;
    const s = mh + c;
    const bb = s - mh;
    e = mh - (s - bb) + (c - bb) + ml + dd[2 * k + 1]!;
    sh = s + e;
    sl = e - (sh - s);
  }
  if (!sine) {
    DD[0] = sh;
    DD[1] = sl;
    return;
  }
  ddMul(sh, sl, rh, rl);
}

/** sin (or cos) of x as a double-double in DD. */
function sinCosDD(x: number, sine: boolean): void {
  const k = Math.round(x * (2 / Math.PI));
  twoSum(x, -k * PIO2_1);
  ddAdd(DD[0]!, DD[1]!, -k * PIO2_2, -k * PIO2_3);
  const quadrant = (((k % 4) + 4) % 4) + (sine ? 0 : 1);
  kernel(DD[0]!, DD[1]!, quadrant % 2 === 0);
  if (quadrant % 4 >= 2) {
    DD[0] = -DD[0]!;
    DD[1] = -DD[1]!;
  }
}

/** sin(x) correctly rounded (all but the hardest cases). */
export function roundedSin(x: number): number {
  if (!(Math.abs(x) <= 7)) return Math.sin(x);
  if (x === 0) return x;
  sinCosDD(x, true);
  return DD[0]! + DD[1]!;
}

/** cos(x) correctly rounded (all but the hardest cases). */
export function roundedCos(x: number): number {
  if (!(Math.abs(x) <= 7)) return Math.cos(x);
  sinCosDD(x, false);
  return DD[0]! + DD[1]!;
}

/** asin(y) for y in [0, 1], correctly rounded: one Newton step from V8's value, residual in double-double. */
export function roundedAsin(y: number): number {
  const z = Math.asin(y);
  if (!(y > 0 && y < 1)) return z;
  sinCosDD(z, true);
  const residual = DD[0]! - y + DD[1]!;
  // The correction is about an ulp: the divisor needs few correct bits.
  return z - residual / Math.cos(z);
}

// ---- distances ----

/** Distance along a meridian (geohashGetLatDistance). */
export function latDistance(lat1: number, lat2: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2) - degRad(lat1));
}

type Fn = (x: number) => number;

/** The haversine formula of geohashGetDistance over the given sin, cos and asin. */
function haversine(lon1: number, lat1: number, lon2: number, lat2: number, sin: Fn, cos: Fn, asin: Fn): number {
  const lon1r = degRad(lon1);
  const lon2r = degRad(lon2);
  const v = sin((lon2r - lon1r) / 2);
  // Redis's shortcut: on the same meridian the distance is the latitude difference.
  if (v === 0) return latDistance(lat1, lat2);
  const lat1r = degRad(lat1);
  const lat2r = degRad(lat2);
  const u = sin((lat2r - lat1r) / 2);
  const a = u * u + cos(lat1r) * cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * asin(Math.sqrt(a));
}

/** Great-circle distance in meters, bit for bit as Redis computes it (geohashGetDistance). */
export function distance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  return haversine(lon1, lat1, lon2, lat2, roundedSin, roundedCos, roundedAsin);
}

/** distance() with V8's sin/cos/asin: about ten times faster, at times an ulp or two away. */
function quickDistance(lon1: number, lat1: number, lon2: number, lat2: number): number {
  return haversine(lon1, lat1, lon2, lat2, Math.sin, Math.cos, Math.asin);
}

/** Whether a quick distance is too near a limit to decide on without the rounded one. */
function borderline(d: number, limit: number): boolean {
  return Number.isNaN(d) || (Number.isFinite(limit) && Math.abs(d - limit) <= 1e-9 * Math.max(d, limit));
}

/** distance() compared with a limit: the quick value unless it is borderline. */
function beyond(lon1: number, lat1: number, lon2: number, lat2: number, limit: number): boolean {
  const d = quickDistance(lon1, lat1, lon2, lat2);
  return (borderline(d, limit) ? distance(lon1, lat1, lon2, lat2) : d) > limit;
}

/**
 * Whether (lon, lat) is inside the shape (geoWithinShape). A box is checked
 * as Redis does: the meridian distance against half the height, then the
 * distance along the point's parallel against half the width. The caller
 * takes the distance from the centre from distance().
 */
export function withinShape(shape: Shape, lon: number, lat: number): boolean {
  if (shape.type === 'circle') return !beyond(shape.lon, shape.lat, lon, lat, shape.radius * shape.conversion);
  if (latDistance(lat, shape.lat) > (shape.height * shape.conversion) / 2) return false;
  return !beyond(lon, lat, shape.lon, lat, (shape.width * shape.conversion) / 2);
}

// ---- number formatting of positions and distances ----

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/**
 * C's printf("%.<digits>f"): the exact binary value rounded half to even
 * at the last digit, a '-' whenever the sign bit is set ("-0.000000").
 */
export function formatFixed(d: number, digits: number): string {
  if (Number.isNaN(d)) return 'nan';
  const sign = d < 0 || Object.is(d, -0) ? '-' : '';
  if (!Number.isFinite(d)) return `${sign}inf`;
  F64[0] = Math.abs(d);
  const raw = U64[0]!;
  const biased = Number(raw >> 52n);
  let mant = raw & ((1n << 52n) - 1n);
  if (biased !== 0) mant |= 1n << 52n;
  const exp = (biased === 0 ? 1 : biased) - 1075;
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (exp >= 0) {
    q = (mant << BigInt(exp)) * scale;
  } else {
    const den = 1n << BigInt(-exp);
    const num = mant * scale;
    q = num / den;
    const twice = (num % den) * 2n;
    if (twice > den || (twice === den && (q & 1n) === 1n)) q++;
  }
  if (digits === 0) return sign + q.toString();
  const s = q.toString().padStart(digits + 1, '0');
  return `${sign}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/**
 * How Redis prints coordinates (addReplyHumanLongDouble): "%.17Lf" of the
 * double with trailing zeros and a bare point removed, "-0" as "0".
 */
export function formatCoordinate(d: number): string {
  let s = formatFixed(d, 17);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

/** C's llrint: round half to even (the default rounding mode); null where it overflows (NaN included). */
function rint(x: number): number | null {
  if (!(Math.abs(x) < 9223372036854775808)) return null;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** A distance with 4 decimals as Redis prints it (fixedpoint_d2string): "0.7750", "0.0000". */
export function formatDistance(d: number): string {
  if (d === 0) return '0.0000';
  const scaled = rint(d * 10000);
  // llrint's overflow value is INT64_MIN, which prints as its magnitude with a sign.
  const v = scaled === null ? -9223372036854775808n : BigInt(scaled);
  const negative = v < 0n;
  const digits = (negative ? -v : v).toString().padStart(5, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`;
}
