import { commandTable } from './commands/index.js';
import { Config } from './config.js';
import type { Logger } from './log.js';
import { Persistence } from './persistence/persistence.js';
import { applyAndLog, readRdbFile } from './persistence/rdb-import.js';
import type { Runtime } from './runtime/index.js';
import { Server } from './server/server.js';

export interface NodeOptions {
  runtime: Runtime;
  config: Config;
  log: Logger;
}

/**
 * Builds a Strata node from its seams. Production passes the real runtime;
 * the simulator passes virtual time, network and disk.
 */
export function createNode(options: NodeOptions): Server {
  const node = new Server(options.runtime, options.config, options.log, commandTable());
  node.persistence = new Persistence(node);
  return node;
}

/**
 * Starts a node; with import-rdb, the file is read and verified before
 * anything listens (a bad file: the node does not start, nothing loaded) and
 * its keys are written right after start, once replication exists, so they
 * replicate as writes. Standalone, no client command runs in between.
 */
export async function startNode(node: Server): Promise<void> {
  await startWithPersistence(node);
  const file = node.config.get('import-rdb');
  if (file === '') return;
  const contents = readRdbFile(node.runtime.disk, file, node.keyspace.count);
  node.runAsCommand(() => applyAndLog(node, file, contents));
}

/**
 * The log or snapshot is read and verified before anything listens (a
 * corrupt file: the node does not start). Its keys are applied once
 * replication exists, so they get their CRDT state back; clients that
 * connect meanwhile are held (as under CLIENT PAUSE ALL) until loading ends.
 */
async function startWithPersistence(node: Server): Promise<void> {
  const p = node.persistence;
  if (p === null) return node.start();
  const contents = p.read();
  node.pause('all', Number.POSITIVE_INFINITY);
  try {
    await node.start();
    node.runAsCommand(() => p.load(contents));
  } finally {
    node.unpause();
  }
}

/** A Config from [name, value] directives; throws with redis-server's message on a bad one. */
export function configFrom(directives: readonly [string, string][]): Config {
  const config = new Config();
  for (const [name, value] of directives) {
    const err = config.set(name, value);
    if (err !== null) {
      throw new Error(`*** FATAL CONFIG FILE ERROR *** '${name} ${value}': ${err}`);
    }
  }
  return config;
}
