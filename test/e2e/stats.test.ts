/** Stats and resource updates end to end: figures read from the real cgroups, `docker update`, and the stats/statsp/update commands. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { BIN, MascriServer, TestPods, dockerInspect, shellContainer, waitFor, setUpServerWithBusybox } from '../helpers.js';

const CPU_LOOP = 'while :; do :; done';
const MiB = 1024 * 1024;

/** A file of the container's cgroup, read from the host: `v1` under the controller's hierarchy, else `v2` in the unified one. */
function cgroupFile(pid: number, controller: string, v1: string, v2: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const own = lines.find((line) => line.split(':')[1]?.split(',').includes(controller));
  if (own) {
    const path = own.split(':').slice(2).join(':');
    const mount = ['/sys/fs/cgroup/' + controller, '/sys/fs/cgroup/cpu,cpuacct'].find((dir) => existsSync(`${dir}${path}/${v1}`));
    if (!mount) throw new Error(`no ${v1} for ${path}`);
    return readFileSync(`${mount}${path}/${v1}`, 'utf8').trim();
  }
  const unified = lines.find((line) => line.startsWith('0::'))!.slice(3);
  return readFileSync(`/sys/fs/cgroup${unified}/${v2}`, 'utf8').trim();
}

describe('stats and resource updates', () => {
  let server: MascriServer;
  const pods = new TestPods(() => server);
  const pod = pods.pod.bind(pods);
  const run = (podId: string, podConfig: Record<string, unknown>, config: Record<string, unknown>, start = true) => pods.container(podId, podConfig, config, start);

  setUpServerWithBusybox(pods, (started) => (server = started));

  /** Removes a pod and its containers: busy loops must not slow the tests after them. */
  async function removePod(id: string): Promise<void> {
    await server.client.callRuntime('RemovePodSandbox', { podSandboxId: id });
  }

  async function containerStats(id: string) {
    return (await server.client.callRuntime('ContainerStats', { containerId: id })).stats!;
  }

  test('a CPU loop: cumulative CPU rises, usage_nano_cores from the second sample, memory and writable layer are non-zero', async () => {
    const { id: podId, config: podConfig } = await pod('cpu');
    const id = await run(podId, podConfig, shellContainer('burner', `dd if=/dev/zero of=/scratch bs=1024 count=512 2>/dev/null; ${CPU_LOOP}`, { labels: { role: 'burner' }, annotations: { a: 'b' } }));
    const first = await waitFor('the burner to have used CPU', async () => {
      const stats = await containerStats(id);
      return BigInt(stats.cpu?.usageCoreNanoSeconds?.value ?? '0') > 0n ? stats : undefined;
    });
    // The rate needs a second sample far enough from the first (the tracker's window): wait for it to be there.
    const second = await waitFor('a CPU rate from a later sample', async () => {
      const stats = await containerStats(id);
      return stats.cpu?.usageNanoCores && BigInt(stats.cpu.timestamp) > BigInt(first.cpu!.timestamp) ? stats : undefined;
    });
    assert.deepEqual(second.attributes, { id, metadata: { name: 'burner', attempt: 0 }, labels: { role: 'burner' }, annotations: { a: 'b' } });
    const cpu1 = BigInt(first.cpu!.usageCoreNanoSeconds!.value);
    const cpu2 = BigInt(second.cpu!.usageCoreNanoSeconds!.value);
    assert.ok(cpu1 > 0n && cpu2 > cpu1, `cumulative CPU rises: ${cpu1} -> ${cpu2}`);
    assert.ok(BigInt(second.cpu!.timestamp) > BigInt(first.cpu!.timestamp));
    const nanoCores = BigInt(second.cpu!.usageNanoCores!.value);
    assert.ok(nanoCores > 200_000_000n, `a busy loop uses a good part of a core: ${nanoCores} nanocores`);
    assert.ok(BigInt(second.memory!.workingSetBytes!.value) > 0n);
    assert.ok(BigInt(second.memory!.usageBytes!.value) >= BigInt(second.memory!.workingSetBytes!.value));
    assert.ok(BigInt(second.memory!.timestamp) > 0n);
    assert.equal(second.memory!.availableBytes, null, 'no limit, no available bytes');
    const layer = await waitFor('the writable layer figure', async () => {
      const stats = await containerStats(id);
      return stats.writableLayer && BigInt(stats.writableLayer.usedBytes!.value) >= 512n * 1024n ? stats.writableLayer : undefined;
    });
    assert.ok(BigInt(layer.inodesUsed!.value) >= 2n, 'the upper directory and /scratch');
    assert.ok(layer.fsId!.mountpoint.length > 0);
    await removePod(podId);
  });

  test('UpdateContainerResources: new memory and CPU limits reach the cgroup and ContainerStatus', async () => {
    const { id: podId, config: podConfig } = await pod('update');
    const id = await run(podId, podConfig, shellContainer('resized', 'sleep 1000', { linux: { resources: { memoryLimitInBytes: String(128 * MiB) } } }));
    const pid = (await dockerInspect(id))!.State.Pid as number;
    assert.equal(cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(128 * MiB));

    await server.client.callRuntime('UpdateContainerResources', {
      containerId: id,
      linux: { memoryLimitInBytes: String(64 * MiB), cpuPeriod: '100000', cpuQuota: '50000', oomScoreAdj: '100' },
    });
    assert.equal(cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(64 * MiB), 'the cgroup has the new memory limit');
    const quota = cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us', 'cpu.max');
    assert.ok(quota === '50000' || quota === '50000 100000', `the cgroup has the new CPU quota: ${quota}`);

    const resources = (await server.client.callRuntime('ContainerStatus', { containerId: id })).status!.resources!.linux!;
    assert.equal(resources.memoryLimitInBytes, String(64 * MiB));
    assert.equal(resources.cpuQuota, '50000');
    assert.equal(resources.cpuPeriod, '100000');
    const stats = await containerStats(id);
    const available = BigInt(stats.memory!.availableBytes!.value);
    assert.equal(available + BigInt(stats.memory!.workingSetBytes!.value), BigInt(64 * MiB), 'available = limit - working set');

    await assert.rejects(server.client.callRuntime('UpdateContainerResources', { containerId: 'f'.repeat(64), linux: { memoryLimitInBytes: String(64 * MiB) } }), (error: { code: number }) => error.code === GrpcCode.NOT_FOUND);
    await assert.rejects(server.client.callRuntime('UpdatePodSandboxResources', { podSandboxId: podId }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.UNIMPLEMENTED);
      assert.match(error.details, /pod-level cgroup/);
      return true;
    });
  });

  test('ListContainerStats: running mascri containers only, filtered by ID prefix, pod and labels', async () => {
    const a = await pod('list-a');
    const b = await pod('list-b');
    const front = await run(a.id, a.config, shellContainer('front', 'sleep 1000', { labels: { tier: 'front' } }));
    const back = await run(a.id, a.config, shellContainer('back', 'sleep 1000', { labels: { tier: 'back' } }));
    const other = await run(b.id, b.config, shellContainer('other', 'sleep 1000', { labels: { tier: 'front' } }));
    const createdOnly = await run(b.id, b.config, shellContainer('created', 'sleep 1000'), false);
    const ids = async (filter: Record<string, unknown>) => (await server.client.callRuntime('ListContainerStats', { filter })).stats.map((s) => s.attributes!.id).sort();
    const mine = [front, back, other].sort();
    const all = await ids({});
    assert.deepEqual(all.filter((id) => [...mine, createdOnly].includes(id)), mine, 'created-only containers have no stats');
    assert.ok(!all.includes(a.id) && !all.includes(b.id), 'sandboxes are not containers');
    assert.deepEqual(await ids({ id: front.slice(0, 10) }), [front]);
    assert.deepEqual(await ids({ podSandboxId: a.id }), [front, back].sort());
    assert.deepEqual(await ids({ podSandboxId: b.id.slice(0, 12) }), [other]);
    assert.deepEqual(await ids({ podSandboxId: a.id, labelSelector: { tier: 'front' } }), [front]);
    assert.deepEqual((await ids({ labelSelector: { tier: 'front' } })).filter((id) => mine.includes(id)), [front, other].sort());

    const stopped = await containerStats(createdOnly);
    assert.equal(stopped.attributes!.id, createdOnly);
    assert.equal(stopped.cpu, null, 'a container that is not running has no CPU figures');
    await assert.rejects(server.client.callRuntime('ContainerStats', { containerId: a.id }), (error: { code: number }) => error.code === GrpcCode.NOT_FOUND);
  });

  test('PodSandboxStats and ListPodSandboxStats: CPU, memory, network, processes and the containers', async () => {
    const { id: podId, config: podConfig } = await pod('podstats', { labels: { suite: 'e2e', stats: 'pod' } });
    const gateway = 'route -n | awk \'$1=="0.0.0.0"{print $2}\'';
    const pinger = await run(podId, podConfig, shellContainer('pinger', `ping -c 3 -W 1 $(${gateway}) >/dev/null 2>&1; sleep 1000`));
    const burner = await run(podId, podConfig, shellContainer('burner', CPU_LOOP));
    const stats = await waitFor('pod network traffic', async () => {
      const { stats } = await server.client.callRuntime('PodSandboxStats', { podSandboxId: podId });
      return BigInt(stats!.linux?.network?.defaultInterface?.txBytes?.value ?? '0') > 0n ? stats! : undefined;
    });
    assert.equal(stats.attributes!.id, podId);
    assert.deepEqual(stats.attributes!.labels, { suite: 'e2e', stats: 'pod' });
    const linux = stats.linux!;
    assert.equal(linux.network!.defaultInterface!.name, 'eth0');
    assert.ok(BigInt(linux.network!.defaultInterface!.rxBytes!.value) > 0n, 'ping replies came back');
    assert.equal(linux.network!.defaultInterface!.rxErrors!.value, '0');
    assert.ok(linux.network!.interfaces.every((i) => i.name !== 'lo'));
    assert.deepEqual(linux.containers.map((c) => c.attributes!.id).sort(), [pinger, burner].sort());
    const containerCpu = linux.containers.reduce((sum, c) => sum + BigInt(c.cpu!.usageCoreNanoSeconds!.value), 0n);
    assert.ok(BigInt(linux.cpu!.usageCoreNanoSeconds!.value) >= containerCpu, 'the pod counts at least its containers');
    assert.ok(BigInt(linux.memory!.workingSetBytes!.value) > 0n);
    assert.ok(Number(linux.process!.processCount!.value) >= 3, `pause, sleep and the loop: ${linux.process!.processCount!.value}`);

    const listed = await server.client.callRuntime('ListPodSandboxStats', { filter: { labelSelector: { stats: 'pod' } } });
    assert.deepEqual(listed.stats.map((s) => s.attributes!.id), [podId]);
    assert.deepEqual((await server.client.callRuntime('ListPodSandboxStats', { filter: { id: podId.slice(0, 12) } })).stats.map((s) => s.attributes!.id), [podId]);
    await assert.rejects(server.client.callRuntime('PodSandboxStats', { podSandboxId: 'f'.repeat(64) }), (error: { code: number }) => error.code === GrpcCode.NOT_FOUND);

    const { descriptors } = await server.client.callRuntime('ListMetricDescriptors', {});
    const keys = new Map(descriptors.map((d) => [d.name, d.labelKeys]));
    assert.ok(keys.has('container_cpu_usage_seconds_total') && keys.has('container_network_receive_bytes_total'));
    const { podMetrics } = await server.client.callRuntime('ListPodSandboxMetrics', {});
    const mine = podMetrics.find((p) => p.podSandboxId === podId)!;
    assert.ok(mine.metrics.some((m) => m.name === 'container_network_transmit_bytes_total' && BigInt(m.value!.value) > 0n));
    const burnerMetrics = mine.containerMetrics.find((c) => c.containerId === burner)!.metrics;
    const workingSet = burnerMetrics.find((m) => m.name === 'container_memory_working_set_bytes')!;
    assert.equal(workingSet.metricType, 'GAUGE');
    assert.equal(workingSet.labelValues.length, keys.get(workingSet.name)!.length);
    await removePod(podId);
  });

  test('ListContainerStats for 20 running containers answers well under a second', async (t) => {
    const { id: podId, config: podConfig } = await pod('bench');
    await Promise.all(Array.from({ length: 20 }, (_, i) => run(podId, podConfig, shellContainer(`c${i}`, 'sleep 1000'))));
    const timings: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const { stats } = await server.client.callRuntime('ListContainerStats', { filter: { podSandboxId: podId } });
      timings.push(performance.now() - started);
      assert.equal(stats.length, 20);
      assert.ok(stats.every((s) => BigInt(s.memory!.workingSetBytes!.value) > 0n));
    }
    timings.sort((x, y) => x - y);
    const median = timings[2]!;
    t.diagnostic(`ListContainerStats, 20 containers: median ${median.toFixed(1)} ms (min ${timings[0]!.toFixed(1)}, max ${timings[4]!.toFixed(1)})`);
    assert.ok(median < 1000, `median ${median} ms`);
    await removePod(podId);
  });

  test('the CLI: stats, statsp (tables and json), update, stats --watch', async () => {
    const { id: podId, config: podConfig } = await pod('cli');
    const name = (podConfig.metadata as { name: string }).name;
    const id = await run(podId, podConfig, shellContainer('looper', CPU_LOOP, { labels: { cli: 'yes' } }));
    await waitFor('the looper to have used CPU', async () => (BigInt((await containerStats(id)).cpu?.usageCoreNanoSeconds?.value ?? '0') > 0n ? true : undefined));

    const table = await server.cli(['stats', '--pod', podId.slice(0, 12)]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^CONTAINER\s+NAME\s+CPU %\s+MEM\s+DISK\s+INODES\s+SWAP$/);
    assert.equal(lines.length, 2, table.stdout);
    const [shortId, shownName, cpu, mem] = lines[1]!.split(/\s{2,}/);
    assert.equal(shortId, id.slice(0, 13));
    assert.equal(shownName, 'looper');
    assert.ok(Number(cpu) > 20, `CPU % of a busy loop: ${cpu}`);
    assert.match(mem!, /^\d+(\.\d+)?[kMG]?B$/);

    const json = await server.cli(['stats', '-o', 'json', '--label', 'cli=yes']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { stats: Array<{ attributes: { id: string }; cpu: { usageCoreNanoSeconds: { value: string } } }> };
    assert.deepEqual(parsed.stats.map((s) => s.attributes.id), [id]);
    assert.match(parsed.stats[0]!.cpu.usageCoreNanoSeconds.value, /^\d+$/);

    const pods = await server.cli(['statsp', podId.slice(0, 12)]);
    assert.equal(pods.code, 0, pods.stderr);
    const podLines = pods.stdout.trim().split('\n');
    assert.match(podLines[0]!, /^POD\s+POD ID\s+CPU %\s+MEM$/);
    assert.equal(podLines.length, 2, pods.stdout);
    assert.deepEqual(podLines[1]!.split(/\s{2,}/).slice(0, 2), [name, podId.slice(0, 13)]);
    const podYaml = await server.cli(['statsp', '--id', podId, '-o', 'yaml']);
    assert.equal(podYaml.code, 0, podYaml.stderr);
    assert.match(podYaml.stdout, /network:/);
    assert.match(podYaml.stdout, /processCount:/);

    const updated = await server.cli(['update', '--memory', '96m', '--cpu-quota', '20000', '--cpu-period', '100000', id.slice(0, 12)]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(updated.stdout.trim(), id);
    const resources = (await server.client.callRuntime('ContainerStatus', { containerId: id })).status!.resources!.linux!;
    assert.deepEqual([resources.memoryLimitInBytes, resources.cpuQuota], [String(96 * MiB), '20000']);
    const pid = (await dockerInspect(id))!.State.Pid as number;
    assert.equal(cgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'), String(96 * MiB));
    const nothing = await server.cli(['update', id]);
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /nothing to update/);
    const bad = await server.cli(['update', '--memory', 'lots', id]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid memory size \\"lots\\"/);

    // --watch redraws until it is stopped: stop it once it has drawn two frames.
    const watch = spawn(process.execPath, [BIN, '-r', server.endpoint, 'stats', '-w', '-s', '0.5', '--id', id], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let watched = '';
    watch.stdout.on('data', (chunk: Buffer) => (watched += chunk.toString()));
    const watchEnded = new Promise((resolve) => watch.once('close', resolve));
    const drawn = () => watched.split('\x1b[2J\x1b[H').filter((frame) => frame.trim() !== '');
    let frames: string[];
    try {
      // The frames as they were when the second was whole (a later one may be cut by the kill).
      frames = await waitFor('stats --watch to draw two frames', async () => (drawn().length >= 2 && watched.endsWith('\n') ? drawn() : undefined));
    } finally {
      watch.kill('SIGTERM');
      await watchEnded;
    }
    assert.ok(frames.length >= 2, `${frames.length} frames: ${JSON.stringify(watched)}`);
    for (const frame of frames) assert.match(frame, /looper/);
    await removePod(podId);
  });
});
