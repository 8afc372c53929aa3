import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcCode, MascriError } from '../../common/errors.js';
import { Logger } from '../../common/logger.js';
import type { DockerAdapter } from '../../docker/adapter.js';
import { containerLabels, sandboxLabels } from '../../docker/labels.js';
import type { DockerContainerInspect } from '../../docker/types.js';
import type { ServerContext } from '../context.js';
import { describeHost } from '../../docker/host-grants.js';
import { HostSampler } from './sampler.js';
import { StatsService } from './stats-service.js';
import { WritableLayerUsage } from './writable-layer.js';

const POD = 'a'.repeat(64);
const WEB = 'b'.repeat(64);
const DB = 'c'.repeat(64);
const OTHER_POD = 'd'.repeat(64);

function inspect(id: string, pid: number, labels: Record<string, string>, extra: Partial<DockerContainerInspect> = {}): DockerContainerInspect {
  return {
    Id: id,
    Name: `/name-${id.slice(0, 4)}`,
    Created: '2026-01-01T00:00:00Z',
    Image: 'sha256:x',
    State: { Status: 'running', Running: true, OOMKilled: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: '2026-01-01T00:00:01Z', FinishedAt: '0001-01-01T00:00:00Z' },
    Config: { Labels: labels, Image: 'img' },
    HostConfig: { NetworkMode: 'container:x' },
    NetworkSettings: {},
    ...extra,
  };
}

function sandbox(id: string, pid: number, name: string, labels: Record<string, string> = {}): DockerContainerInspect {
  return inspect(id, pid, sandboxLabels({ metadata: { name, namespace: 'ns', uid: `uid-${name}`, attempt: 0 }, labels, annotations: {}, logDirectory: '', runtimeHandler: '', config: {} }), {
    HostConfig: { NetworkMode: 'bridge' },
  });
}

function container(id: string, pid: number, sandboxId: string, name: string, labels: Record<string, string> = {}): DockerContainerInspect {
  const result = inspect(
    id,
    pid,
    containerLabels({ sandboxId, metadata: { name, attempt: 0 }, labels, annotations: { note: name }, logPath: '', image: 'busybox', config: {}, pod: { name: 'p', namespace: 'ns', uid: 'u' } }),
  );
  return Object.assign(result, { GraphDriver: { Name: 'overlay2', Data: { UpperDir: `/var/lib/docker/overlay2/${id}/diff` } } });
}

/** A fake host: one cgroup v1 directory per container, named by its pid. */
function hostFiles(cpu: Record<number, number>): Record<string, string> {
  const files: Record<string, string> = {
    '/proc/self/mountinfo': [
      '33 31 0:30 / /cg/cpuacct rw - cgroup cgroup rw,cpuacct',
      '35 31 0:32 / /cg/memory rw - cgroup cgroup rw,memory',
      '39 31 0:36 / /cg/pids rw - cgroup cgroup rw,pids',
    ].join('\n'),
  };
  for (const [key, nanos] of Object.entries(cpu)) {
    const pid = Number(key);
    files[`/proc/${pid}/cgroup`] = `8:pids:/docker/${pid}\n4:memory:/docker/${pid}\n2:cpuacct:/docker/${pid}\n`;
    files[`/cg/cpuacct/docker/${pid}/cpuacct.usage`] = String(nanos);
    files[`/cg/memory/docker/${pid}/memory.usage_in_bytes`] = String(pid * 1000);
    files[`/cg/memory/docker/${pid}/memory.stat`] = `total_inactive_file ${pid * 100}\ntotal_rss ${pid * 10}\n`;
    files[`/cg/memory/docker/${pid}/memory.limit_in_bytes`] = pid === 20 ? '1000000' : '9223372036854771712';
    files[`/cg/pids/docker/${pid}/cgroup.procs`] = '1\n2\n';
  }
  files['/proc/10/net/dev'] = 'h1\nh2\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n  eth0: 500 5 1 0 0 0 0 0 700 7 2 0 0 0 0 0\n';
  return files;
}

function setup(all: DockerContainerInspect[], files: Record<string, string>) {
  let clock = 1_000_000_000_000n;
  const updates: Array<{ id: string; args: readonly string[] }> = [];
  const listCalls: unknown[] = [];
  const docker = {
    containers: {
      inspectOne: async (ref: string) => all.find((c) => c.Id.startsWith(ref)),
      inspect: async (refs: string[]) => all.filter((c) => refs.some((r) => c.Id.startsWith(r))),
      update: async (id: string, args: readonly string[]) => void updates.push({ id, args }),
    },
  } as unknown as DockerAdapter;
  const host = describeHost({ capBnd: '000001fffeffffff', oomScoreAdj: 0, info: { ServerVersion: '20.10.24', CgroupVersion: '1' } });
  const ctx = {
    docker,
    log: new Logger('error'),
    options: { podInfraImage: 'pause' },
    host: { get: async () => host },
    // The store stands in for Docker: every listing of it is counted.
    store: {
      refresh: async () => undefined,
      all: () => {
        listCalls.push([]);
        return all;
      },
      allSettled: async () => {
        listCalls.push([]);
        return all;
      },
      lookup: async (ref: string) => all.find((c) => c.Id.startsWith(ref)),
    },
  } as unknown as ServerContext;
  const now = () => clock;
  const service = new StatsService(ctx, {
    sampler: new HostSampler({ readProcFile: async (pid, name) => files[`/proc/${pid}/${name}`], readCgroupFile: async (path) => files[path] }, now),
    layers: new WritableLayerUsage(async () => ({ bytes: 8192n, inodes: 3n })),
    now,
  });
  return { service, updates, listCalls, tick: (seconds: number) => (clock += BigInt(seconds) * 1_000_000_000n) };
}

describe('StatsService with a fake host', () => {
  const all = [
    sandbox(POD, 10, 'web-pod', { app: 'web' }),
    container(WEB, 20, POD, 'web', { tier: 'front' }),
    container(DB, 30, POD, 'db', { tier: 'back' }),
    sandbox(OTHER_POD, 40, 'other'),
  ];

  test('ContainerStats: attributes, cumulative CPU, memory, writable layer; nanocores from the second sample', async () => {
    const files = hostFiles({ 10: 1, 20: 4_000_000_000, 30: 0, 40: 0 });
    const { service, tick } = setup(all, files);
    const first = (await service.containerStats({ containerId: WEB.slice(0, 12) })).stats!;
    assert.deepEqual(first.attributes, { id: WEB, metadata: { name: 'web', attempt: 0 }, labels: { tier: 'front' }, annotations: { note: 'web' } });
    assert.equal(first.cpu?.usageCoreNanoSeconds?.value, '4000000000');
    assert.equal(first.cpu?.usageNanoCores, undefined, 'no rate from one sample');
    assert.equal(first.memory?.workingSetBytes?.value, String(20 * 1000 - 20 * 100));
    assert.equal(first.memory?.availableBytes?.value, String(1_000_000 - 18_000), 'limit minus working set');
    assert.equal(first.memory?.rssBytes?.value, '200');
    assert.deepEqual(first.writableLayer?.fsId, { mountpoint: '/var/lib/docker' });
    assert.equal(first.writableLayer?.inodesUsed?.value, '3');
    tick(2);
    files['/cg/cpuacct/docker/20/cpuacct.usage'] = '5000000000';
    const second = (await service.containerStats({ containerId: WEB })).stats!;
    assert.equal(second.cpu?.usageNanoCores?.value, '500000000', 'one second of CPU in two seconds');
  });

  test('ContainerStats: unknown container is NOT_FOUND, empty ID INVALID_ARGUMENT', async () => {
    const { service } = setup(all, hostFiles({}));
    await assert.rejects(service.containerStats({ containerId: 'f'.repeat(64) }), (e: MascriError) => e.code === GrpcCode.NOT_FOUND);
    await assert.rejects(service.containerStats({ containerId: '' }), (e: MascriError) => e.code === GrpcCode.INVALID_ARGUMENT);
    await assert.rejects(service.containerStats({ containerId: POD }), (e: MascriError) => e.code === GrpcCode.NOT_FOUND, 'a sandbox is not a container');
  });

  test('ListContainerStats: only containers, filtered by ID prefix, pod prefix and labels, from one listing', async () => {
    const { service, listCalls } = setup(all, hostFiles({ 10: 0, 20: 1, 30: 1, 40: 0 }));
    const ids = async (filter: Record<string, unknown> | null) => (await service.listContainerStats({ filter: filter as never })).stats!.map((s) => s.attributes!.id).sort();
    assert.deepEqual(await ids(null), [WEB, DB]);
    assert.deepEqual(await ids({ id: 'bbb', podSandboxId: '', labelSelector: {} }), [WEB]);
    assert.deepEqual(await ids({ id: '', podSandboxId: 'aaaa', labelSelector: {} }), [WEB, DB]);
    assert.deepEqual(await ids({ id: '', podSandboxId: 'dddd', labelSelector: {} }), []);
    assert.deepEqual(await ids({ id: '', podSandboxId: '', labelSelector: { tier: 'back' } }), [DB]);
    assert.equal(listCalls.length, 5, 'one listing per call');
  });

  test('PodSandboxStats: CPU and memory summed over the pause and the containers, network, processes, container stats', async () => {
    const { service } = setup(all, hostFiles({ 10: 1, 20: 2, 30: 3, 40: 0 }));
    const stats = (await service.podSandboxStats({ podSandboxId: POD })).stats!;
    assert.equal(stats.attributes?.metadata?.name, 'web-pod');
    assert.deepEqual(stats.attributes?.labels, { app: 'web' });
    assert.equal(stats.linux?.cpu?.usageCoreNanoSeconds?.value, '6');
    assert.equal(stats.linux?.memory?.usageBytes?.value, String((10 + 20 + 30) * 1000));
    assert.equal(stats.linux?.memory?.availableBytes, undefined, 'a pod has no limit of its own');
    assert.equal(stats.linux?.process?.processCount?.value, '6');
    assert.deepEqual(stats.linux?.network?.defaultInterface, { name: 'eth0', rxBytes: { value: '500' }, rxErrors: { value: '1' }, txBytes: { value: '700' }, txErrors: { value: '2' } });
    assert.deepEqual(stats.linux?.containers?.map((c) => c.attributes?.metadata?.name).sort(), ['db', 'web']);
  });

  test('ListPodSandboxStats: filtered by ID prefix and labels', async () => {
    const { service } = setup(all, hostFiles({ 10: 1, 20: 2, 30: 3, 40: 4 }));
    const ids = async (filter: Record<string, unknown> | null) => (await service.listPodSandboxStats({ filter: filter as never })).stats!.map((s) => s.attributes!.id).sort();
    assert.deepEqual(await ids(null), [POD, OTHER_POD]);
    assert.deepEqual(await ids({ id: 'ddd', labelSelector: {} }), [OTHER_POD]);
    assert.deepEqual(await ids({ id: '', labelSelector: { app: 'web' } }), [POD]);
    const other = (await service.listPodSandboxStats({ filter: { id: 'ddd', labelSelector: {} } })).stats![0]!;
    assert.deepEqual(other.linux?.containers, []);
    assert.equal(other.linux?.network, undefined, 'its network namespace could not be read');
  });

  test('ListPodSandboxMetrics: label values match the descriptors\' label keys', async () => {
    const { service } = setup(all, hostFiles({ 10: 1, 20: 2_000_000_000, 30: 3, 40: 4 }));
    const descriptors = new Map((await service.listMetricDescriptors()).descriptors!.map((d) => [d.name!, d.labelKeys!]));
    const { podMetrics } = await service.listPodSandboxMetrics();
    const pod = podMetrics!.find((p) => p.podSandboxId === POD)!;
    assert.equal(pod.containerMetrics?.length, 2);
    for (const metric of [...pod.metrics!, ...pod.containerMetrics!.flatMap((c) => c.metrics!)]) {
      assert.equal(metric.labelValues!.length, descriptors.get(metric.name!)?.length, metric.name);
    }
    const web = pod.containerMetrics!.find((c) => c.containerId === WEB)!;
    const cpu = web.metrics!.find((m) => m.name === 'container_cpu_usage_seconds_total')!;
    assert.deepEqual([cpu.metricType, cpu.value?.value], ['COUNTER', '2']);
    assert.deepEqual(cpu.labelValues, ['web', WEB, 'busybox', 'name-bbbb', 'ns', 'web-pod']);
    const rx = pod.metrics!.find((m) => m.name === 'container_network_receive_bytes_total')!;
    assert.deepEqual([rx.value?.value, rx.labelValues!.at(-1), rx.labelValues![0]], ['500', 'eth0', 'POD']);
  });

  test('UpdateContainerResources: docker update with the create flags, oom_score_adj left out', async () => {
    const { service, updates } = setup(all, hostFiles({}));
    await service.updateContainerResources({
      containerId: WEB.slice(0, 8),
      linux: { cpuPeriod: '100000', cpuQuota: '50000', cpuShares: '0', memoryLimitInBytes: '67108864', oomScoreAdj: '500', cpusetCpus: '', cpusetMems: '', hugepageLimits: [], unified: {}, memorySwapLimitInBytes: '0' },
      windows: null,
      annotations: {},
    });
    assert.deepEqual(updates, [{ id: WEB, args: ['--cpu-period', '100000', '--cpu-quota', '50000', '--memory', '67108864', '--memory-swap', '67108864'] }]);
    await assert.rejects(
      service.updateContainerResources({ containerId: 'nope', linux: null, windows: null, annotations: {} }),
      (e: MascriError) => e.code === GrpcCode.NOT_FOUND,
    );
  });

  test('UpdatePodSandboxResources: UNIMPLEMENTED with the reason; NOT_FOUND for an unknown pod', async () => {
    const { service } = setup(all, hostFiles({}));
    await assert.rejects(service.updatePodSandboxResources({ podSandboxId: POD, overhead: null, resources: null }), (e: MascriError) => e.code === GrpcCode.UNIMPLEMENTED && /pod-level cgroup/.test(e.message));
    await assert.rejects(service.updatePodSandboxResources({ podSandboxId: 'nope', overhead: null, resources: null }), (e: MascriError) => e.code === GrpcCode.NOT_FOUND);
  });
});
