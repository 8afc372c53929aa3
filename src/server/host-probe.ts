import type { DockerAdapter } from '../docker/adapter.js';
import type { Logger } from '../common/logger.js';
import type { HostCapabilities } from '../docker/host-grants.js';
import { hostSummary } from './host-summary.js';

/** Finds out once what the host grants (retrying while the Docker daemon does not answer). */
export class HostProbe {
  private found: HostCapabilities | undefined;
  private pending: Promise<HostCapabilities> | undefined;

  constructor(
    private readonly docker: DockerAdapter,
    private readonly log: Logger,
    /** Tests may force what the host grants. */
    private readonly override?: Partial<HostCapabilities>,
  ) {}

  /** The host's capabilities; Docker facts are filled in once the daemon has answered. */
  get(): Promise<HostCapabilities> {
    if (this.found) return Promise.resolve(this.found);
    this.pending ??= this.detect().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async detect(): Promise<HostCapabilities> {
    const info = await this.docker.system.info().catch(() => undefined);
    const host = { ...(await this.docker.host.grants(info)), ...this.override };
    if (info) {
      this.found = host;
      this.log.info('host capabilities', hostSummary(host));
    }
    return host;
  }
}
