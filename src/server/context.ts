import type { Logger } from '../common/logger.js';
import type { DockerAdapter } from '../docker/adapter.js';
import type { CrashPoints } from './crash-points.js';
import type { HostProbe } from './host-probe.js';
import type { PendingRemovals } from './pending-removals.js';
import type { ContainerLogs } from './logs/container-logs.js';
import type { ContainerStore } from './store.js';
import type { ImageStore } from './image-store.js';

/** Settings of a running server. */
export interface ServerOptions {
  /** The pod infra ("pause") image every sandbox runs. */
  podInfraImage: string;
  /**
   * The instance (node) name of this server (`--instance`): its containers carry it in their
   * names and labels, and it sees only those. '' is the default instance: today's names, and only
   * containers without an instance label.
   */
  instance: string;
}

/** What every CRI area module receives: the Docker adapter, a logger and the settings. */
export interface ServerContext {
  docker: DockerAdapter;
  log: Logger;
  options: ServerOptions;
  /** What the host lets Docker grant (capabilities, oom_score_adj, cgroups, LSMs): a HostProbe, or a fixed answer in unit tests. */
  host: Pick<HostProbe, 'get'>;
  /** Copies container output into CRI log files. */
  logs: ContainerLogs;
  /** mascri's sandboxes and containers, kept current from Docker's events. */
  store: ContainerStore;
  /** Docker's images, kept current from Docker's image events. */
  images: ImageStore;
  /** Half-made containers a failed call could not remove at once (the daemon went away), removed later. */
  rollbacks: PendingRemovals;
  /** Test-only places to die at (MASCRI_TEST_KILL_AFTER); no-ops in a real server. */
  crash: CrashPoints;
}

/**
 * A unary RPC implementation: decoded request in, response object out, errors thrown. The call's
 * abort signal (client gone, deadline passed) reaches only a handler that declares the parameter
 * (`(request, signal) => ...`: implement() in server.ts reads the function's length); the others
 * get a signal that never aborts, so no AbortController is made for their calls.
 */
export type UnaryHandler<Req, Res> = (request: Req, signal: AbortSignal) => Promise<Res>;
