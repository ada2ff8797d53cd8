import { describe, expect, it } from 'vitest';
import { type Caller, useServer } from '../helpers/fixture.js';

const WRONGTYPE = /^WRONGTYPE Operation against a key holding the wrong kind of value/;
const SYNTAX = /^ERR syntax error$/;

/** Replies as text: RESP3 doubles (numbers) as the shortest text of the same double, so both protocols compare. */
function text(v: unknown): unknown {
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return v.map(text);
  if (Buffer.isBuffer(v)) return v.toString('latin1');
  return v;
}

/** A WITHSCORES reply as flat text [member, score, ...] whatever the protocol (RESP3 sends pairs). */
function flat(v: unknown): unknown[] {
  return (text(v) as unknown[]).flat();
}

/** A coordinate pair as numbers: RESP2 sends %.17Lf text, RESP3 a double; both name the same double. */
function coords(v: unknown): unknown {
  if (v === null) return null;
  return (v as unknown[]).map(Number);
}

const NYC = [
  -73.9454966, 40.747533, 'lic market', -73.9733487, 40.7648057, 'central park n/q/r', -73.9903085, 40.7362513, 'union square',
  -74.0131604, 40.7126674, 'wtc one', -73.7858139, 40.6428986, 'jfk', -73.9375699, 40.7498929, 'q4', -73.9564142, 40.7480973, '4545',
];
const SICILY = [13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'];

describe('geo commands', () => {
  const t = useServer();
  const { each, fails, raw, events } = t;

  async function nyc(c: Caller): Promise<void> {
    await c.call('geoadd', 'nyc', ...NYC);
    events.length = 0;
  }

  it('GEOADD adds into a sorted set with NX / XX / CH, as ZADD would, with the zadd event', async () => {
    await each(async (c) => {
      expect(await c.call('geoadd', 'k', ...SICILY)).toBe(2);
      expect(await c.call('geoadd', 'k', 13.361389, 38.115556, 'Palermo')).toBe(0);
      expect(await c.call('geoadd', 'k', 'CH', 13.4, 38.1, 'Palermo')).toBe(1);
      expect(await c.call('geoadd', 'k', 'NX', 'CH', 1, 1, 'Palermo', 2, 2, 'new')).toBe(1);
      expect(await c.call('geoadd', 'k', 'XX', 3, 3, 'new', 4, 4, 'absent')).toBe(0);
      expect(await c.call('geoadd', 'k', 'ch', 'xx', 5, 5, 'new')).toBe(1);
      expect(await c.call('geoadd', 'missing', 'XX', 1, 1, 'a')).toBe(0);
      expect(await c.call('exists', 'missing')).toBe(0);
      expect(await c.call('type', 'k')).toBe('zset');
      expect(text(await c.call('zscore', 'k', 'Catania'))).toBe('3479447370796909');
      expect(await c.call('zcard', 'k')).toBe(3);
      // Every GEOADD that changed something (XX moving 'new' too, though it replies 0), none for the no-op.
      expect(events).toEqual(['zadd:k', 'zadd:k', 'zadd:k', 'zadd:k', 'zadd:k']);
      // The Z commands work on a geo index, and the geo commands on any sorted set.
      expect(await c.call('zrem', 'k', 'new')).toBe(1);
      expect(await c.call('geohash', 'k', 'new', 'Catania')).toEqual([null, 'sqdtr74hyu0']);
    });
  });

  it('GEOADD errors: options, triples, floats and the coordinate limits, before anything is added', async () => {
    await each(async (c) => {
      await fails(c, SYNTAX, 'geoadd', 'k', 'xx', 'nx', 1, 2, 'm');
      await fails(c, SYNTAX, 'geoadd', 'k', 'ch', 'xx', 'foo', 1, 2, 'm');
      await fails(c, SYNTAX, 'geoadd', 'k', 1, 2, 'm', 3);
      await fails(c, SYNTAX, 'geoadd', 'k', 'ch', 'ch', 'ch');
      await fails(c, /^ERR value is not a valid float$/, 'geoadd', 'k', 1, 2, 'a', 'foo', 'bar', 'b');
      await fails(c, /^ERR invalid longitude,latitude pair 200\.000000,100\.000000$/, 'geoadd', 'k', 1, 2, 'a', 200, 100, 'b');
      await fails(c, /^ERR invalid longitude,latitude pair 0\.000000,85\.051129$/, 'geoadd', 'k', 0, 85.0511288, 'b');
      await fails(c, /^ERR invalid longitude,latitude pair -inf,0\.000000$/, 'geoadd', 'k', '-inf', 0, 'b');
      await fails(c, /^ERR wrong number of arguments for 'geoadd' command$/, 'geoadd', 'k', 1, 2);
      expect(await c.call('exists', 'k')).toBe(0);
      expect(events).toEqual([]);
      await c.call('set', 'str', 'v');
      await fails(c, WRONGTYPE, 'geoadd', 'str', 1, 2, 'm');
      // Limits are inclusive.
      expect(await c.call('geoadd', 'k', 180, 85.05112878, 'ne', -180, -85.05112878, 'sw')).toBe(2);
      expect(text(await c.call('zscore', 'k', 'ne'))).toBe('13510798882111488');
      expect(text(await c.call('zscore', 'k', 'sw'))).toBe('0');
    });
  });

  it('GEOPOS, GEOHASH and GEODIST', async () => {
    await each(async (c) => {
      await c.call('geoadd', 'k', ...SICILY);
      const pos = (await c.call('geopos', 'k', 'Palermo', 'nope')) as unknown[];
      expect(pos.map(coords)).toEqual([[13.36138933897018433, 38.11555639549629859], null]);
      if (c.resp === 2) expect(pos[0]).toEqual(['13.36138933897018433', '38.11555639549629859']);
      expect(await c.call('geopos', 'nokey', 'a')).toEqual([null]);
      expect(await c.call('geohash', 'k', 'Palermo', 'nope')).toEqual(['sqc8b49rny0', null]);
      expect(await c.call('geohash', 'nokey', 'a', 'b')).toEqual([null, null]);
      expect(await c.call('geodist', 'k', 'Palermo', 'Catania')).toBe('166274.1516');
      expect(await c.call('geodist', 'k', 'Palermo', 'Catania', 'KM')).toBe('166.2742');
      expect(await c.call('geodist', 'k', 'Palermo', 'Catania', 'mi')).toBe('103.3182');
      expect(await c.call('geodist', 'k', 'Palermo', 'Catania', 'ft')).toBe('545518.8700');
      expect(await c.call('geodist', 'k', 'Palermo', 'Palermo')).toBe('0.0000');
      expect(await c.call('geodist', 'k', 'Palermo', 'nope')).toBeNull();
      expect(await c.call('geodist', 'nokey', 'a', 'b')).toBeNull();
      await fails(c, /^ERR unsupported unit provided\. please use M, KM, FT, MI$/, 'geodist', 'k', 'Palermo', 'Catania', 'furlong');
      await fails(c, SYNTAX, 'geodist', 'k', 'Palermo', 'Catania', 'km', 'extra');
      await c.call('set', 'str', 'v');
      for (const cmd of [['geopos', 'str', 'a'], ['geohash', 'str', 'a'], ['geodist', 'str', 'a', 'b']]) await fails(c, WRONGTYPE, ...cmd);
    });
  });

  it('replies coordinates as RESP3 doubles and distances as bulk strings, as Redis does', async () => {
    await t.io.call('geoadd', 'k', ...SICILY);
    const out = await raw('HELLO 3\r\nGEOPOS k Palermo nope\r\nGEODIST k Palermo Catania\r\nGEOHASH k nope\r\n', (s) => s.endsWith('*1\r\n_\r\n'));
    expect(out).toContain('*2\r\n*2\r\n,13.36138933897018433\r\n,38.11555639549629859\r\n_\r\n$11\r\n166274.1516\r\n*1\r\n_\r\n');
    const resp2 = await raw('GEOPOS k nope\r\nGEODIST k a b\r\n', (s) => s.endsWith('$-1\r\n'));
    expect(resp2).toBe('*1\r\n*-1\r\n$-1\r\n');
  });

  it('GEORADIUS, GEORADIUSBYMEMBER and GEOSEARCH: circles, boxes, order, COUNT and ANY', async () => {
    await each(async (c) => {
      await nyc(c);
      expect(await c.call('georadius', 'nyc', -73.9798091, 40.7598464, 3, 'km', 'asc')).toEqual(['central park n/q/r', '4545', 'union square']);
      expect(await c.call('georadius_ro', 'nyc', -73.9798091, 40.7598464, 3, 'km', 'desc')).toEqual(['union square', '4545', 'central park n/q/r']);
      expect(await c.call('geosearch', 'nyc', 'fromlonlat', -73.9798091, 40.7598464, 'bybox', 6, 6, 'km', 'asc'))
        .toEqual(['central park n/q/r', '4545', 'union square', 'lic market']);
      expect(await c.call('georadius', 'nyc', -73.9798091, 40.7598464, 10, 'km', 'COUNT', 3)).toEqual(['central park n/q/r', '4545', 'union square']);
      expect(await c.call('georadius', 'nyc', -73.9798091, 40.7598464, 10, 'km', 'COUNT', 3, 'ANY')).toEqual(['wtc one', 'union square', 'central park n/q/r']);
      expect(await c.call('georadius', 'nyc', -73.9798091, 40.7598464, 10, 'km', 'COUNT', 3, 'ANY', 'ASC')).toEqual(['central park n/q/r', 'union square', 'wtc one']);
      expect(await c.call('georadius', 'nyc', -73.9798091, 40.7598464, 10, 'km', 'COUNT', 2, 'DESC')).toEqual(['wtc one', 'q4']);
      expect(await c.call('georadiusbymember', 'nyc', 'wtc one', 7, 'km')).toEqual(['wtc one', 'union square', 'central park n/q/r', '4545', 'lic market']);
      expect(await c.call('georadiusbymember_ro', 'nyc', 'wtc one', 7, 'km', 'withdist')).toEqual([
        ['wtc one', '0.0000'], ['union square', '3.2544'], ['central park n/q/r', '6.7000'], ['4545', '6.1975'], ['lic market', '6.8969'],
      ]);
      expect(await c.call('geosearch', 'nyc', 'frommember', 'wtc one', 'bybox', 14, 14, 'km', 'desc', 'count', 2, 'withdist'))
        .toEqual([['q4', '7.5983'], ['lic market', '6.8969']]);
      expect(await c.call('geosearch', 'nyc', 'fromlonlat', 0, 0, 'byradius', 1, 'km')).toEqual([]);
      expect(await c.call('geosearch', 'nokey', 'frommember', 'x', 'byradius', 1, 'km')).toEqual([]);
      expect(await c.call('georadiusbymember', 'nokey', 'x', 'not-a-number', 'furlong')).toEqual([]);
      expect(events).toEqual([]);
    });
  });

  it('WITHDIST, WITHHASH and WITHCOORD nest in a fixed order whatever order they are given in', async () => {
    await each(async (c) => {
      await nyc(c);
      const r = (await c.call('georadius', 'nyc', -73.9798091, 40.7598464, 3, 'km', 'withcoord', 'withhash', 'withdist', 'asc', 'count', 2)) as unknown[][];
      expect(r.map((x) => [x[0], x[1], x[2], coords(x[3])])).toEqual([
        ['central park n/q/r', '0.7750', 1791875761332224, [-73.97334784269332886, 40.76480639569881959]],
        ['4545', '2.3651', 1791875796750882, [-73.95641237497329712, 40.74809751381645384]],
      ]);
      expect(await c.call('geosearch', 'nyc', 'frommember', 'jfk', 'byradius', 1, 'm', 'withhash')).toEqual([['jfk', 1791895905559723]]);
    });
  });

  it('the syntax and the option combinations fail with Redis errors', async () => {
    await each(async (c) => {
      await nyc(c);
      const ll = ['fromlonlat', -73.9798091, 40.7598464];
      await fails(c, SYNTAX, 'geosearch', 'nyc', ...ll, 'frommember', 'xxx', 'bybox', 6, 6, 'km');
      await fails(c, SYNTAX, 'geosearch', 'nyc', 'frommember', 'wtc one', ...ll, 'bybox', 6, 6, 'km');
      await fails(c, SYNTAX, 'geosearch', 'nyc', ...ll, 'byradius', 3, 'km', 'bybox', 3, 3, 'km');
      await fails(c, SYNTAX, 'geosearch', 'nyc', ...ll, 'bybox', 6, 6, 'km', 'storedist');
      await fails(c, SYNTAX, 'geosearch', 'nyc', ...ll, 'bybox', 6, 6, 'km', 'store', 'x');
      await fails(c, SYNTAX, 'georadius', 'nyc', -73.9, 40.7, 10, 'km', 'count');
      await fails(c, SYNTAX, 'georadius', 'nyc', -73.9, 40.7, 10, 'km', 'store');
      await fails(c, SYNTAX, 'georadius_ro', 'nyc', -73.9, 40.7, 10, 'km', 'store', 'x');
      await fails(c, SYNTAX, 'georadius', 'nyc', -73.9, 40.7, 10, 'km', 'bybox', 1, 1, 'km');
      await fails(c, SYNTAX, 'geosearchstore', 'dst', 'nyc', ...ll, 'byradius', 50, 'km', 'store', 'x');
      await fails(c, /^ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GeoSearch$/, 'GeoSearch', 'nyc', 'bybox', 3, 3, 'km', 'asc', 'desc');
      await fails(c, /^ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch$/, 'geosearch', 'nyc', ...ll, 'asc', 'withdist');
      await fails(c, /^ERR exactly one of BYRADIUS and BYBOX can be specified for geosearchstore$/, 'geosearchstore', 'd', 'nyc', ...ll, 'storedist', 'asc');
      await fails(c, /^ERR the ANY argument requires COUNT argument$/, 'georadius', 'nyc', -73.9, 40.7, 10, 'km', 'ANY', 'ASC');
      await fails(c, /^ERR COUNT must be > 0$/, 'georadius', 'nyc', -73.9, 40.7, 10, 'km', 'count', 0);
      await fails(c, /^ERR value is not an integer or out of range$/, 'georadius', 'nyc', -73.9, 40.7, 10, 'km', 'count', 'x');
      await fails(c, /^ERR need numeric radius$/, 'georadius', 'nyc', -73.9, 40.7, 'x', 'km');
      await fails(c, /^ERR radius cannot be negative$/, 'geosearch', 'nyc', ...ll, 'byradius', -1, 'km');
      await fails(c, /^ERR need numeric width$/, 'geosearch', 'nyc', ...ll, 'bybox', 'x', 1, 'km');
      await fails(c, /^ERR need numeric height$/, 'geosearch', 'nyc', ...ll, 'bybox', 1, 'x', 'km');
      await fails(c, /^ERR height or width cannot be negative$/, 'geosearch', 'nyc', ...ll, 'bybox', 1, -1, 'km');
      await fails(c, /^ERR unsupported unit provided\. please use M, KM, FT, MI$/, 'geosearch', 'nyc', ...ll, 'bybox', 1, 1, 'parsec');
      await fails(c, /^ERR invalid longitude,latitude pair 200\.000000,40\.700000$/, 'georadius', 'nyc', 200, 40.7, 10, 'km');
      await fails(c, /^ERR could not decode requested zset member$/, 'georadiusbymember', 'nyc', 'nope', 1, 'km');
      await fails(c, /^ERR could not decode requested zset member$/, 'geosearch', 'nyc', 'frommember', 'nope', 'bybox', 1, 1, 'km');
      await fails(c, /^ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options$/,
        'georadius', 'nyc', -73.9, 40.7, 10, 'km', 'store', 'x', 'withdist');
      await fails(c, /^ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options$/,
        'georadiusbymember', 'nyc', 'jfk', 10, 'km', 'withcoord', 'storedist', 'x');
      await fails(c, /^ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options$/,
        'geosearchstore', 'd', 'nyc', ...ll, 'byradius', 50, 'km', 'withhash');
      await fails(c, /^ERR wrong number of arguments for 'geosearch' command$/, 'geosearch', 'nyc', ...ll);
      await c.call('set', 'str', 'v');
      await fails(c, WRONGTYPE, 'georadius', 'str', 200, 0, 1, 'km');
      await fails(c, WRONGTYPE, 'geosearchstore', 'dst', 'str', ...ll, 'byradius', 1, 'km');
      expect(await c.call('exists', 'x', 'd', 'dst')).toBe(0);
    });
  });

  it('GEOSEARCHSTORE and the STORE / STOREDIST options store a sorted set with their own events', async () => {
    await each(async (c) => {
      await nyc(c);
      const centre = [-73.9798091, 40.7598464];
      expect(await c.call('georadius', 'nyc', ...centre, 3, 'km', 'store', 'dst')).toBe(3);
      expect(flat(await c.call('zrange', 'dst', 0, -1, 'withscores'))).toEqual([
        'union square', '1791875485187452', 'central park n/q/r', '1791875761332224', '4545', '1791875796750882',
      ]);
      expect(await c.call('object', 'encoding', 'dst')).toBe('listpack');
      expect(await c.call('geosearchstore', 'dst', 'nyc', 'fromlonlat', ...centre, 'byradius', 3, 'km', 'storedist')).toBe(3);
      expect(flat(await c.call('zrange', 'dst', 0, -1, 'withscores'))).toEqual([
        'central park n/q/r', '0.77501636173928778', '4545', '2.3651170851181265', 'union square', '2.7696655797195091',
      ].map((v, i) => (i % 2 === 1 && c.resp === 3 ? String(Number(v)) : v)));
      expect(await c.call('georadiusbymember', 'nyc', 'wtc one', 7, 'km', 'count', 1, 'desc', 'storedist', 'far')).toBe(1);
      expect(await c.call('zrange', 'far', 0, -1)).toEqual(['lic market']);
      // An empty result, or a missing source, deletes the destination.
      expect(await c.call('geosearchstore', 'dst', 'nyc', 'fromlonlat', 0, 0, 'byradius', 1, 'km')).toBe(0);
      expect(await c.call('exists', 'dst')).toBe(0);
      await c.call('set', 'dst', 'x');
      expect(await c.call('georadius', 'nokey', 0, 0, 1, 'km', 'store', 'dst')).toBe(0);
      expect(await c.call('exists', 'dst')).toBe(0);
      expect(await c.call('geosearchstore', 'dst', 'nokey', 'frommember', 'x', 'byradius', 1, 'km')).toBe(0);
      expect(events).toEqual(['georadiusstore:dst', 'geosearchstore:dst', 'georadiusstore:far', 'del:dst', 'set:dst', 'del:dst']);
    });
  });

  it('the STORE destination keeps the last STORE / STOREDIST, and COMMAND GETKEYS finds the keys', async () => {
    await each(async (c) => {
      await nyc(c);
      expect(await c.call('georadius', 'nyc', -73.9798091, 40.7598464, 3, 'km', 'store', 'a', 'storedist', 'b')).toBe(3);
      expect(await c.call('exists', 'a', 'b')).toBe(1);
      expect(await c.call('command', 'getkeys', 'georadius', 'k', 1, 1, 1, 'km', 'store', 'a', 'storedist', 'b')).toEqual(['k', 'a', 'b']);
      expect(await c.call('command', 'getkeys', 'georadius', 'k', 1, 1, 1, 'km', 'storedist', 'a', 'store', 'b')).toEqual(['k', 'b', 'a']);
      expect(await c.call('command', 'getkeys', 'georadiusbymember', 'k', 'm', 1, 'km', 'store', 'a')).toEqual(['k', 'a']);
      expect(await c.call('command', 'getkeys', 'geosearchstore', 'dst', 'src', 'frommember', 'm', 'byradius', 1, 'km')).toEqual(['dst', 'src']);
    });
  });

  it('searches near the poles and across the antimeridian as Redis does', async () => {
    await each(async (c) => {
      await c.call('geoadd', 'p', 179.5, 36, 'point1', -179.5, 36, 'point2');
      expect(await c.call('geosearch', 'p', 'fromlonlat', 179, 37, 'bybox', 400, 400, 'km', 'asc')).toEqual(['point1', 'point2']);
      expect(await c.call('geosearch', 'p', 'fromlonlat', -179, 37, 'bybox', 400, 400, 'km', 'asc')).toEqual(['point2', 'point1']);
      await c.call('geoadd', 'k1', 45, 65, 'n1', -135, 85.05, 'n2');
      expect(await c.call('georadiusbymember', 'k1', 'n1', 5009431, 'm')).toEqual(['n1', 'n2']);
      await c.call('geoadd', 'users', -47.271613776683807, -54.534504198047678, 'user_000000');
      expect(await c.call('georadius', 'users', 0, 0, 50000, 'km', 'withcoord')).toHaveLength(1);
    });
  });
});
