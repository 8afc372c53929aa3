import { mascriVersion } from '../common/version.js';
import type { StatusRequest__Output } from '../cri/generated/runtime/v1/StatusRequest.js';
import type { StatusResponse } from '../cri/generated/runtime/v1/StatusResponse.js';
import type { VersionResponse } from '../cri/generated/runtime/v1/VersionResponse.js';
import type { RuntimeCondition } from '../cri/generated/runtime/v1/RuntimeCondition.js';
import type { ServerContext } from './context.js';
import { hostSummary } from './host.js';

/** The CRI API version string that runtimes report in VersionResponse.version. */
export const KUBELET_API_VERSION = '0.1.0';
export const RUNTIME_NAME = 'mascri';
export const RUNTIME_API_VERSION = 'v1';

/** Version and Status: what the runtime is and whether it can work now. */
export class RuntimeInfoService {
  private readonly versionResponse: VersionResponse;

  constructor(private readonly ctx: ServerContext) {
    this.versionResponse = {
      version: KUBELET_API_VERSION,
      runtimeName: RUNTIME_NAME,
      runtimeVersion: mascriVersion(),
      runtimeApiVersion: RUNTIME_API_VERSION,
    };
  }

  /** Version never touches Docker: crictl calls it before every command. */
  async version(): Promise<VersionResponse> {
    return this.versionResponse;
  }

  /** RuntimeReady and NetworkReady follow whether the Docker daemon answers right now. */
  async status(request: StatusRequest__Output): Promise<StatusResponse> {
    let dockerInfo: Record<string, unknown> | undefined;
    let failure: string | undefined;
    try {
      dockerInfo = await this.ctx.docker.system.info();
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    const ready = dockerInfo !== undefined;
    const conditions: RuntimeCondition[] = [
      {
        type: 'RuntimeReady',
        status: ready,
        reason: ready ? '' : 'DockerDaemonNotReachable',
        message: ready ? '' : `the Docker daemon does not answer: ${failure}`,
      },
      {
        type: 'NetworkReady',
        status: ready,
        reason: ready ? '' : 'DockerDaemonNotReachable',
        message: ready ? '' : 'pod networking is provided by the Docker daemon, which does not answer',
      },
    ];
    const info: Record<string, string> = {};
    if (request.verbose) {
      info.config = JSON.stringify({ podInfraImage: this.ctx.options.podInfraImage, dockerCli: this.ctx.docker.cli.binary });
      if (dockerInfo) info.docker = JSON.stringify(dockerInfo);
      info.host = JSON.stringify(hostSummary(await this.ctx.host.get()));
    }
    return { status: { conditions }, info, runtimeHandlers: [{ name: '', features: { recursiveReadOnlyMounts: false, userNamespaces: false } }] };
  }
}
