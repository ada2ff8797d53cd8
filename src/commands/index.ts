import { bitCommands } from './bits.js';
import { clientCommands } from './client.js';
import { clusterCommands } from './cluster.js';
import { connectionCommands } from './connection.js';
import { expireCommands } from './expire.js';
import { functionCommands } from './functions.js';
import { GEO_COMMANDS } from './geo.js';
import { hashCommands } from './hashes.js';
import { HLL_COMMANDS } from './hll.js';
import { introspectionCommands } from './introspection.js';
import { keyCommands } from './keys.js';
import { listCommands } from './lists.js';
import { migrateCommands } from './migrate.js';
import { multiCommands } from './multi.js';
import { scriptingCommands } from './scripting.js';
import { persistenceCommands } from './persistence.js';
import { pubsubCommands } from './pubsub.js';
import { sentinelCommands } from './sentinel.js';
import { serverCommands } from './server.js';
import { setCommands } from './sets.js';
import { sortCommands } from './sort.js';
import { streamCommands } from './streams.js';
import { stringCommands } from './strings.js';
import { zsetCommands } from './zsets.js';
import { CommandTable } from './table.js';
import type { CommandSpec } from './types.js';

/** Every command module's specs. */
export const ALL_COMMAND_SPECS: readonly CommandSpec[] = [
  ...connectionCommands,
  ...clientCommands,
  ...stringCommands,
  ...bitCommands,
  ...setCommands,
  ...zsetCommands,
  ...GEO_COMMANDS,
  ...hashCommands,
  ...streamCommands,
  ...HLL_COMMANDS,
  ...keyCommands,
  ...migrateCommands,
  ...sortCommands,
  ...listCommands,
  ...expireCommands,
  ...serverCommands,
  ...persistenceCommands,
  ...introspectionCommands,
  ...functionCommands,
  ...scriptingCommands,
  ...multiCommands,
  ...pubsubCommands,
  ...clusterCommands,
  ...sentinelCommands,
];

let shared: CommandTable | null = null;

/** The process-wide command table (immutable once built). */
export function commandTable(): CommandTable {
  shared ??= new CommandTable(ALL_COMMAND_SPECS);
  return shared;
}
