import type { Logger } from '../common/logger.js';
import type { DockerAdapter } from '../docker/adapter.js';
import type { HostProbe } from './host-probe.js';
import type { ContainerLogs } from './container-logs.js';
import type { ContainerStore } from './store.js';

/** Settings of a running server. */
export interface ServerOptions {
  /** The pod infra ("pause") image every sandbox runs. */
  podInfraImage: string;
}

/** What every CRI area module receives: the Docker adapter, a logger and the settings. */
export interface ServerContext {
  docker: DockerAdapter;
  log: Logger;
  options: ServerOptions;
  /** What the host lets Docker grant (capabilities, oom_score_adj, cgroups, LSMs). */
  host: HostProbe;
  /** Copies container output into CRI log files. */
  logs: ContainerLogs;
  /** mascri's sandboxes and containers, kept current from Docker's events. */
  store: ContainerStore;
}

/** A unary RPC implementation: decoded request in, response object out, errors thrown. */
export type UnaryHandler<Req, Res> = (request: Req, signal: AbortSignal) => Promise<Res>;
