import { unavailable, unimplemented } from '../common/errors.js';
import { mascriVersion } from '../common/version.js';
import type { CheckpointContainerRequest__Output } from '../cri/generated/runtime/v1/CheckpointContainerRequest.js';
import type { RuntimeConfigResponse } from '../cri/generated/runtime/v1/RuntimeConfigResponse.js';
import type { UpdateRuntimeConfigRequest__Output } from '../cri/generated/runtime/v1/UpdateRuntimeConfigRequest.js';
import type { StatusRequest__Output } from '../cri/generated/runtime/v1/StatusRequest.js';
import type { StatusResponse } from '../cri/generated/runtime/v1/StatusResponse.js';
import type { VersionResponse } from '../cri/generated/runtime/v1/VersionResponse.js';
import type { RuntimeCondition } from '../cri/generated/runtime/v1/RuntimeCondition.js';
import type { ServerContext } from './context.js';
import { hostSummary } from './host-summary.js';
import { UNIMPLEMENTED_RPCS } from './cri-methods.js';

/** The CRI API version string that runtimes report in VersionResponse.version. */
export const KUBELET_API_VERSION = '0.1.0';
export const RUNTIME_NAME = 'mascri';
export const RUNTIME_API_VERSION = 'v1';

/** The CRI cgroup driver for what `docker info` reports as CgroupDriver; undefined when unknown. Pure. */
export function criCgroupDriver(dockerDriver: string): 'SYSTEMD' | 'CGROUPFS' | undefined {
  if (dockerDriver === 'systemd') return 'SYSTEMD';
  if (dockerDriver === 'cgroupfs') return 'CGROUPFS';
  return undefined;
}

/** Why CheckpointContainer cannot work here, from what Docker and the host lack. Pure. */
export function checkpointUnsupportedReason(facts: { daemonAnswers: boolean; experimental: boolean; criu: boolean }): string {
  const missing: string[] = [];
  if (!facts.daemonAnswers) missing.push('the Docker daemon does not answer, so its checkpoint support cannot be checked');
  else if (!facts.experimental) missing.push('the Docker daemon runs without experimental features, which `docker checkpoint create` needs ("experimental": true in daemon.json)');
  if (!facts.criu) missing.push('CRIU, which Docker checkpoints with, is not installed (no criu in PATH)');
  if (missing.length === 0) missing.push('mascri does not turn a Docker checkpoint into the checkpoint archive the kubelet asks for');
  return `${UNIMPLEMENTED_RPCS.RuntimeService.CheckpointContainer}: ${missing.join('; and ')}`;
}

/** Version, Status, RuntimeConfig, UpdateRuntimeConfig, CheckpointContainer: what the runtime is and can do now. */
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
      info.config = JSON.stringify({ instance: this.ctx.options.instance, podInfraImage: this.ctx.options.podInfraImage, dockerCli: this.ctx.docker.cli.binary });
      if (dockerInfo) info.docker = JSON.stringify(dockerInfo);
      info.host = JSON.stringify(hostSummary(await this.ctx.host.get()));
    }
    return { status: { conditions }, info, runtimeHandlers: [{ name: '', features: { recursiveReadOnlyMounts: false, userNamespaces: false } }] };
  }

  /** The cgroup driver as Docker reports it (the kubelet must use the same one). */
  async runtimeConfig(): Promise<RuntimeConfigResponse> {
    const host = await this.ctx.host.get();
    const cgroupDriver = criCgroupDriver(host.cgroupDriver);
    if (!cgroupDriver) {
      throw unavailable(
        host.cgroupDriver === ''
          ? 'cannot tell the cgroup driver: the Docker daemon does not answer (docker info)'
          : `Docker reports the cgroup driver "${host.cgroupDriver}", which is neither systemd nor cgroupfs`,
      );
    }
    return { linux: { cgroupDriver } };
  }

  /**
   * The kubelet sends the node's pod CIDR here. Docker's bridge network hands out pod addresses
   * itself, so there is nothing to apply: the CIDR is logged and the call succeeds.
   */
  async updateRuntimeConfig(request: UpdateRuntimeConfigRequest__Output): Promise<Record<string, never>> {
    const podCidr = request.runtimeConfig?.networkConfig?.podCidr ?? '';
    if (podCidr !== '') this.ctx.log.info('pod CIDR from the kubelet noted; Docker\'s bridge network assigns pod addresses itself', { podCidr });
    return {};
  }

  /** Always UNIMPLEMENTED, with what this host lacks for Docker's checkpoints (experimental daemon, CRIU). */
  async checkpointContainer(_request: CheckpointContainerRequest__Output): Promise<never> {
    const info = await this.ctx.docker.system.info().catch(() => undefined);
    throw unimplemented(
      checkpointUnsupportedReason({ daemonAnswers: info !== undefined, experimental: info?.ExperimentalBuild === true, criu: await this.ctx.docker.host.commandOnPath('criu') }),
    );
  }
}

