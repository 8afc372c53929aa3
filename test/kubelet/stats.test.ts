/**
 * The kubelet's /stats/summary on mascri, both ways the kubelet gathers it: pod and container stats
 * from the CRI alone (PodAndContainerStatsFromCRI) and, by default, the CRI's container stats with
 * cadvisor's view of the pod cgroups the containers live in. From the CRI, /metrics/cadvisor is made
 * of ListPodSandboxMetrics too.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { waitFor } from '../helpers.js';
import { busybox, KubeletNode, staticPod, type StatsSummary } from './node.js';

const PODS = ['stats-a', 'stats-b'];
let node: KubeletNode | undefined;

after(async () => {
  await node?.down();
});

/** A container that writes 512 KiB to its writable layer, logs a little and does a little work. */
function worker(name: string): Record<string, unknown> {
  return busybox(name, 'dd if=/dev/zero of=/tmp/fill bs=1024 count=512 2>/dev/null; while true; do echo tick; i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 1; done');
}

function complete(summary: StatsSummary, node: KubeletNode): string | undefined {
  for (const name of PODS) {
    const pod = summary.pods.find((p) => p.podRef.name === node.podName(name));
    if (!pod) return `${name} is not in the summary`;
    if (!(pod.cpu?.usageCoreNanoSeconds && pod.cpu.usageNanoCores !== undefined)) return `${name} has no pod CPU`;
    if (!pod.memory?.workingSetBytes) return `${name} has no pod memory`;
    const containers = pod.containers ?? [];
    if (containers.length !== 2) return `${name} lists ${containers.length} containers`;
    for (const c of containers) {
      if (!(c.cpu?.usageCoreNanoSeconds && c.cpu.usageNanoCores !== undefined)) return `${name}/${c.name} has no CPU`;
      if (!c.memory?.workingSetBytes) return `${name}/${c.name} has no memory`;
      if (!(c.rootfs?.usedBytes !== undefined && c.rootfs.usedBytes >= 512 * 1024)) return `${name}/${c.name} rootfs used ${c.rootfs?.usedBytes}`;
      if (!c.logs?.usedBytes) return `${name}/${c.name} has no log usage`;
    }
  }
  return undefined;
}

for (const fromCri of [false, true]) {
  describe(`stats ${fromCri ? 'from the CRI (PodAndContainerStatsFromCRI)' : 'from the CRI and the pod cgroups'}`, () => {
    test('/stats/summary lists every pod and container with CPU, memory, rootfs and log usage', async () => {
      node = await KubeletNode.up({ env: { KUBELET_STATS_FROM_CRI: String(fromCri) } });
      for (const name of PODS) node.applyPod(staticPod(name, [worker('one'), worker('two')]));
      for (const name of PODS) await node.waitForRunning(name);
      let problem: string | undefined;
      const current = node;
      const summary = await waitFor(
        'a complete summary',
        async () => {
          const s = await current.statsSummary();
          problem = complete(s, current);
          return problem ? undefined : s;
        },
        120_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${problem}`);
      });
      assert.equal(summary.node.nodeName, node.name);
      assert.ok((summary.node.memory?.workingSetBytes ?? 0) > 0);
      // The pod's memory covers its containers' (the pod cgroup holds them).
      for (const name of PODS) {
        const pod = summary.pods.find((p) => p.podRef.name === current.podName(name))!;
        const sum = (pod.containers ?? []).reduce((n, c) => n + (c.memory?.workingSetBytes ?? 0), 0);
        assert.ok((pod.memory?.workingSetBytes ?? 0) >= sum * 0.5, `${name}: pod memory ${pod.memory?.workingSetBytes} against containers ${sum}`);
      }
      if (fromCri) {
        // /metrics/cadvisor is then what ListPodSandboxMetrics sends, by ListMetricDescriptors' names and labels.
        const { status, body } = await current.secure('/metrics/cadvisor');
        assert.equal(status, 200, body.slice(0, 300));
        const lines = body.split('\n');
        const sample = (metric: string, ...labels: string[]) => lines.find((line) => line.startsWith(`${metric}{`) && labels.every((label) => line.includes(label)));
        assert.match(body, /^# TYPE container_cpu_usage_seconds_total counter$/m);
        for (const name of PODS) {
          const pod = `pod="${current.podName(name)}"`;
          for (const container of ['one', 'two']) {
            const line = sample('container_memory_working_set_bytes', pod, `container="${container}"`, 'namespace="default"');
            assert.ok(line && Number(line.split(' ')[1]) > 0, `${name}/${container}: working set on /metrics/cadvisor: ${line}`);
            assert.ok(sample('container_cpu_usage_seconds_total', pod, `container="${container}"`), `${name}/${container}: CPU on /metrics/cadvisor`);
          }
          assert.ok(sample('container_network_receive_bytes_total', pod, 'container="POD"', 'interface="eth0"'), `${name}: pod network on /metrics/cadvisor`);
        }
      }
      await node.down();
      node = undefined;
    });
  });
}
