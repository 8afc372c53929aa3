/** Static pods on a real kubelet whose runtime is mascri: running, networking, QoS cgroups, removal, failures. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { dockerInspect, waitFor } from '../helpers.js';
import { busybox, KubeletNode, staticPod, waitForNoDockerContainers } from './node.js';

let node: KubeletNode;

before(async () => {
  node = await KubeletNode.up();
});

after(async () => {
  await node?.down();
});

/** The cgroup (v1 memory controller's path, or the v2 path) a container's main process lives in. */
async function containerCgroup(containerId: string, controller = 'memory'): Promise<string> {
  const inspect = await dockerInspect(containerId.replace(/^docker:\/\//, ''));
  const pid = inspect?.State?.Pid as number;
  assert.ok(pid > 0, `container ${containerId} has no process`);
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const line = lines.find((l) => l.split(':')[1]?.split(',').includes(controller)) ?? lines.find((l) => l.startsWith('0::'));
  assert.ok(line, `no ${controller} cgroup for pid ${pid}: ${lines.join('; ')}`);
  return line.split(':').slice(2).join(':');
}

function cgroupFile(controller: string, path: string, file: string): string {
  return readFileSync(`/sys/fs/cgroup/${controller}${path}/${file}`, 'utf8').trim();
}

function criId(containerID: string | undefined): string {
  return (containerID ?? '').replace(/^[a-z]+:\/\//, '');
}

describe('a pod of two containers', () => {
  const name = 'web';
  test('runs, reports Running with the pod IP, and its containers share the network namespace', async () => {
    node.applyPod(
      staticPod(name, [
        { name: 'httpd', image: 'localhost:5000/httpd:latest', imagePullPolicy: 'IfNotPresent' },
        busybox('client', 'sleep 3600'),
      ]),
    );
    const pod = await node.waitForRunning(name);
    assert.match(pod.status.podIP ?? '', /^\d+\.\d+\.\d+\.\d+$/, 'the kubelet reports a pod IP');
    // mascri's view: the sandbox's IP is the one the kubelet reports.
    const { items } = await node.cri.callRuntime('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid } } });
    assert.equal(items.length, 1);
    const status = await node.cri.callRuntime('PodSandboxStatus', { podSandboxId: items[0]!.id });
    assert.equal(status.status?.network?.ip, pod.status.podIP);
    assert.equal(status.status?.state, 'SANDBOX_READY');
    // The second container reaches the first on localhost (through the kubelet's /run: ExecSync).
    const answer = await node.run(name, 'client', 'wget -q -O - http://127.0.0.1:80/');
    assert.equal(answer.status, 200, answer.body);
    assert.match(answer.body, /hello from mascri httpd/);
    // Both containers are in Docker, in the pause container's network namespace.
    for (const c of pod.status.containerStatuses ?? []) {
      const inspect = await dockerInspect(criId(c.containerID));
      assert.equal(inspect?.HostConfig?.NetworkMode, `container:${items[0]!.id}`);
    }
  });

  test('removing the manifest stops its containers within the grace period and leaves nothing in Docker', async () => {
    const pod = await node.pod(name);
    assert.ok(pod);
    const ids = (pod.status.containerStatuses ?? []).map((c) => criId(c.containerID));
    const started = Date.now();
    node.deletePod(name);
    await waitFor(
      'the containers to stop',
      async () => {
        for (const id of ids) {
          const inspect = await dockerInspect(id);
          if (inspect?.State?.Running) return undefined;
        }
        return true;
      },
      60_000,
    );
    // terminationGracePeriodSeconds is 5 (busybox sleep ignores SIGTERM as PID 1); allow for the kubelet's sync.
    assert.ok(Date.now() - started < 5_000 + 20_000, `stopped after ${Date.now() - started} ms`);
    await waitFor('the kubelet to forget the pod', async () => ((await node.pod(name)) ? undefined : true), 60_000);
    await waitForNoDockerContainers(node.podName(name));
  });
});

describe('QoS classes', () => {
  const pods = {
    guaranteed: { cpu: '200m', memory: '64Mi', limits: { cpu: '200m', memory: '64Mi' }, parent: (uid: string) => `/kubepods/pod${uid}` },
    burstable: { cpu: '100m', memory: '32Mi', limits: { cpu: '300m', memory: '96Mi' }, parent: (uid: string) => `/kubepods/burstable/pod${uid}` },
  } as const;

  test('Guaranteed, Burstable and BestEffort containers live in their pod cgroup with their limits', async () => {
    for (const [qos, p] of Object.entries(pods)) {
      node.applyPod(staticPod(`qos-${qos}`, [busybox('main', 'sleep 3600', { resources: { requests: { cpu: p.cpu, memory: p.memory }, limits: p.limits } })]));
    }
    node.applyPod(staticPod('qos-besteffort', [busybox('main', 'sleep 3600')]));
    for (const [qos, p] of Object.entries(pods)) {
      const pod = await node.waitForRunning(`qos-${qos}`);
      assert.equal(pod.status.qosClass?.toLowerCase(), qos);
      const id = criId(pod.status.containerStatuses?.[0]?.containerID);
      const expected = p.parent(pod.metadata.uid);
      const memoryCgroup = await containerCgroup(id, 'memory');
      assert.ok(memoryCgroup.startsWith(`${expected}/`), `${qos}: memory cgroup ${memoryCgroup} is under ${expected}`);
      const cpuCgroup = await containerCgroup(id, 'cpu');
      assert.ok(cpuCgroup.startsWith(`${expected}/`), `${qos}: cpu cgroup ${cpuCgroup} is under ${expected}`);
      const memoryLimit = Number(cgroupFile('memory', memoryCgroup, 'memory.limit_in_bytes'));
      assert.equal(memoryLimit, qos === 'guaranteed' ? 64 * 1024 * 1024 : 96 * 1024 * 1024);
      const quota = Number(cgroupFile('cpu', cpuCgroup, 'cpu.cfs_quota_us'));
      const period = Number(cgroupFile('cpu', cpuCgroup, 'cpu.cfs_period_us'));
      assert.equal(Math.round((quota / period) * 1000), qos === 'guaranteed' ? 200 : 300, `${qos}: cpu quota ${quota}/${period}`);
      const shares = Number(cgroupFile('cpu', cpuCgroup, 'cpu.shares'));
      assert.equal(shares, qos === 'guaranteed' ? 204 : 102);
      // The pod cgroup the kubelet made holds the pod-level limit too.
      const podMemoryLimit = Number(cgroupFile('memory', expected, 'memory.limit_in_bytes'));
      assert.equal(podMemoryLimit, memoryLimit, `${qos}: the pod cgroup's memory limit`);
    }
    const bestEffort = await node.waitForRunning('qos-besteffort');
    assert.equal(bestEffort.status.qosClass, 'BestEffort');
    const cgroup = await containerCgroup(criId(bestEffort.status.containerStatuses?.[0]?.containerID), 'memory');
    assert.ok(cgroup.startsWith(`/kubepods/besteffort/pod${bestEffort.metadata.uid}/`), `BestEffort memory cgroup ${cgroup}`);
    for (const qos of ['guaranteed', 'burstable', 'besteffort']) node.deletePod(`qos-${qos}`);
  });
});

describe('failures the kubelet reports', () => {
  test('an image that does not exist: ErrImagePull, then ImagePullBackOff, with mascri\'s message', async () => {
    node.applyPod(staticPod('no-image', [{ name: 'main', image: 'localhost:5000/no-such-image:v1', imagePullPolicy: 'IfNotPresent' }]));
    const pulled = await node.waitForPod('no-image', 'ErrImagePull', (pod) => /ErrImagePull|ImagePullBackOff/.test(pod.status.containerStatuses?.[0]?.state.waiting?.reason ?? ''));
    const waiting = pulled.status.containerStatuses?.[0]?.state.waiting;
    assert.match(waiting?.message ?? '', /localhost:5000\/no-such-image:v1/);
    assert.match(waiting?.message ?? '', /not found|does not exist|manifest unknown/i, `the message says why: ${waiting?.message}`);
    await node.waitForPod('no-image', 'ImagePullBackOff', (pod) => pod.status.containerStatuses?.[0]?.state.waiting?.reason === 'ImagePullBackOff');
    node.deletePod('no-image');
  });

  test('a container that exits 1 goes into CrashLoopBackOff and the previous attempt\'s log stays readable', async () => {
    node.applyPod(staticPod('crasher', [busybox('main', 'echo "attempt at $(date +%s)"; echo failing >&2; exit 1')]));
    const pod = await node.waitForPod('crasher', 'CrashLoopBackOff', (p) => p.status.containerStatuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff' && (p.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 180_000);
    const status = pod.status.containerStatuses![0]!;
    assert.equal(status.lastState?.terminated?.exitCode, 1);
    const previous = await node.containerLogs('crasher', 'main', 'previous=true');
    // stdout and stderr reach Docker through two pipes: their relative order is not kept.
    assert.deepEqual(previous.trim().split('\n').map((l) => l.replace(/\d+$/, 'N')).sort(), ['attempt at N', 'failing']);
    // mascri keeps the exited attempts: the latest has attempt = restartCount.
    const { containers } = await node.cri.callRuntime('ListContainers', { filter: { labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid } } });
    assert.ok(containers.some((c) => c.metadata?.attempt === status.restartCount || c.metadata?.attempt === status.restartCount - 1));
    assert.ok(containers.every((c) => c.state === 'CONTAINER_EXITED' || c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_CREATED'));
    node.deletePod('crasher');
  });
});

describe('annotations of the size Kubernetes allows', () => {
  test('a pod with about 240 KiB of annotations runs, and PodSandboxStatus returns them exactly', async () => {
    const annotations: Record<string, string> = { 'example.com/big': 'x'.repeat(100 * 1024) + 'é✓' };
    for (let i = 0; i < 14; i++) annotations[`example.com/part-${i}`] = `${i}:`.padEnd(10 * 1024, String.fromCharCode(97 + i));
    const total = Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    assert.ok(total > 235 * 1024 && total < 250 * 1024, `annotations total ${total} bytes`);
    node.applyPod(staticPod('annotated', [busybox('main', 'sleep 3600')], {}, { annotations }));
    const pod = await node.waitForRunning('annotated');
    const { items } = await node.cri.callRuntime('ListPodSandbox', { filter: { labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid } } });
    assert.equal(items.length, 1);
    const status = await node.cri.callRuntime('PodSandboxStatus', { podSandboxId: items[0]!.id });
    for (const [key, value] of Object.entries(annotations)) assert.equal(status.status?.annotations?.[key], value, `annotation ${key}`);
    node.deletePod('annotated');
  });
});
