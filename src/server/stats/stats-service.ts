import { invalidArgument, notFound, unimplemented } from '../../common/errors.js';
import type { ContainerMetrics } from '../../cri/generated/runtime/v1/ContainerMetrics.js';
import type { ContainerStats } from '../../cri/generated/runtime/v1/ContainerStats.js';
import type { ContainerStatsRequest__Output } from '../../cri/generated/runtime/v1/ContainerStatsRequest.js';
import type { ContainerStatsResponse } from '../../cri/generated/runtime/v1/ContainerStatsResponse.js';
import type { FilesystemUsage } from '../../cri/generated/runtime/v1/FilesystemUsage.js';
import type { ListContainerStatsRequest__Output } from '../../cri/generated/runtime/v1/ListContainerStatsRequest.js';
import type { ListContainerStatsResponse } from '../../cri/generated/runtime/v1/ListContainerStatsResponse.js';
import type { ListMetricDescriptorsResponse } from '../../cri/generated/runtime/v1/ListMetricDescriptorsResponse.js';
import type { ListPodSandboxMetricsResponse } from '../../cri/generated/runtime/v1/ListPodSandboxMetricsResponse.js';
import type { ListPodSandboxStatsRequest__Output } from '../../cri/generated/runtime/v1/ListPodSandboxStatsRequest.js';
import type { ListPodSandboxStatsResponse } from '../../cri/generated/runtime/v1/ListPodSandboxStatsResponse.js';
import type { PodSandboxMetrics } from '../../cri/generated/runtime/v1/PodSandboxMetrics.js';
import type { PodSandboxStats } from '../../cri/generated/runtime/v1/PodSandboxStats.js';
import type { PodSandboxStatsRequest__Output } from '../../cri/generated/runtime/v1/PodSandboxStatsRequest.js';
import type { PodSandboxStatsResponse } from '../../cri/generated/runtime/v1/PodSandboxStatsResponse.js';
import type { UpdateContainerResourcesRequest__Output } from '../../cri/generated/runtime/v1/UpdateContainerResourcesRequest.js';
import type { UpdatePodSandboxResourcesRequest__Output } from '../../cri/generated/runtime/v1/UpdatePodSandboxResourcesRequest.js';
import { dockerTimeToNanos } from '../../docker/convert.js';
import type { DockerContainerInspect } from '../../docker/types.js';
import type { ServerContext } from '../context.js';
import { runWithErrorContext } from '../errors.js';
import { matchesIdPrefix, matchesLabelSelector } from '../filters.js';
import { findContainer, findSandbox, splitRecords, type ContainerRecord, type SandboxRecord } from '../lookup.js';
import type { CgroupSample } from './cgroup.js';
import { cpuUsage, ioUsage, memoryUsage, networkUsage, sumSamples, swapUsage, uint64 } from './convert.js';
import { CpuRateTracker } from './cpu-rate.js';
import { containerMetrics, containerSpec, metricDescriptors, networkMetrics, type MetricLabels } from './metrics.js';
import { HostSampler, nowNanos } from './sampler.js';
import { updateArgs } from './update-args.js';
import { WritableLayerUsage, layerMountpoint, type DiskUsage } from './writable-layer.js';
import { UNIMPLEMENTED_RPCS } from '../cri-methods.js';

/** The part of `docker inspect` that locates a container's writable layer (overlay2). */
type InspectWithLayer = DockerContainerInspect & { GraphDriver?: { Name?: string; Data?: { UpperDir?: string } | null } | null };

/** A container's stats and the raw figures they were made from (a pod sums them). */
interface ContainerFigures {
  stats: ContainerStats;
  sample: CgroupSample | undefined;
  layer: DiskUsage | undefined;
}

/** What StatsService reads the host with; tests hand in fakes. */
export interface StatsSources {
  sampler?: HostSampler;
  layers?: WritableLayerUsage;
  now?: () => bigint;
}

/**
 * ContainerStats, ListContainerStats, PodSandboxStats, ListPodSandboxStats, ListMetricDescriptors,
 * ListPodSandboxMetrics, UpdateContainerResources, UpdatePodSandboxResources.
 *
 * Figures come from the cgroup and /proc files of each container's processes (one `docker ps` and
 * one `docker inspect` per list call, then only file reads), never from `docker stats`.
 */
export class StatsService {
  private readonly sampler: HostSampler;
  private readonly layers: WritableLayerUsage;
  private readonly now: () => bigint;
  private readonly cpuRates = new CpuRateTracker();

  constructor(
    private readonly ctx: ServerContext,
    sources: StatsSources = {},
  ) {
    this.sampler = sources.sampler ?? new HostSampler(ctx.docker.host);
    this.layers = sources.layers ?? new WritableLayerUsage((dir) => ctx.docker.host.diskUsage(dir));
    this.now = sources.now ?? nowNanos;
  }

  /** The stats of one container; NOT_FOUND for an unknown ID. A container that is not running has no CPU or memory figures. */
  async containerStats(request: ContainerStatsRequest__Output): Promise<ContainerStatsResponse> {
    const id = requireId(request.containerId, 'container_id');
    return runWithErrorContext(`getting the stats of container "${id}"`, async () => {
      const container = await findContainer(this.ctx.store, id);
      if (!container) throw notFound(`no container with ID "${id}" (list them with: mascri ps -a)`);
      return { stats: (await this.containerFigures(container)).stats };
    });
  }

  /** The stats of every running mascri container matching the filter. */
  async listContainerStats(request: ListContainerStatsRequest__Output): Promise<ListContainerStatsResponse> {
    return runWithErrorContext('listing container stats', async () => {
      const filter = request.filter;
      const { containers } = await this.listRunning();
      const wanted = containers.filter(
        ({ inspect, meta }) =>
          matchesIdPrefix(inspect.Id, filter?.id) && matchesIdPrefix(meta.sandboxId, filter?.podSandboxId) && matchesLabelSelector(meta.labels, filter?.labelSelector),
      );
      const figures = await Promise.all(wanted.map((container) => this.containerFigures(container)));
      return { stats: figures.map((f) => f.stats) };
    });
  }

  /** The stats of one pod: CPU, memory and processes summed over its containers, its network, and each container's stats. */
  async podSandboxStats(request: PodSandboxStatsRequest__Output): Promise<PodSandboxStatsResponse> {
    const id = requireId(request.podSandboxId, 'pod_sandbox_id');
    return runWithErrorContext(`getting the stats of pod sandbox "${id}"`, async () => {
      const sandbox = await findSandbox(this.ctx.store, id);
      if (!sandbox) throw notFound(`no pod sandbox with ID "${id}" (list them with: mascri pods)`);
      const members = (await this.listRunning()).containers.filter((c) => c.meta.sandboxId === sandbox.inspect.Id);
      return { stats: await this.podStats(sandbox, members) };
    });
  }

  /** The stats of every ready mascri pod matching the filter. */
  async listPodSandboxStats(request: ListPodSandboxStatsRequest__Output): Promise<ListPodSandboxStatsResponse> {
    return runWithErrorContext('listing pod sandbox stats', async () => {
      const filter = request.filter;
      const { sandboxes, containers } = await this.listRunning();
      const wanted = sandboxes.filter(({ inspect, meta }) => matchesIdPrefix(inspect.Id, filter?.id) && matchesLabelSelector(meta.labels, filter?.labelSelector));
      const stats = await Promise.all(wanted.map((sandbox) => this.podStats(sandbox, containers.filter((c) => c.meta.sandboxId === sandbox.inspect.Id))));
      return { stats };
    });
  }

  /** The metrics ListPodSandboxMetrics serves, with their help and label keys. */
  async listMetricDescriptors(): Promise<ListMetricDescriptorsResponse> {
    return { descriptors: metricDescriptors() };
  }

  /** cAdvisor-style metrics of every ready pod: the pod's own (pause container and network) and each container's. */
  async listPodSandboxMetrics(): Promise<ListPodSandboxMetricsResponse> {
    return runWithErrorContext('listing pod sandbox metrics', async () => {
      const { sandboxes, containers } = await this.listRunning();
      const podMetrics = await Promise.all(sandboxes.map((sandbox) => this.podMetrics(sandbox, containers.filter((c) => c.meta.sandboxId === sandbox.inspect.Id))));
      return { podMetrics };
    });
  }

  /** Changes a container's CPU and memory limits live (`docker update`); ContainerStatus shows them at once. */
  async updateContainerResources(request: UpdateContainerResourcesRequest__Output): Promise<Record<string, never>> {
    const id = requireId(request.containerId, 'container_id');
    return runWithErrorContext(`updating the resources of container "${id}"`, async () => {
      const container = await findContainer(this.ctx.store, id);
      if (!container) throw notFound(`no container with ID "${id}" (list them with: mascri ps -a)`);
      if (!request.linux) {
        if (request.windows) throw invalidArgument('windows resources were given, but mascri runs Linux containers: set linux instead');
        return {};
      }
      const warnings: string[] = [];
      const args = updateArgs(request.linux, await this.ctx.host.get(), warnings);
      for (const warning of warnings) this.ctx.log.warn('container resources adapted', { container: container.inspect.Id, warning });
      if (args.length > 0) {
        await this.ctx.docker.containers.update(container.inspect.Id, args);
        await this.ctx.store.refresh(container.inspect.Id); // ContainerStatus shows the new limits at once
      }
      return {};
    });
  }

  /**
   * UNIMPLEMENTED, with the reason: Docker gives every container a cgroup of its own and makes no
   * pod cgroup it could resize; the kubelet treats this call as best effort and resizes the
   * containers one by one with UpdateContainerResources.
   */
  async updatePodSandboxResources(request: UpdatePodSandboxResourcesRequest__Output): Promise<never> {
    const id = requireId(request.podSandboxId, 'pod_sandbox_id');
    const sandbox = await runWithErrorContext(`updating the resources of pod sandbox "${id}"`, () => findSandbox(this.ctx.store, id));
    if (!sandbox) throw notFound(`updating the resources of pod sandbox "${id}": no pod sandbox with that ID`);
    throw unimplemented(UNIMPLEMENTED_RPCS.RuntimeService.UpdatePodSandboxResources);
  }

  /** Running mascri sandboxes and containers, from the store as Docker answered (their pids; no docker call of its own). */
  private async listRunning(): Promise<{ sandboxes: SandboxRecord[]; containers: ContainerRecord[] }> {
    const running = (await this.ctx.store.allSettled()).filter((inspect) => inspect.State.Running);
    const live = running.map((inspect) => inspect.Id);
    this.sampler.retain(live);
    this.layers.retain(live);
    return splitRecords(running);
  }

  private async containerFigures(record: ContainerRecord): Promise<ContainerFigures> {
    const { inspect, meta } = record;
    const [sample, layer] = await Promise.all([
      inspect.State.Running ? this.sampler.cgroupSample(inspect.Id, inspect.State.Pid) : undefined,
      this.writableLayer(inspect as InspectWithLayer),
    ]);
    const stats: ContainerStats = {
      attributes: { id: inspect.Id, metadata: meta.metadata, labels: meta.labels, annotations: meta.annotations },
      writableLayer: layer?.usage,
    };
    if (sample) {
      stats.cpu = cpuUsage(sample, this.rate(inspect.Id, sample));
      stats.memory = memoryUsage(sample);
      stats.swap = swapUsage(sample);
      stats.io = ioUsage(sample);
    }
    return { stats, sample, layer: layer?.disk };
  }

  private async podStats(sandbox: SandboxRecord, members: ContainerRecord[]): Promise<PodSandboxStats> {
    const { inspect, meta } = sandbox;
    const running = inspect.State.Running;
    const [pauseSample, figures, net] = await Promise.all([
      running ? this.sampler.cgroupSample(inspect.Id, inspect.State.Pid) : undefined,
      Promise.all(members.map((member) => this.containerFigures(member))),
      running && inspect.HostConfig.NetworkMode !== 'host' ? this.sampler.netDev(inspect.State.Pid) : undefined,
    ]);
    const samples = [pauseSample, ...figures.map((f) => f.sample)].filter((s): s is CgroupSample => s !== undefined);
    const linux: NonNullable<PodSandboxStats['linux']> = { containers: figures.map((f) => f.stats) };
    if (samples.length > 0) {
      const pod = sumSamples(samples, this.now());
      linux.cpu = cpuUsage(pod, this.rate(`pod/${inspect.Id}`, pod));
      linux.memory = memoryUsage(pod);
      if (pod.processes !== undefined) linux.process = { timestamp: pod.timestampNanos.toString(), processCount: uint64(pod.processes) };
    }
    if (net) linux.network = networkUsage(net.timestampNanos, net.interfaces);
    return { attributes: { id: inspect.Id, metadata: meta.metadata, labels: meta.labels, annotations: meta.annotations }, linux };
  }

  private async podMetrics(sandbox: SandboxRecord, members: ContainerRecord[]): Promise<PodSandboxMetrics> {
    const { inspect, meta } = sandbox;
    const now = this.now();
    const podLabels = (container: string, of: DockerContainerInspect): MetricLabels => ({
      container,
      id: of.Id,
      image: of.Config.Image ?? '',
      name: of.Name.replace(/^\//, ''),
      namespace: meta.metadata.namespace,
      pod: meta.metadata.name,
    });
    const [pauseSample, pauseLayer, net, containerMetricsList] = await Promise.all([
      this.sampler.cgroupSample(inspect.Id, inspect.State.Pid),
      this.writableLayer(inspect as InspectWithLayer),
      inspect.HostConfig.NetworkMode !== 'host' ? this.sampler.netDev(inspect.State.Pid) : undefined,
      Promise.all(
        members.map(async (member): Promise<ContainerMetrics> => {
          const figures = await this.containerFigures(member);
          const labels = podLabels(member.meta.metadata.name, member.inspect);
          labels.image = member.meta.image || labels.image;
          const facts = { sample: figures.sample, layer: figures.layer, startedAtNanos: startedAt(member.inspect), spec: containerSpec(member.inspect.HostConfig) };
          return { containerId: member.inspect.Id, metrics: containerMetrics(labels, facts, now) };
        }),
      ),
    ]);
    const labels = podLabels('POD', inspect);
    const metrics = [
      ...containerMetrics(labels, { sample: pauseSample, layer: pauseLayer?.disk, startedAtNanos: startedAt(inspect), spec: containerSpec(inspect.HostConfig) }, now),
      ...(net ? networkMetrics(labels, net.timestampNanos, net.interfaces) : []),
    ];
    return { podSandboxId: inspect.Id, metrics, containerMetrics: containerMetricsList };
  }

  private rate(key: string, sample: CgroupSample): bigint | undefined {
    return sample.cpu ? this.cpuRates.rate(key, { timestampNanos: sample.timestampNanos, usageNanos: sample.cpu.usageNanos }) : undefined;
  }

  private async writableLayer(inspect: InspectWithLayer): Promise<{ usage: FilesystemUsage; disk: DiskUsage } | undefined> {
    const upperDir = inspect.GraphDriver?.Data?.UpperDir;
    if (!upperDir) return undefined;
    const disk = await this.layers.usage(inspect.Id, upperDir);
    if (!disk) return undefined;
    return {
      disk,
      usage: { timestamp: this.now().toString(), fsId: { mountpoint: layerMountpoint(upperDir) }, usedBytes: uint64(disk.bytes), inodesUsed: uint64(disk.inodes) },
    };
  }
}

function startedAt(inspect: DockerContainerInspect): bigint | undefined {
  const nanos = BigInt(dockerTimeToNanos(inspect.State.StartedAt));
  return nanos > 0n ? nanos : undefined;
}

function requireId(id: string | undefined, field: string): string {
  if (!id) throw invalidArgument(`${field} is empty`);
  return id;
}
