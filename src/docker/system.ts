import type { DockerCli } from './cli.js';
import { DockerError, classifyDockerFailure, dockerMessage } from './errors.js';
import { kernelLogHasOomKill, readKernelLog } from './kernel-log.js';
import type { DockerInfo, DockerVersion } from './types.js';

export const PING_TIMEOUT_MS = 5000;

/** Daemon-level queries: is it there, what is it. */
export class DockerSystem {
  constructor(private readonly docker: DockerCli) {}

  /** `docker info` as JSON; throws an UNAVAILABLE DockerError when the daemon does not answer. */
  async info(): Promise<DockerInfo> {
    const args = ['info', '--format', '{{json .}}'];
    const info = await this.docker.runJson<DockerInfo>(args, { timeoutMs: PING_TIMEOUT_MS * 2 });
    // The 20.10 CLI exits 0 without a daemon and says so only in ServerErrors (newer ones exit 1).
    const errors = (info.ServerErrors ?? []).join('; ');
    if (errors) throw new DockerError(classifyDockerFailure(errors), dockerMessage(errors), args);
    return info;
  }

  /** Whether the kernel logged an OOM kill in container `id`'s memory cgroup (Docker's flag can miss one). */
  oomKilledByKernel(id: string): boolean {
    return kernelLogHasOomKill(readKernelLog(), id);
  }

  /** Client and server versions; throws when the daemon does not answer. */
  version(): Promise<DockerVersion> {
    return this.docker.runJson<DockerVersion>(['version', '--format', '{{json .}}'], { timeoutMs: PING_TIMEOUT_MS });
  }
}
