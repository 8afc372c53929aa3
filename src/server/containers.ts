import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { alreadyExists, failedPrecondition, internal, invalidArgument, notFound } from '../common/errors.js';
import type { Container } from '../cri/generated/runtime/v1/Container.js';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig.js';
import type { ContainerStatus } from '../cri/generated/runtime/v1/ContainerStatus.js';
import type { ContainerStatusRequest__Output } from '../cri/generated/runtime/v1/ContainerStatusRequest.js';
import type { ContainerStatusResponse } from '../cri/generated/runtime/v1/ContainerStatusResponse.js';
import type { CreateContainerRequest__Output } from '../cri/generated/runtime/v1/CreateContainerRequest.js';
import type { CreateContainerResponse } from '../cri/generated/runtime/v1/CreateContainerResponse.js';
import type { ListContainersRequest__Output } from '../cri/generated/runtime/v1/ListContainersRequest.js';
import type { ListContainersResponse } from '../cri/generated/runtime/v1/ListContainersResponse.js';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig.js';
import type { RemoveContainerRequest__Output } from '../cri/generated/runtime/v1/RemoveContainerRequest.js';
import type { ReopenContainerLogRequest__Output } from '../cri/generated/runtime/v1/ReopenContainerLogRequest.js';
import type { StartContainerRequest__Output } from '../cri/generated/runtime/v1/StartContainerRequest.js';
import type { StopContainerRequest__Output } from '../cri/generated/runtime/v1/StopContainerRequest.js';
import { containerCreatePlan } from '../docker/container-args.js';
import type { HostConfigExtras, ProcessConfig } from '../docker/create-relay.js';
import type { DockerContainerInspect } from '../docker/types.js';
import { containerState, dockerTimeToNanos, exitReason } from '../docker/convert.js';
import { DockerError } from '../docker/errors.js';
import { containerLabels, isReservedLabel } from '../docker/labels.js';
import { containerName } from '../docker/naming.js';
import type { ServerContext } from './context.js';
import { runWithErrorContext } from './errors.js';
import { refuseSymlinkedLogPath, resolveLogPath } from './log-path.js';
import { AnswerWhileUnchanged } from './store.js';
import { madeInspect, startedInspect } from './provisional.js';
import { warnOnce } from './warn-once.js';
import { isEmptyFilter, matchesIdPrefix, matchesLabelSelector } from './filters.js';
import { allContainers, findContainer, findSandbox, oncePerInspect, type ContainerRecord } from './lookup.js';
import { prepareHostMounts } from './mounts.js';
import { isoTime } from '../common/time.js';

/**
 * How long a created container's inspect waits for the StartContainer that usually follows (a
 * kubelet sends it within milliseconds) before it is made on its own.
 */
export const CREATE_LOOK_AFTER_MS = 200;

/** CreateContainer, StartContainer, StopContainer, RemoveContainer, ContainerStatus, ListContainers, ReopenContainerLog. */
export class ContainerService {
  /** The unfiltered answer (a kubelet's relist), kept while the store has not changed. */
  private readonly unfiltered: AnswerWhileUnchanged<ListContainersResponse>;
  /** The create-relay fields this engine was seen to keep (checked on the first create that sets each). */
  private readonly extrasKept = new Set<string>();
  /** The non-verbose ContainerStatus answer of each inspect held. */
  private readonly statusAnswers = new WeakMap<DockerContainerInspect, ContainerStatusResponse>();
  /** Per container ID: did the kernel log an OOM kill of it (see killedByOom). */
  private readonly oomVerdicts = new Map<string, boolean>();

  constructor(private readonly ctx: ServerContext) {
    this.unfiltered = new AnswerWhileUnchanged(ctx.store);
  }

  /** Creates (does not start) a container in a ready sandbox; anything made before a failure is removed. */
  async createContainer(request: CreateContainerRequest__Output): Promise<CreateContainerResponse> {
    const sandboxId = requireId(request.podSandboxId, 'pod_sandbox_id');
    const config = request.config;
    if (!config?.metadata) throw invalidArgument('config.metadata is required: a container needs a name and attempt');
    if (!config.metadata.name) throw invalidArgument('config.metadata.name is empty');
    const imageRef = (config.image?.image ?? '').trim();
    if (!imageRef) throw invalidArgument('config.image.image is empty');
    for (const key of Object.keys(config.labels ?? {})) {
      if (isReservedLabel(key)) throw invalidArgument(`config.labels: "${key}" is reserved for mascri's own labels`);
    }
    return runWithErrorContext(`creating container "${config.metadata.name}" in pod sandbox "${sandboxId}"`, async () => {
      // A sandbox a RunPodSandbox has just made is used as held: its inspect need not be in yet.
      const sandbox = await findSandbox(this.ctx.store.asHeld, sandboxId);
      if (!sandbox) throw notFound(`no pod sandbox with ID "${sandboxId}"`);
      if (!sandbox.inspect.State.Running) throw failedPrecondition(`pod sandbox "${sandbox.inspect.Id}" is not ready (its pause container is ${sandbox.inspect.State.Status}); containers can only be created in a ready sandbox`);

      const pod = sandbox.meta.metadata;
      const instance = this.ctx.options.instance;
      const name = containerName({ container: config.metadata!.name, attempt: config.metadata!.attempt }, pod, instance);
      const logPath = resolveLogPath(sandbox.meta.logDirectory, config.logPath);
      await refuseSymlinkedLogPath(sandbox.meta.logDirectory, logPath, config.logPath);
      const sandboxConfig = sandbox.meta.config as Partial<PodSandboxConfig__Output>;
      // Its created_at, chosen here (as containerd does) so lists answer the same before and after Docker's inspect is in.
      const at = new Date();
      const labels = containerLabels({
        sandboxId: sandbox.inspect.Id,
        metadata: { name: config.metadata!.name, attempt: config.metadata!.attempt },
        labels: config.labels ?? {},
        annotations: config.annotations ?? {},
        logPath,
        image: imageRef,
        config: storedConfig(config),
        pod: { name: pod.name, namespace: pod.namespace, uid: pod.uid },
        created: isoTime(at),
        instance,
      });
      const host = await this.ctx.host.get();
      const plan = containerCreatePlan({
        config,
        name,
        sandboxId: sandbox.inspect.Id,
        sandboxNamespaces: sandboxConfig.linux?.securityContext?.namespaceOptions ?? undefined,
        image: imageRef,
        // The pod's cgroup: as the request's sandbox config says (cri-dockerd reads that), else as the sandbox was made.
        cgroupParent: request.sandboxConfig?.linux?.cgroupParent || sandboxConfig.linux?.cgroupParent || '',
        host,
      });
      for (const warning of plan.warnings) warnOnce(this.ctx.log, 'container adapted to the host', warning, { container: name });
      await prepareHostMounts(config.mounts ?? [], () => this.ctx.docker.host.readProcFile('self', 'mountinfo'));
      if (logPath) await mkdir(dirname(logPath), { recursive: true, mode: 0o755 });
      this.ctx.crash.reached('CreateContainer', 'log-directory-made');
      try {
        // --pull never: the CRI pulls first; an absent image is the caller's NOT_FOUND, not a surprise pull.
        const containerId = await this.ctx.store.whileWriting([name], () => this.ctx.docker.containers.create(['--pull', 'never', ...plan.args], labels, plan.hostConfig));
        this.ctx.crash.reached('CreateContainer', 'docker-create-done');
        const checks = plan.hostConfig ? extrasToCheck(plan.hostConfig).filter((kind) => !this.extrasKept.has(kind)) : [];
        if (checks.length > 0) {
          // The first create that sets a field through the create relay checks that this engine keeps it.
          const created = await this.ctx.store.refresh(containerId);
          if (plan.hostConfig) checkSystemPaths(created, plan.hostConfig);
          if (plan.hostConfig?.Config) checkProcessConfig(created, plan.hostConfig.Config);
          if (plan.hostConfig?.Config?.StdinOnce === false && created?.Config?.StdinOnce) {
            throw internal('Docker did not keep stdin_once false (StdinOnce is set); the container was not created');
          }
          for (const kind of checks) this.extrasKept.add(kind);
        } else {
          // Nothing to check: lists show the container at once. Docker's inspect waits for the
          // StartContainer a kubelet sends next, whose own inspect then covers both (one docker
          // call less per pod), or for a lookup (its status waits for it), or CREATE_LOOK_AFTER_MS.
          const imageId = this.ctx.images.find(imageRef)?.Id ?? '';
          void this.ctx.store.settleInBackground(containerId, () => madeInspect({ id: containerId, name, image: imageRef, imageId, labels, started: false, at }), undefined, { lookAfterMs: CREATE_LOOK_AFTER_MS });
        }
        this.ctx.crash.reached('CreateContainer', 'checked');
        return { containerId };
      } catch (error) {
        if (error instanceof DockerError && error.kind === 'not-found' && /No such image/i.test(error.message)) {
          throw notFound(`image "${imageRef}" is not present; pull it first (mascri pull ${imageRef})`);
        }
        if (error instanceof DockerError && error.kind === 'already-exists') {
          const existing = await this.ctx.docker.containers.inspectOne(name).catch(() => undefined);
          throw alreadyExists(`a container named "${config.metadata!.name}" (attempt ${config.metadata!.attempt}) already exists in this pod: ${existing?.Id ?? name}`);
        }
        await this.ctx.rollbacks.remove(name);
        throw error;
      }
    });
  }

  /** Starts a created container and begins copying its output to its CRI log file. */
  async startContainer(request: StartContainerRequest__Output): Promise<Record<string, never>> {
    const id = requireId(request.containerId, 'container_id');
    return runWithErrorContext(`starting container "${id}"`, async () => {
      // A container a create has just made is started without waiting for the create's inspect.
      const container = await this.require(id, { settled: false });
      const at = new Date();
      await this.ctx.store.whileWriting([container.inspect.Id], () => this.ctx.docker.containers.start(container.inspect.Id));
      this.ctx.crash.reached('StartContainer', 'docker-start-done');
      // Lists show it running at once; its status waits for Docker's inspect, after which its
      // output is followed (the copier starts from the top of Docker's log, so nothing is missed).
      const logPath = container.meta.logPath;
      void this.ctx.store.settleInBackground(
        container.inspect.Id,
        (held) => startedInspect(held ?? container.inspect, at),
        async (started) => {
          if (logPath && started?.LogPath) await this.ctx.logs.follow(started.Id, started.LogPath, logPath);
          this.ctx.crash.reached('StartContainer', 'log-following');
        },
      );
      return {};
    });
  }

  /** Stops a container: SIGTERM, then SIGKILL after `timeout` seconds; an exited or absent container is success. */
  async stopContainer(request: StopContainerRequest__Output): Promise<Record<string, never>> {
    const id = requireId(request.containerId, 'container_id');
    return runWithErrorContext(`stopping container "${id}"`, async () => {
      const container = await findContainer(this.ctx.store, id);
      if (!container) return {};
      await this.ctx.store.whileWriting([container.inspect.Id], () => this.ctx.docker.containers.stop([container.inspect.Id], Number(request.timeout ?? 0)));
      await this.ctx.store.refresh(container.inspect.Id);
      await this.ctx.logs.flush(container.inspect.Id);
      return {};
    });
  }

  /** Force-removes a container and its log file; an absent container is success. */
  async removeContainer(request: RemoveContainerRequest__Output): Promise<Record<string, never>> {
    const id = requireId(request.containerId, 'container_id');
    return runWithErrorContext(`removing container "${id}"`, async () => {
      const container = await findContainer(this.ctx.store, id);
      if (!container) return {};
      await this.ctx.docker.containers.remove([container.inspect.Id]);
      this.ctx.store.removed(container.inspect.Id);
      await this.ctx.logs.forget(container.inspect.Id, { removeFiles: true });
      return {};
    });
  }

  /** The container's status; NOT_FOUND for an unknown ID. */
  async containerStatus(request: ContainerStatusRequest__Output): Promise<ContainerStatusResponse> {
    const id = requireId(request.containerId, 'container_id');
    return runWithErrorContext(`getting the status of container "${id}"`, async () => {
      const container = await this.require(id);
      // Whoever sees a container exited may read its log at once: make sure its last lines are there.
      if (container.meta.logPath && containerState(container.inspect.State) === 'CONTAINER_EXITED') await this.ctx.logs.flush(container.inspect.Id);
      if (!request.verbose) {
        // The same answer object while the inspect is unchanged: its encoding is reused too (withMemoizedEncoding).
        let answer = this.statusAnswers.get(container.inspect);
        if (!answer) this.statusAnswers.set(container.inspect, (answer = { status: this.statusOf(container), info: {} }));
        return answer;
      }
      const info = { info: JSON.stringify({ pid: container.inspect.State.Pid, sandboxID: container.meta.sandboxId, config: container.meta.config, docker: container.inspect }) };
      return { status: this.statusOf(container), info };
    });
  }

  /** The container's status, with OOMKilled where the kernel says so. */
  private statusOf(container: ContainerRecord): ContainerStatus {
    const status = containerStatus(container);
    if (status.reason === 'Error' && status.exitCode === 137 && this.killedByOom(container.inspect.Id)) return { ...status, reason: 'OOMKilled' };
    return status;
  }

  /**
   * Whether a container that died of SIGKILL without Docker's OOMKilled flag was in fact OOM-killed,
   * as the kernel log says (asked once per container: the answer does not change).
   */
  private killedByOom(id: string): boolean {
    let known = this.oomVerdicts.get(id);
    if (known === undefined) {
      known = this.ctx.docker.system.oomKilledByKernel(id);
      if (this.oomVerdicts.size >= 1000) this.oomVerdicts.delete(this.oomVerdicts.keys().next().value!);
      this.oomVerdicts.set(id, known);
    }
    return known;
  }

  /** Every mascri container matching the filter. */
  async listContainers(request: ListContainersRequest__Output): Promise<ListContainersResponse> {
    const filter = request.filter;
    if (isEmptyFilter(filter)) return this.unfiltered.get(() => this.list(null));
    return this.list(filter);
  }

  /** Builds the list answer for a filter, from memory. */
  private async list(filter: ListContainersRequest__Output['filter']): Promise<ListContainersResponse> {
    return runWithErrorContext('listing containers', async () => {
      const containers: Container[] = [];
      for (const { inspect, meta } of allContainers(this.ctx.store)) {
        const item = containerSummary({ inspect, meta });
        if (!matchesIdPrefix(item.id!, filter?.id)) continue;
        if (!matchesIdPrefix(meta.sandboxId, filter?.podSandboxId)) continue;
        if (filter?.state && filter.state.state !== item.state) continue;
        if (!matchesLabelSelector(meta.labels, filter?.labelSelector)) continue;
        containers.push(item);
      }
      return { containers };
    });
  }

  /** Reopens the container's CRI log file after the kubelet rotated it. */
  async reopenContainerLog(request: ReopenContainerLogRequest__Output): Promise<Record<string, never>> {
    const id = requireId(request.containerId, 'container_id');
    return runWithErrorContext(`reopening the log of container "${id}"`, async () => {
      const container = await this.require(id);
      if (!container.inspect.State.Running) throw failedPrecondition(`container "${container.inspect.Id}" is not running; its log is not reopened`);
      await this.ctx.logs.reopen(container.inspect.Id);
      return {};
    });
  }

  /** Resumes log copying for every container after a (re)start of mascri, catching up on what was written meanwhile. */
  async resumeLogs(): Promise<void> {
    for (const { inspect, meta } of allContainers(this.ctx.store)) {
      if (!meta.logPath || !inspect.LogPath) continue;
      await this.ctx.logs.follow(inspect.Id, inspect.LogPath, meta.logPath);
      if (!inspect.State.Running) await this.ctx.logs.forget(inspect.Id);
    }
  }

  /** The container, or NOT_FOUND. `settled: false` takes one a write has just made as it is held, without waiting for Docker's inspect. */
  private async require(id: string, options: { settled?: boolean } = {}): Promise<ContainerRecord> {
    const source = options.settled === false ? this.ctx.store.asHeld : this.ctx.store;
    const container = await findContainer(source, id);
    if (!container) throw notFound(`no container with ID "${id}" (list them with: mascri ps -a)`);
    return container;
  }
}

/** The container's list entry, built once per inspect. */
export const containerSummary = oncePerInspect(buildContainerEntry);

function buildContainerEntry({ inspect, meta }: ContainerRecord): Container {
  return {
    id: inspect.Id,
    podSandboxId: meta.sandboxId,
    metadata: meta.metadata,
    image: { image: meta.image, annotations: {} },
    imageRef: inspect.Image,
    imageId: inspect.Image,
    state: containerState(inspect.State),
    createdAt: dockerTimeToNanos(meta.created ?? inspect.Created),
    labels: meta.labels,
    annotations: meta.annotations,
  };
}

/** The container's full status. */
export function containerStatus(record: ContainerRecord): ContainerStatus {
  const { inspect, meta } = record;
  const config = meta.config as Partial<ContainerConfig__Output>;
  const state = containerState(inspect.State);
  const host = inspect.HostConfig;
  return {
    ...containerSummary(record),
    startedAt: state === 'CONTAINER_CREATED' ? '0' : dockerTimeToNanos(inspect.State.StartedAt),
    finishedAt: state === 'CONTAINER_EXITED' ? dockerTimeToNanos(inspect.State.FinishedAt) : '0',
    exitCode: state === 'CONTAINER_EXITED' ? inspect.State.ExitCode : 0,
    reason: exitReason(inspect.State),
    message: inspect.State.Error ?? '',
    mounts: config.mounts ?? [],
    logPath: meta.logPath,
    resources: {
      linux: {
        cpuPeriod: String(host.CpuPeriod ?? 0),
        cpuQuota: String(host.CpuQuota ?? 0),
        cpuShares: String(host.CpuShares ?? 0),
        memoryLimitInBytes: String(host.Memory ?? 0),
        oomScoreAdj: String(host.OomScoreAdj ?? 0),
        cpusetCpus: host.CpusetCpus ?? '',
        cpusetMems: host.CpusetMems ?? '',
        memorySwapLimitInBytes: String(host.MemorySwap ?? 0),
      },
    },
  };
}

function storedConfig(config: ContainerConfig__Output): Partial<ContainerConfig__Output> {
  // Env values are secrets often enough; they live in Docker's own config, not again in a label.
  const { labels: _labels, annotations: _annotations, envs: _envs, ...rest } = config;
  return rest;
}

/** The kinds of fields a create sets through the create relay, each checked once per server. Pure. */
function extrasToCheck(extras: HostConfigExtras): string[] {
  const kinds: string[] = [];
  if (extras.MaskedPaths) kinds.push('MaskedPaths');
  if (extras.ReadonlyPaths) kinds.push('ReadonlyPaths');
  if (extras.Config?.Env) kinds.push('Env');
  if (extras.Config?.Entrypoint) kinds.push('Entrypoint');
  if (extras.Config?.Cmd) kinds.push('Cmd');
  if (extras.Config?.StdinOnce === false) kinds.push('StdinOnce');
  return kinds;
}

/** Fails (and so rolls the container back) unless Docker kept the masked and read-only paths that were asked. */
function checkSystemPaths(created: DockerContainerInspect | undefined, asked: HostConfigExtras): void {
  for (const key of ['MaskedPaths', 'ReadonlyPaths'] as const) {
    const want = asked[key];
    const got = created?.HostConfig[key] ?? [];
    if (want && (want.length !== got.length || want.some((path, i) => got[i] !== path))) {
      throw internal(`Docker did not keep the ${key} asked (${want.join(', ')}); it has ${got.join(', ') || 'none'}. The container was not created`);
    }
  }
}

/** Fails (and so rolls the container back) unless Docker kept the environment and command set in the create request's body. */
function checkProcessConfig(created: DockerContainerInspect | undefined, asked: ProcessConfig): void {
  // Docker adds the image's variables to Env (the request's win), so each asked one must be there.
  const env = new Set(created?.Config?.Env ?? []);
  if (asked.Env && !asked.Env.every((variable) => env.has(variable))) throw internal('Docker did not keep the environment set in the create request; the container was not created');
  for (const key of ['Entrypoint', 'Cmd'] as const) {
    const want = asked[key];
    const got = created?.Config?.[key] ?? [];
    if (want && (want.length !== got.length || want.some((part, i) => got[i] !== part))) throw internal(`Docker did not keep the ${key} set in the create request; the container was not created`);
  }
}

function requireId(id: string | undefined, field: string): string {
  if (!id) throw invalidArgument(`${field} is empty`);
  return id;
}
