import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Dict, type DictNode } from '../../src/store/dict.js';

class Node implements DictNode<Node> {
  next: Node | null = null;
  hash = 0;
  constructor(
    public key: string,
    public value: number,
  ) {}
}

type Op = { kind: 'add'; key: string; value: number } | { kind: 'delete'; key: string } | { kind: 'get'; key: string };

const keyArb = fc.integer({ min: 0, max: 300 }).map((n) => `k${n}`);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), key: keyArb, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key: keyArb }),
  fc.record({ kind: fc.constant('get' as const), key: keyArb }),
);

/** Applies one op to the dict and to a Map model; returns false on any disagreement. */
function apply(d: Dict<Node>, model: Map<string, number>, op: Op): boolean {
  if (op.kind === 'add') {
    if (model.has(op.key)) return d.get(op.key)?.value === model.get(op.key);
    d.add(new Node(op.key, op.value));
    model.set(op.key, op.value);
    return true;
  }
  if (op.kind === 'delete') {
    const removed = d.delete(op.key);
    const expected = model.get(op.key);
    model.delete(op.key);
    return removed?.value === expected;
  }
  return d.get(op.key)?.value === model.get(op.key);
}

/** A full SCAN from cursor 0 (scanMany over `many` buckets a step when > 0), running `between` after every step; returns every key seen. */
function fullScan(d: Dict<Node>, between: (step: number) => void, many = 0): Set<string> {
  const seen = new Set<string>();
  const out: Node[] = [];
  let cursor = 0;
  let step = 0;
  do {
    if (many > 0) {
      cursor = d.scanMany(cursor, many, out);
      for (const n of out) seen.add(n.key);
      out.length = 0;
    } else cursor = d.scan(cursor, (n) => seen.add(n.key));
    between(step++);
    if (step > 1_000_000) throw new Error('scan does not terminate');
  } while (cursor !== 0);
  return seen;
}

describe('Dict', () => {
  it('agrees with a Map under random add/delete/get, across growing, shrinking and rehashing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), fc.array(opArb, { maxLength: 600 }), (seed, ops) => {
        const d = new Dict<Node>(seed);
        const model = new Map<string, number>();
        for (const op of ops) {
          if (!apply(d, model, op)) return false;
          if (d.size !== model.size) return false;
        }
        const all = new Map([...d.values()].map((n) => [n.key, n.value]));
        return all.size === model.size && [...model].every(([k, v]) => all.get(k) === v);
      }),
      { numRuns: 200 },
    );
  });

  it('SCAN (and scanMany) returns every element present for the whole scan while the table grows and shrinks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.integer({ min: 0, max: 200 }),
        fc.array(opArb, { maxLength: 400 }),
        fc.constantFrom(0, 1, 3, 64),
        (seed, initial, ops, many) => {
          const d = new Dict<Node>(seed);
          const model = new Map<string, number>();
          for (let i = 0; i < initial; i++) apply(d, model, { kind: 'add', key: `k${i}`, value: i });
          const before = new Set(model.keys());
          const touched = new Set<string>();
          const seen = fullScan(d, (step) => {
            // Several writes per SCAN step: enough to trigger resizes mid-scan.
            for (let j = 0; j < 3; j++) {
              const op = ops[(step * 3 + j) % Math.max(ops.length, 1)];
              if (op === undefined || op.kind === 'get') continue;
              touched.add(op.key);
              apply(d, model, op);
            }
          }, many);
          for (const k of before) {
            if (!touched.has(k) && !seen.has(k)) return false;
          }
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });

  it('SCAN survives a table growing from tiny to thousands of buckets mid-iteration', () => {
    const d = new Dict<Node>(42);
    for (let i = 0; i < 50; i++) d.add(new Node(`a${i}`, i));
    let added = 0;
    const seen = fullScan(d, () => {
      for (let j = 0; j < 200 && added < 5000; j++) d.add(new Node(`b${added++}`, 0));
    });
    for (let i = 0; i < 50; i++) expect(seen.has(`a${i}`)).toBe(true);
  });

  it('scanMany visits each element of a table at rest exactly once', () => {
    const d = new Dict<Node>(11);
    for (let i = 0; i < 3000; i++) d.add(new Node(`m${i}`, i));
    const out: Node[] = [];
    let cursor = 0;
    do cursor = d.scanMany(cursor, 50, out);
    while (cursor !== 0);
    expect(out.length).toBe(3000);
    expect(new Set(out.map((n) => n.key)).size).toBe(3000);
  });

  it('SCAN survives a table shrinking mid-iteration', () => {
    const d = new Dict<Node>(7);
    for (let i = 0; i < 5000; i++) d.add(new Node(`x${i}`, i));
    for (let i = 0; i < 10; i++) d.add(new Node(`keep${i}`, i));
    let removed = 0;
    const seen = fullScan(d, () => {
      for (let j = 0; j < 500 && removed < 5000; j++) d.delete(`x${removed++}`);
    });
    for (let i = 0; i < 10; i++) expect(seen.has(`keep${i}`)).toBe(true);
    expect(d.size).toBe(10);
  });

  it('an empty dict scans to 0 and samples nothing', () => {
    const d = new Dict<Node>(1);
    expect(d.scan(0, () => undefined)).toBe(0);
    expect(d.sample(5, () => 0)).toEqual([]);
    expect(d.random(() => 0)).toBeUndefined();
  });

  it('sample and random return present nodes, without duplicates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 40 }), fc.integer(), (n, count, s) => {
        const d = new Dict<Node>(s >>> 0);
        for (let i = 0; i < n; i++) d.add(new Node(`k${i}`, i));
        let state = s | 1;
        const rand = (bound: number): number => {
          state = (Math.imul(state, 1103515245) + 12345) | 0;
          return (state >>> 8) % bound;
        };
        const sample = d.sample(count, rand);
        const keys = new Set(sample.map((x) => x.key));
        return keys.size === sample.length && sample.length <= Math.min(count, n) && sample.every((x) => d.get(x.key) === x) && d.random(rand) !== undefined;
      }),
      { numRuns: 100 },
    );
  });

  it('random finds a node when a sample walk meets only buckets emptied by a rehash (fast-check counterexample)', () => {
    for (const seed of [-723018911, 575374418, -929934870]) {
      const d = new Dict<Node>(seed >>> 0);
      for (let i = 0; i < 257; i++) d.add(new Node(`k${i}`, i));
      let state = seed | 1;
      const rand = (bound: number): number => {
        state = (Math.imul(state, 1103515245) + 12345) | 0;
        return (state >>> 8) % bound;
      };
      d.sample(1, rand);
      const node = d.random(rand);
      expect(node).toBeDefined();
      expect(d.get(node!.key)).toBe(node);
    }
  });
});


describe('Dict: hashing wire bytes and prefetching', () => {
  it('hashBytes of a key\'s latin1 bytes equals hash of the key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(8), fc.integer(), (bytes, pad, seed) => {
        const d = new Dict<Node>(seed >>> 0);
        const buf = Buffer.concat([Buffer.alloc(pad, 0x2a), Buffer.from(bytes), Buffer.alloc(pad, 0x2a)]);
        return d.hashBytes(buf, pad, pad + bytes.length) === d.hash(Buffer.from(bytes).toString('latin1'));
      }),
      { numRuns: 500 },
    );
  });

  it('bucketHead + chainFind find each present key\'s node (and for an absent key null or a node with its hash), also mid-rehash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.array(keyArb, { minLength: 1, maxLength: 16 }), fc.nat(40), (n, probes, steps) => {
        const d = new Dict<Node>(7);
        for (let i = 0; i < n; i++) d.add(new Node(`k${i}`, i));
        // Lookups move the incremental rehash along: stop it at an arbitrary point.
        for (let i = 0; i < steps; i++) d.get('k0');
        const hashes = probes.map((k) => d.hash(k));
        const out = hashes.map((h) => d.chainFind(d.bucketHead(h), h));
        return probes.every((k, i) => {
          const present = d.get(k) ?? null;
          return present !== null ? out[i] === present : out[i] === null || out[i]!.hash === hashes[i];
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('Dict.random with a degenerate draw sequence', () => {
  it('still returns a node when every draw lands in an empty stretch of the table', () => {
    const d = new Dict<Node>(11);
    for (let i = 0; i < 3000; i++) d.add(new Node(`k${i}`, i));
    for (let i = 0; i < 3000; i++) d.get('k0'); // finish any rehash
    const mask = d.bucketCount - 1;
    // Empty the first 400 buckets: a sample from bucket 0 (at most 160 buckets) finds nothing,
    // and the fallback's draws all land on bucket 0 again.
    for (let i = 0; i < 3000; i++) if ((d.hash(`k${i}`) & mask) < 400) d.delete(`k${i}`);
    expect(d.bucketCount - 1).toBe(mask);
    const node = d.random(() => 0);
    expect(node).toBeDefined();
    expect(d.get(node!.key)).toBe(node);
    expect(d.hash(node!.key) & mask).toBeGreaterThanOrEqual(400);
    // sample() too: eviction refused writes with -OOM when a sample of a full dict came back empty.
    const sample = d.sample(5, () => 0);
    expect(sample.length).toBeGreaterThan(0);
    for (const n of sample) expect(d.get(n.key)).toBe(n);
  });
});
