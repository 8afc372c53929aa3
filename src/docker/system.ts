import type { DockerCli } from './cli.js';
import type { DockerInfo, DockerVersion } from './types.js';

export const PING_TIMEOUT_MS = 5000;

/** Daemon-level queries: is it there, what is it. */
export class DockerSystem {
  constructor(private readonly docker: DockerCli) {}

  /** `docker info` as JSON; throws an UNAVAILABLE DockerError when the daemon does not answer. */
  info(): Promise<DockerInfo> {
    return this.docker.runJson<DockerInfo>(['info', '--format', '{{json .}}'], { timeoutMs: PING_TIMEOUT_MS * 2 });
  }

  /** Client and server versions; throws when the daemon does not answer. */
  version(): Promise<DockerVersion> {
    return this.docker.runJson<DockerVersion>(['version', '--format', '{{json .}}'], { timeoutMs: PING_TIMEOUT_MS });
  }
}
