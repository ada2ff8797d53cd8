/** Types of cluster-topology.mjs, for the TypeScript tests that import it. */

export const CLUSTER_SLOTS: number;
export const BUS_PORT_OFFSET: number;
export const SERVER_JS: string;

export interface LauncherOptions {
  masters: number;
  replicas: number;
  basePort: number;
  bind: string;
  nodeTimeout: number;
  dir: string;
  /** Seconds to wait for PING and for cluster_state:ok. */
  timeout: number;
  joinOnly: boolean;
  help: boolean;
  /** Extra strata-server arguments (after a lone `--`), given to every node. */
  serverArgs: string[];
}

export const DEFAULTS: Readonly<LauncherOptions>;

export interface SlotRange {
  start: number;
  end: number;
}

export interface TopologyNode {
  index: number;
  port: number;
  busPort: number;
  role: 'master' | 'replica';
  slots: SlotRange | null;
  /** The port of the master a replica follows. */
  replicaOf: number | null;
  configEpoch: number;
  dir: string;
  configFile: string;
  /** strata-server arguments (after the script path). */
  args: string[];
}

export interface Topology {
  masters: number;
  replicas: number;
  basePort: number;
  bind: string;
  nodeTimeout: number;
  nodes: TopologyNode[];
}

export function slotRanges(masters: number): SlotRange[];
export function clusterTopology(
  options?: Partial<Pick<LauncherOptions, 'masters' | 'replicas' | 'basePort' | 'bind' | 'nodeTimeout' | 'dir' | 'serverArgs'>> & {
    nodeDir?: (port: number) => string;
  },
): Topology;
export function connectHost(bind: string): string;
export function parseLauncherArgs(argv: readonly string[]): LauncherOptions;
