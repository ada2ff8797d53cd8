/**
 * The local cluster's shape, computed without I/O: which ports, which node
 * holds which slots, which replica follows which master, and the exact
 * strata-server arguments of each node. scripts/cluster.mjs runs it;
 * test/cluster/launcher.test.ts compares it with docker-compose.yml.
 */
import * as path from 'node:path';

export const CLUSTER_SLOTS = 16384;
/** The cluster bus listens on the client port plus this (Redis's default). */
export const BUS_PORT_OFFSET = 10000;
/** The server entry point, relative to the package root (tsc's outDir layout, package.json "bin"). */
export const SERVER_JS = 'dist/src/bin/strata-server.js';

export const DEFAULTS = Object.freeze({
  masters: 3,
  replicas: 1,
  basePort: 7000,
  bind: '127.0.0.1',
  nodeTimeout: 5000,
  dir: './cluster-data',
  timeout: 60,
  joinOnly: false,
  help: false,
  serverArgs: [],
});

/**
 * Splits the slots over `masters` exactly as redis-cli --cluster create does
 * (float cursor, rounded; the last master takes the rest): 3 masters give
 * 0-5460, 5461-10922, 10923-16383.
 */
export function slotRanges(masters) {
  const perNode = CLUSTER_SLOTS / masters;
  const out = [];
  let first = 0;
  let cursor = 0;
  for (let i = 0; i < masters; i++) {
    let last = Math.round(cursor + perNode - 1);
    if (last > CLUSTER_SLOTS || i === masters - 1) last = CLUSTER_SLOTS - 1;
    if (last < first) last = first;
    out.push({ start: first, end: last });
    first = last + 1;
    cursor += perNode;
  }
  return out;
}

function integer(name, value, min, max) {
  const n = typeof value === 'number' ? value : /^\d+$/.test(String(value)) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max} (got '${value}')`);
  return n;
}

/**
 * The nodes of a cluster of `masters` masters with `replicas` replicas each.
 * Masters take ports basePort.., replicas the ports after them; replica r
 * (0-based, in port order) follows master r % masters (round-robin), so with
 * 3/1 7003 follows 7000, 7004 7001, 7005 7002. Node i gets config epoch i+1.
 * Each node's directory is `nodeDir(port)` (default `<dir>/<port>`).
 */
export function clusterTopology(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const masters = integer('masters', o.masters, 1, CLUSTER_SLOTS);
  const replicas = integer('replicas', o.replicas, 0, 100);
  const count = masters * (1 + replicas);
  const basePort = integer('base-port', o.basePort, 1, 65535 - BUS_PORT_OFFSET - count + 1);
  const nodeTimeout = integer('node-timeout', o.nodeTimeout, 1, 2 ** 31 - 1);
  const bind = String(o.bind);
  if (bind.trim() === '') throw new Error('--bind needs an address');
  const nodeDir = o.nodeDir ?? ((port) => path.join(String(o.dir), String(port)));
  const ranges = slotRanges(masters);
  const nodes = [];
  for (let index = 0; index < count; index++) {
    const port = basePort + index;
    const isMaster = index < masters;
    const dir = nodeDir(port);
    const configFile = `nodes-${port}.conf`;
    nodes.push({
      index,
      port,
      busPort: port + BUS_PORT_OFFSET,
      role: isMaster ? 'master' : 'replica',
      slots: isMaster ? ranges[index] : null,
      replicaOf: isMaster ? null : basePort + ((index - masters) % masters),
      configEpoch: index + 1,
      dir,
      configFile,
      args: [
        '--port', String(port),
        '--bind', bind,
        '--cluster-enabled', 'yes',
        '--cluster-config-file', configFile,
        '--cluster-node-timeout', String(nodeTimeout),
        '--dir', dir,
        ...(o.serverArgs ?? []),
      ],
    });
  }
  return { masters, replicas, basePort, bind, nodeTimeout, nodes };
}

/** The address a client uses to reach nodes bound to `bind` (its first address; a wildcard means loopback). */
export function connectHost(bind) {
  const first = String(bind).trim().split(/\s+/)[0].replace(/^-/, '');
  if (first === '0.0.0.0' || first === '*') return '127.0.0.1';
  if (first === '::' || first === '::*') return '::1';
  return first;
}

const FLAGS = {
  '--masters': 'masters',
  '--replicas': 'replicas',
  '--base-port': 'basePort',
  '--bind': 'bind',
  '--node-timeout': 'nodeTimeout',
  '--dir': 'dir',
  '--timeout': 'timeout',
};

/**
 * scripts/cluster.mjs's command line: `--name value` or `--name=value`,
 * `--join-only`, `--help`; everything after a lone `--` goes to every
 * strata-server. Throws an Error with a one-line reason on bad input.
 */
export function parseLauncherArgs(argv) {
  const out = { ...DEFAULTS, serverArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      out.serverArgs = argv.slice(i + 1);
      break;
    }
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (arg === '--join-only') {
      out.joinOnly = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAGS[name];
    if (!key) throw new Error(`unknown option '${arg}'`);
    let value;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[++i];
      if (value === undefined) throw new Error(`${name} needs a value`);
    }
    out[key] = value;
  }
  out.masters = integer('masters', out.masters, 1, CLUSTER_SLOTS);
  out.replicas = integer('replicas', out.replicas, 0, 100);
  out.basePort = integer('base-port', out.basePort, 1, 65535);
  out.nodeTimeout = integer('node-timeout', out.nodeTimeout, 1, 2 ** 31 - 1);
  out.timeout = integer('timeout', out.timeout, 1, 86400);
  if (String(out.dir) === '') throw new Error('--dir needs a directory');
  return out;
}
