import type { Redis } from 'ioredis';

/**
 * A client-side digest of a node's whole keyspace (database 0): every key
 * with its type, absolute expire time and value in a canonical form, so two
 * nodes holding the same data compare equal whatever order they store
 * elements in. No DEBUG DIGEST needed, and a difference can be named key
 * by key.
 */
export type Snapshot = Map<string, string>;

const SCAN_COUNT = 1000;

/** Unordered collections compare as sorted lists. */
function sorted(v: unknown): string {
  return JSON.stringify([...(v as string[])].sort());
}

/** Field/value and member/score replies compare as sorted pairs. */
function sortedPairs(v: unknown): string {
  const flat = v as string[];
  const pairs: string[] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
  return JSON.stringify(pairs.sort());
}

const READERS: Record<string, { args: (key: string) => string[]; canonical: (v: unknown) => string }> = {
  string: { args: (k) => ['GET', k], canonical: (v) => String(v) },
  hash: { args: (k) => ['HGETALL', k], canonical: sortedPairs },
  list: { args: (k) => ['LRANGE', k, '0', '-1'], canonical: (v) => JSON.stringify(v) },
  set: { args: (k) => ['SMEMBERS', k], canonical: sorted },
  zset: { args: (k) => ['ZRANGE', k, '0', '-1', 'WITHSCORES'], canonical: sortedPairs },
};

/** Results of one pipeline, failing on the first command error. */
async function run(client: Redis, commands: string[][]): Promise<unknown[]> {
  const results = (await client.pipeline(commands.map(([cmd, ...rest]) => [cmd!.toLowerCase(), ...rest])).exec()) ?? [];
  return results.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

async function describeKeys(client: Redis, keys: string[]): Promise<[string, string][]> {
  const meta = await run(client, keys.flatMap((k) => [['TYPE', k], ['PEXPIRETIME', k]]));
  const reads: string[][] = [];
  const readers: ((v: unknown) => string)[] = [];
  const out: [string, string][] = [];
  keys.forEach((k, i) => {
    const type = String(meta[2 * i]);
    const reader = READERS[type];
    if (!reader) {
      // 'none': expired or deleted between SCAN and TYPE.
      out.push([k, type]);
      return;
    }
    reads.push(reader.args(k));
    readers.push(reader.canonical);
    out.push([k, `${type}|${String(meta[2 * i + 1])}|`]);
  });
  const values = await run(client, reads);
  let j = 0;
  for (const entry of out) {
    if (entry[1] === 'none') continue;
    entry[1] += readers[j]!(values[j]);
    j++;
  }
  return out;
}

export async function snapshot(client: Redis): Promise<Snapshot> {
  const out: Snapshot = new Map();
  let cursor = '0';
  do {
    const [next, keys] = (await client.scan(cursor, 'COUNT', SCAN_COUNT)) as [string, string[]];
    cursor = next;
    for (const [k, v] of await describeKeys(client, keys)) out.set(k, v);
  } while (cursor !== '0');
  return out;
}

/** null when equal, else the sizes and the first few keys that differ. */
export function differences(a: Snapshot, b: Snapshot, limit = 5): string | null {
  const diffs: string[] = [];
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w !== v && diffs.push(`${k}: ${v} vs ${w ?? '(missing)'}`) >= limit) break;
  }
  if (diffs.length < limit) {
    for (const [k, w] of b) {
      if (!a.has(k) && diffs.push(`${k}: (missing) vs ${w}`) >= limit) break;
    }
  }
  if (diffs.length === 0) return null;
  return `${a.size} vs ${b.size} keys; e.g. ${diffs.join('; ')}`;
}
