#!/usr/bin/env node
/**
 * Starts a local Strata cluster (or, with --join-only, forms one out of nodes
 * that already run) the way `redis-cli --cluster create` does, and stops it
 * on Ctrl-C. `node scripts/cluster.mjs --help` says how.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUS_PORT_OFFSET, CLUSTER_SLOTS, SERVER_JS, clusterTopology, connectHost, parseLauncherArgs } from './cluster-topology.mjs';

const USAGE = `Usage: npm run cluster -- [options] [-- strata-server options...]
       node scripts/cluster.mjs [options] [-- strata-server options...]

Starts masters*(1+replicas) strata-server processes on ports base-port..,
forms a Redis Cluster out of them like \`redis-cli --cluster create\`
(slots split evenly over the masters, replicas assigned round-robin), waits
for cluster_state:ok, prints CLUSTER NODES and how to connect, and keeps
running. Ctrl-C (or SIGTERM) stops every node: SIGTERM, then SIGKILL after
5 seconds.

Options:
  --masters N        masters (default 3)
  --replicas N       replicas per master (default 1)
  --base-port PORT   first client port (default 7000); the bus is port+${BUS_PORT_OFFSET}
  --bind ADDR        address the nodes listen on (default 127.0.0.1)
  --node-timeout MS  cluster-node-timeout of every node (default 5000)
  --dir DIR          data directory (default ./cluster-data): node PORT runs in
                     DIR/PORT (its nodes-PORT.conf is kept there)
  --timeout SECONDS  how long to wait for the nodes to answer PING and for the
                     cluster to reach cluster_state:ok (default 60)
  --join-only        start nothing: form the cluster out of nodes already
                     running on those ports (docker-compose.yml's cluster-init),
                     then exit
  --help             this text
  -- ARGS...         extra options for every strata-server (e.g. -- --loglevel verbose)

Logs: each node's stdout and stderr go to DIR/PORT/strata.log (not to this
terminal); when a node exits unexpectedly its last lines are printed here.

A DIR holding a cluster an earlier run formed (all nodes know each other
from their nodes-PORT.conf) is started again as it is; nodes that are
neither empty nor one cluster are refused: delete DIR to start over.

Exit status: 0 after a clean stop (or, with --join-only, once the cluster
is ready), 1 when the cluster could not be formed or the options are wrong.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER = path.join(ROOT, SERVER_JS);
const STOP_GRACE_MS = 5000;
const COMMAND_TIMEOUT_MS = 5000;
const LOG_NAME = 'strata.log';

function say(text) {
  process.stdout.write(`${text}\n`);
}

function complain(text) {
  process.stderr.write(`${text}\n`);
}

/** A path as short as it can be said: relative to the working directory when inside it. */
function shown(p) {
  const rel = path.relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? p : rel;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------
// A tiny RESP2 client: one connection per node, replies matched in order.

class RespError extends Error {}

function encodeCommand(args) {
  const parts = [`*${args.length}\r\n`];
  for (const a of args) {
    const s = String(a);
    parts.push(`$${Buffer.byteLength(s)}\r\n${s}\r\n`);
  }
  return parts.join('');
}

/**
 * One RESP2 reply from buf at pos: [value, next position], or null when the
 * buffer does not hold all of it yet. Errors come back as RespError values
 * (top level ones reject the command; inside arrays they stay values).
 */
function parseReply(buf, pos) {
  if (pos >= buf.length) return null;
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = buf[pos];
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new RespError(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: { // $
      const len = Number(line);
      if (!Number.isInteger(len)) throw new Error(`bad bulk length '${line}'`);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return null;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case 0x2a: { // *
      const count = Number(line);
      if (!Number.isInteger(count)) throw new Error(`bad array length '${line}'`);
      if (count < 0) return [null, next];
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const r = parseReply(buf, at);
        if (r === null) return null;
        items.push(r[0]);
        at = r[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`unexpected reply type byte 0x${type.toString(16)}`);
  }
}

class RespClient {
  #socket = null;
  #buf = Buffer.alloc(0);
  #pending = [];

  constructor(host, port) {
    this.host = host;
    this.port = port;
  }

  get label() {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  /** Sends one command (connecting first if needed); resolves with its reply, rejects with a RespError or a connection error. */
  call(...args) {
    return new Promise((resolve, reject) => {
      const socket = this.#socket ?? this.#open();
      const entry = { resolve, reject, timer: null };
      entry.timer = setTimeout(() => this.#drop(socket, new Error(`${args.join(' ')} to ${this.label}: no reply after ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
      this.#pending.push(entry);
      socket.write(encodeCommand(args));
    });
  }

  close() {
    if (this.#socket) this.#drop(this.#socket, new Error(`connection to ${this.label} closed`));
  }

  #open() {
    const socket = net.connect({ host: this.host, port: this.port });
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#buf = Buffer.alloc(0);
    socket.on('data', (d) => this.#onData(socket, d));
    socket.on('error', (err) => this.#drop(socket, err));
    socket.on('close', () => this.#drop(socket, new Error(`connection to ${this.label} closed`)));
    return socket;
  }

  /** Forgets `socket` (if still the current one) and fails every command waiting on it. */
  #drop(socket, err) {
    if (this.#socket !== socket) return;
    this.#socket = null;
    socket.destroy();
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  #onData(socket, data) {
    if (this.#socket !== socket) return;
    this.#buf = this.#buf.length === 0 ? data : Buffer.concat([this.#buf, data]);
    let pos = 0;
    for (;;) {
      let reply;
      try {
        reply = parseReply(this.#buf, pos);
      } catch (err) {
        this.#drop(socket, new Error(`protocol error from ${this.label}: ${err.message}`));
        return;
      }
      if (reply === null) break;
      pos = reply[1];
      const p = this.#pending.shift();
      if (!p) {
        this.#drop(socket, new Error(`unexpected reply from ${this.label}`));
        return;
      }
      clearTimeout(p.timer);
      if (reply[0] instanceof RespError) p.reject(reply[0]);
      else p.resolve(reply[0]);
    }
    this.#buf = pos === this.#buf.length ? Buffer.alloc(0) : this.#buf.subarray(pos);
  }
}

// ---------------------------------------------------------------------------
// Reading CLUSTER INFO / CLUSTER NODES.

function parseInfo(text) {
  const out = new Map();
  for (const line of String(text).split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) out.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return out;
}

/** CLUSTER NODES lines: id, address, flags, master id, link state, slots. */
function parseNodes(text) {
  return String(text)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      const addr = f[1] ?? '';
      const hostPort = addr.split('@')[0];
      return {
        line,
        id: f[0],
        addr,
        port: Number(hostPort.slice(hostPort.lastIndexOf(':') + 1)),
        flags: (f[2] ?? '').split(','),
        master: f[3],
        linkState: f[7],
        slots: f.slice(8),
      };
    });
}

const BAD_FLAGS = ['fail', 'fail?', 'handshake', 'noaddr'];

// ---------------------------------------------------------------------------
// State: the children, stopping, failing.

/** Thrown out of a wait when the user asked to stop or a node died during formation. */
class Abort extends Error {}

const children = []; // { node, child, log, exited: Promise, status: null | string }
let stopping = false;
let formed = false;
let aborted = null; // why formation must stop (a node died)
const clients = [];

function checkAbort() {
  if (stopping) throw new Abort('stopping');
  if (aborted) throw new Abort(aborted);
}

function tail(file, lines = 10) {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, 16384);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '(no log)';
  }
}

function onChildExit(entry, code, signal) {
  entry.status = signal ? `signal ${signal}` : `exit code ${code}`;
  if (stopping) return;
  const { node } = entry;
  complain(`node ${node.port} (pid ${entry.child.pid}) exited unexpectedly (${entry.status}); last lines of ${entry.log}:`);
  complain(tail(entry.log).replace(/^/gm, `  [${node.port}] `));
  if (!formed) {
    aborted ??= `node ${node.port} exited (${entry.status}) before the cluster was formed`;
    return;
  }
  if (children.every((c) => c.status !== null)) {
    complain('every node has exited');
    void shutdown(1);
  }
}

function portFree(host, port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function startNodes(topology, dataDir) {
  if (!fs.existsSync(SERVER)) throw new Error(`${SERVER} is missing: build first (npm run build, or use npm run cluster)`);
  const host = connectHost(topology.bind);
  for (const node of topology.nodes) {
    for (const port of [node.port, node.busPort]) {
      if (!(await portFree(host, port))) throw new Error(`port ${port} on ${host} is in use (node ${node.port} needs ${node.port} and its bus port ${node.busPort})`);
    }
  }
  fs.mkdirSync(dataDir, { recursive: true });
  for (const node of topology.nodes) {
    fs.mkdirSync(node.dir, { recursive: true });
    const log = path.join(node.dir, LOG_NAME);
    const fd = fs.openSync(log, 'a');
    // Own process group: a terminal's Ctrl-C reaches only this launcher, which then stops the nodes itself.
    const child = spawn(process.execPath, [SERVER, ...node.args], { cwd: node.dir, stdio: ['ignore', fd, fd], detached: true });
    fs.closeSync(fd);
    const entry = { node, child, log, status: null, exited: null };
    entry.exited = new Promise((resolve) => child.once('exit', resolve));
    child.once('exit', (code, signal) => onChildExit(entry, code, signal));
    child.once('error', (err) => {
      complain(`node ${node.port}: ${err.message}`);
      aborted ??= `node ${node.port} could not be started: ${err.message}`;
    });
    children.push(entry);
    const what = node.role === 'master' ? `master, slots ${node.slots.start}-${node.slots.end}` : `replica of ${node.replicaOf}`;
    say(`started node ${node.port} (pid ${child.pid}, ${what}), log ${shown(log)}`);
  }
}

/** Stops every child: SIGTERM, SIGKILL after STOP_GRACE_MS (at once on a second signal). */
async function stopNodes() {
  const alive = () => children.filter((c) => c.status === null && c.child.pid !== undefined);
  for (const c of alive()) c.child.kill('SIGTERM');
  const all = Promise.all(children.map((c) => (c.child.pid === undefined ? null : c.exited)));
  const timedOut = await Promise.race([all.then(() => false), sleep(STOP_GRACE_MS).then(() => true)]);
  if (timedOut) {
    for (const c of alive()) {
      complain(`node ${c.node.port} did not stop within ${STOP_GRACE_MS / 1000} s: SIGKILL`);
      c.child.kill('SIGKILL');
    }
    await all;
  }
}

let shuttingDown = null;
function shutdown(code) {
  if (shuttingDown) return shuttingDown;
  stopping = true;
  for (const c of clients) c.close();
  shuttingDown = (async () => {
    if (children.length > 0) {
      say(`stopping ${children.filter((c) => c.status === null).length} node(s)...`);
      await stopNodes();
      say('all nodes stopped');
    }
    process.exit(code);
  })();
  return shuttingDown;
}

// ---------------------------------------------------------------------------
// Forming the cluster.

async function waitFor(what, deadline, timeoutSeconds, check) {
  let reason = 'not checked yet';
  for (;;) {
    checkAbort();
    try {
      const r = await check();
      if (r === null) return;
      reason = r;
    } catch (err) {
      if (err instanceof Abort) throw err;
      reason = err.message;
    }
    checkAbort();
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutSeconds} s waiting for ${what}: ${reason}`);
    await sleep(200);
  }
}

/** null when `view` (one node's CLUSTER NODES) shows every expected node, healthy; else what is missing. */
function viewProblem(viewer, view, expected, full) {
  if (view.length !== expected.length) return `node ${viewer} knows ${view.length} of ${expected.length} nodes`;
  for (const e of expected) {
    const seen = view.find((v) => v.id === e.id);
    if (!seen) return `node ${viewer} does not know node ${e.port} (${e.id})`;
    const bad = seen.flags.find((f) => BAD_FLAGS.includes(f));
    if (bad) return `node ${viewer} sees node ${e.port} as ${seen.flags.join(',')}`;
    if (seen.port !== e.port) return `node ${viewer} has node ${e.port} at ${seen.addr}`;
    if (!full) continue;
    if (e.role === 'master') {
      if (!seen.flags.includes('master')) return `node ${viewer} sees node ${e.port} as ${seen.flags.join(',')}, not a master`;
      const want = e.slots.start === e.slots.end ? `${e.slots.start}` : `${e.slots.start}-${e.slots.end}`;
      if (seen.slots.join(' ') !== want) return `node ${viewer} sees node ${e.port} with slots '${seen.slots.join(' ')}', not ${want}`;
    } else {
      if (!seen.flags.includes('slave')) return `node ${viewer} sees node ${e.port} as ${seen.flags.join(',')}, not a replica`;
      if (seen.master !== e.masterId) return `node ${viewer} sees node ${e.port} following ${seen.master}, not ${e.replicaOf} (${e.masterId})`;
    }
    if (seen.linkState !== 'connected') return `node ${viewer} has its link to node ${e.port} ${seen.linkState}`;
  }
  return null;
}

async function form(topology, timeoutSeconds) {
  const host = connectHost(topology.bind);
  const n = topology.nodes.length;
  const deadline = Date.now() + timeoutSeconds * 1000;
  const wait = (what, check) => waitFor(what, deadline, timeoutSeconds, check);
  const nodes = topology.nodes.map((node) => {
    const client = new RespClient(host, node.port);
    clients.push(client);
    return { ...node, client, id: '', masterId: '' };
  });
  const byPort = new Map(nodes.map((x) => [x.port, x]));

  await wait('every node to answer PING', async () => {
    for (const x of nodes) {
      const r = await x.client.call('PING').catch((err) => `error: ${err.message}`);
      if (r !== 'PONG') return `node ${x.port} answered ${JSON.stringify(r)}`;
    }
    return null;
  });

  const infos = [];
  for (const x of nodes) infos.push(parseInfo(await x.client.call('CLUSTER', 'INFO')));
  const known = infos.map((i) => Number(i.get('cluster_known_nodes')));
  const assigned = infos.map((i) => Number(i.get('cluster_slots_assigned')));
  if (known.every((k) => k === n)) {
    say(`the nodes already form a cluster of ${n} (from their nodes-PORT.conf): not forming it again`);
    await wait('cluster_state:ok on every node', async () => {
      for (const x of nodes) {
        const info = parseInfo(await x.client.call('CLUSTER', 'INFO'));
        if (info.get('cluster_state') !== 'ok') return `node ${x.port} has cluster_state:${info.get('cluster_state')}`;
      }
      return null;
    });
    return nodes;
  }
  nodes.forEach((x, i) => {
    if (known[i] !== 1 || assigned[i] !== 0) {
      throw new Error(`node ${x.port} is not empty (it knows ${known[i]} nodes and ${assigned[i]} slots are assigned): it belongs to another cluster; stop it or delete its data directory`);
    }
  });

  for (const x of nodes) x.id = String(await x.client.call('CLUSTER', 'MYID'));
  for (const x of nodes) if (x.replicaOf !== null) x.masterId = byPort.get(x.replicaOf).id;

  say(`assigning ${CLUSTER_SLOTS} slots to ${topology.masters} master(s)`);
  for (const x of nodes) {
    if (x.role !== 'master') continue;
    await x.client.call('CLUSTER', 'ADDSLOTSRANGE', x.slots.start, x.slots.end);
  }
  for (const x of nodes) {
    // redis-cli ignores a refusal here too: colliding epochs are resolved by the cluster itself.
    await x.client.call('CLUSTER', 'SET-CONFIG-EPOCH', x.configEpoch).catch((err) => complain(`warning: CLUSTER SET-CONFIG-EPOCH ${x.configEpoch} on node ${x.port}: ${err.message}`));
  }
  say(`joining every node to ${host}:${nodes[0].port} (CLUSTER MEET)`);
  for (const x of nodes.slice(1)) await x.client.call('CLUSTER', 'MEET', host, nodes[0].port);
  await wait('every node to know every other node', async () => {
    for (const x of nodes) {
      const problem = viewProblem(x.port, parseNodes(await x.client.call('CLUSTER', 'NODES')), nodes, false);
      if (problem) return problem;
    }
    return null;
  });

  if (topology.replicas > 0) say('configuring replicas (CLUSTER REPLICATE)');
  for (const x of nodes) {
    if (x.role !== 'replica') continue;
    await wait(`node ${x.port} to accept CLUSTER REPLICATE`, async () => {
      await x.client.call('CLUSTER', 'REPLICATE', x.masterId);
      return null;
    });
  }

  say('waiting for cluster_state:ok and agreement on every node');
  await wait('cluster_state:ok on every node, all agreeing on slots and roles', async () => {
    for (const x of nodes) {
      const info = parseInfo(await x.client.call('CLUSTER', 'INFO'));
      if (info.get('cluster_state') !== 'ok') return `node ${x.port} has cluster_state:${info.get('cluster_state')}`;
      if (Number(info.get('cluster_slots_assigned')) !== CLUSTER_SLOTS) return `node ${x.port} has cluster_slots_assigned:${info.get('cluster_slots_assigned')}`;
      const problem = viewProblem(x.port, parseNodes(await x.client.call('CLUSTER', 'NODES')), nodes, true);
      if (problem) return problem;
    }
    return null;
  });
  return nodes;
}

async function report(nodes, topology, dataDir) {
  const host = connectHost(topology.bind);
  const view = parseNodes(await nodes[0].client.call('CLUSTER', 'NODES')).sort((a, b) => a.port - b.port);
  const masters = view.filter((v) => v.flags.includes('master')).length;
  say('');
  say(`cluster ready: ${masters} master(s), ${view.length - masters} replica(s). CLUSTER NODES (from node ${nodes[0].port}):`);
  for (const v of view) say(`  ${v.line}`);
  say('');
  say('connect with:');
  say(`  redis-cli -c -p ${nodes[0].port}${host === '127.0.0.1' ? '' : ` -h ${host}`}`);
  if (dataDir) {
    say(`node logs: ${path.join(shown(dataDir), '<port>', LOG_NAME)}`);
    say('Ctrl-C stops every node');
  }
}

// ---------------------------------------------------------------------------

async function main() {
  let opts;
  try {
    opts = parseLauncherArgs(process.argv.slice(2));
  } catch (err) {
    complain(`cluster: ${err.message}\n\n${USAGE}`);
    process.exit(1);
  }
  if (opts.help) {
    say(USAGE);
    return;
  }
  const dataDir = path.resolve(opts.dir);
  let topology;
  try {
    topology = clusterTopology({ ...opts, dir: dataDir });
  } catch (err) {
    complain(`cluster: ${err.message}`);
    process.exit(1);
  }

  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (shuttingDown && children.length > 0) {
        complain(`${sig} again: SIGKILL`);
        for (const c of children) if (c.status === null) c.child.kill('SIGKILL');
        return;
      }
      say(`${sig}: stopping`);
      void shutdown(opts.joinOnly && !formed ? 1 : 0);
    });
  }
  // Whatever happens to this process, no node outlives it unsupervised.
  process.on('exit', () => {
    for (const c of children) if (c.status === null) c.child.kill('SIGKILL');
  });

  try {
    if (!opts.joinOnly) await startNodes(topology, dataDir);
    else say(`forming a cluster out of the nodes on ${connectHost(topology.bind)}:${topology.basePort}-${topology.basePort + topology.nodes.length - 1}`);
    const nodes = await form(topology, opts.timeout);
    formed = true;
    await report(nodes, topology, opts.joinOnly ? null : dataDir);
  } catch (err) {
    if (err instanceof Abort && stopping) return; // shutdown() is already on its way
    complain(`cluster: could not form the cluster: ${err.message}`);
    await shutdown(1);
    return;
  }
  for (const c of clients) c.close();
  if (opts.joinOnly) process.exit(0);
  if (children.every((c) => c.status !== null)) await shutdown(1);
}

await main();
