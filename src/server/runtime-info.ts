import { isIP } from 'node:net';
import { invalidArgument, notFound, unavailable, unimplemented } from '../common/errors.js';
import { mascriVersion } from '../common/version.js';
import type { CheckpointContainerRequest__Output } from '../cri/generated/runtime/v1/CheckpointContainerRequest.js';
import type { CheckpointPodRequest__Output } from '../cri/generated/runtime/v1/CheckpointPodRequest.js';
import type { RestorePodRequest__Output } from '../cri/generated/runtime/v1/RestorePodRequest.js';
import type { RuntimeConfigResponse } from '../cri/generated/runtime/v1/RuntimeConfigResponse.js';
import type { UpdateRuntimeConfigRequest__Output } from '../cri/generated/runtime/v1/UpdateRuntimeConfigRequest.js';
import type { StatusRequest__Output } from '../cri/generated/runtime/v1/StatusRequest.js';
import type { StatusResponse } from '../cri/generated/runtime/v1/StatusResponse.js';
import type { VersionResponse } from '../cri/generated/runtime/v1/VersionResponse.js';
import type { RuntimeCondition } from '../cri/generated/runtime/v1/RuntimeCondition.js';
import type { ServerContext } from './context.js';
import { EventLoopWatch } from './event-loop-watch.js';
import { hostSummary } from './host-summary.js';
import { UNIMPLEMENTED_RPCS } from './cri-methods.js';
import { runWithErrorContext } from './errors.js';
import { findContainer, findSandbox } from './lookup.js';

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

/**
 * The pod CIDR(s) of an UpdateRuntimeConfig request, checked: empty, or comma-separated CIDRs as the
 * kubelet sends them ("10.244.1.0/24", dual-stack "10.244.1.0/24,fd00:1::/64"). Pure.
 */
export function checkPodCidr(podCidr: string): string {
  if (podCidr.trim() === '') return '';
  const cidrs = podCidr.split(',').map((cidr) => cidr.trim());
  for (const cidr of cidrs) {
    const [address = '', prefix, extra] = cidr.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
      throw invalidArgument(`runtime_config.network_config.pod_cidr "${podCidr}": "${cidr}" is not a CIDR such as 10.244.1.0/24 or fd00:1::/64`);
    }
  }
  return cidrs.join(',');
}

/** Version, Status, RuntimeConfig, UpdateRuntimeConfig, the checkpoint RPCs: what the runtime is and can do now. */
export class RuntimeInfoService {
  private readonly versionResponse: VersionResponse;
  /** The pod CIDR the kubelet last sent (UpdateRuntimeConfig) since this server started; '' before. */
  private podCidr = '';
  /** The event-loop delay verbose Status shows, watched from the first such call. */
  private readonly eventLoop = new EventLoopWatch();

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
      info.config = JSON.stringify({ instance: this.ctx.options.instance, podInfraImage: this.ctx.options.podInfraImage, dockerCli: this.ctx.docker.cli.binary, podCidr: this.podCidr });
      if (dockerInfo) info.docker = JSON.stringify(dockerInfo);
      info.host = JSON.stringify(hostSummary(await this.ctx.host.get()));
      info.eventLoop = JSON.stringify(this.eventLoop.read());
    }
    return { status: { conditions }, info, runtimeHandlers: [{ name: '', features: { recursiveReadOnlyMounts: false, userNamespaces: false } }] };
  }

  /** Ends what runs in the background (the event-loop watch). */
  close(): void {
    this.eventLoop.stop();
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
   * itself, so there is nothing to apply: the CIDR is checked, recorded (Status verbose shows it
   * under config.podCidr) and logged when it changes.
   */
  async updateRuntimeConfig(request: UpdateRuntimeConfigRequest__Output): Promise<Record<string, never>> {
    const podCidr = checkPodCidr(request.runtimeConfig?.networkConfig?.podCidr ?? '');
    if (podCidr !== this.podCidr) {
      this.podCidr = podCidr;
      this.ctx.log.info('pod CIDR from the kubelet recorded; Docker\'s bridge network assigns pod addresses itself', { podCidr });
    }
    return {};
  }

  /** Always UNIMPLEMENTED for a known container, with what this host lacks for Docker's checkpoints (experimental daemon, CRIU). */
  async checkpointContainer(request: CheckpointContainerRequest__Output): Promise<never> {
    const id = request.containerId;
    if (!id) throw invalidArgument('container_id is empty');
    const container = await runWithErrorContext(`checkpointing container "${id}"`, () => findContainer(this.ctx.store, id));
    if (!container) throw notFound(`checkpointing container "${id}": no container with that ID (list them with: mascri ps -a)`);
    const info = await this.ctx.docker.system.info().catch(() => undefined);
    throw unimplemented(
      checkpointUnsupportedReason({ daemonAnswers: info !== undefined, experimental: info?.ExperimentalBuild === true, criu: await this.ctx.docker.host.commandOnPath('criu') }),
    );
  }

  /** Always UNIMPLEMENTED for a known pod: it would need container checkpoints (see checkpointContainer). */
  async checkpointPod(request: CheckpointPodRequest__Output): Promise<never> {
    const id = request.podSandboxId;
    if (!id) throw invalidArgument('pod_sandbox_id is empty');
    const sandbox = await runWithErrorContext(`checkpointing pod sandbox "${id}"`, () => findSandbox(this.ctx.store, id));
    if (!sandbox) throw notFound(`checkpointing pod sandbox "${id}": no pod sandbox with that ID (list them with: mascri pods)`);
    throw unimplemented(UNIMPLEMENTED_RPCS.RuntimeService.CheckpointPod);
  }

  /** Always UNIMPLEMENTED: mascri has no checkpoint to restore a pod from. */
  async restorePod(request: RestorePodRequest__Output): Promise<never> {
    if (!request.checkpointPath) throw invalidArgument('checkpoint_path is empty');
    throw unimplemented(UNIMPLEMENTED_RPCS.RuntimeService.RestorePod);
  }
}
