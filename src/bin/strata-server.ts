#!/usr/bin/env node
import { parseCommandLine } from '../config.js';
import { createLogger } from '../log.js';
import { configFrom, createNode, startNode } from '../node.js';
import { realRuntime } from '../runtime/index.js';

/** redis-server compatible entry point: `strata-server [redis.conf] [--option value ...]`. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--version' || args[0] === '-v') {
    process.stdout.write('Strata server v=0.1.0 (Redis 7.0 compatible)\n');
    return;
  }
  const runtime = realRuntime();
  let config;
  try {
    const directives = parseCommandLine(args, (file) => runtime.disk.readFile(file).toString('utf8'));
    config = configFrom(directives);
    if (args[0] && !args[0].startsWith('--')) config.file = args[0];
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const log = createLogger({
    level: config.get('loglevel'),
    file: config.get('logfile') || undefined,
    pretty: process.stdout.isTTY === true,
  });
  runtime.process.configFile = config.file;
  const node = createNode({ runtime, config, log });
  // Server.requestShutdown takes the final snapshot (or refuses) and then calls this, once.
  node.onShutdown((reason) => {
    log.info({ reason }, 'Shutting down');
    node
      .stop()
      .then(() => {
        log.info('Strata is now ready to exit, bye bye...');
        log.flush?.();
        process.exit(0);
      })
      .catch((err: unknown) => {
        log.error({ err }, 'error during shutdown');
        process.exit(1);
      });
  });
  const onSignal = (signal: string): void => {
    // As Redis with shutdown-on-sigterm default: a failed final save keeps the node running.
    if (!node.requestShutdown('default', false, signal)) {
      log.error({ reason: signal }, 'Errors trying to shut down the server, check the logs for more information');
    }
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    await startNode(node);
  } catch (err) {
    log.error({ err }, `could not start: ${(err as Error).message}`);
    process.exit(1);
  }
}

void main();
