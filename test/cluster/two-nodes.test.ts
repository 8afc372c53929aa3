/** Two Kubernetes nodes on one Docker engine, each with its own mascri instance. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, waitFor } from '../helpers.js';
import { execa } from 'execa';
import { busybox, Cluster, CLUSTER_DIR, httpd } from './cluster.js';

let cluster: Cluster;
const NODES = ['mascri-cluster-1', 'mascri-cluster-2'];

before(async () => {
  cluster = await Cluster.up(2);
});

after(async () => {
  await cluster?.down();
});

function countByNode(pods: Map<string, string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const node of pods.values()) counts[node] = (counts[node] ?? 0) + 1;
  return counts;
}

const spread = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'spread' },
  spec: {
    replicas: 6,
    selector: { matchLabels: { app: 'spread' } },
    template: {
      metadata: { labels: { app: 'spread' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { app: 'spread' } } }],
        containers: [httpd()],
      },
    },
  },
};

test('both nodes are Ready with mascri as their runtime', async () => {
  const nodes = await cluster.json<{ items: Array<{ metadata: { name: string }; status: { nodeInfo: { containerRuntimeVersion: string }; conditions: Array<{ type: string; status: string }> } }> }>(['get', 'nodes']);
  assert.deepEqual(nodes.items.map((n) => n.metadata.name).sort(), NODES);
  for (const node of nodes.items) {
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^mascri:\/\//);
    assert.ok(node.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'), `${node.metadata.name} Ready`);
  }
});

test('a Deployment of 6 with a topology spread constraint lands 3 on each node, and each mascri lists only its own node\'s pods', async () => {
  await cluster.apply(spread);
  await cluster.ok(['rollout', 'status', 'deployment/spread', '--timeout=180s'], { timeoutMs: 200_000 });
  const pods = await cluster.podNodes('app=spread');
  assert.deepEqual(countByNode(pods), { 'mascri-cluster-1': 3, 'mascri-cluster-2': 3 });
  for (const node of NODES) {
    const { items } = await cluster.cri(node).callRuntime('ListPodSandbox', { filter: { labelSelector: { app: 'spread' } } });
    const listed = items.filter((s) => s.state === 'SANDBOX_READY').map((s) => s.metadata?.name).sort();
    const expected = [...pods].filter(([, n]) => n === node).map(([name]) => name).sort();
    assert.deepEqual(listed, expected, `${node}'s mascri lists exactly its own pods`);
  }
});

test('a ClusterIP Service reaches the pods on both nodes from a pod', async () => {
  await cluster.ok(['expose', 'deployment/spread', '--port=80', '--name=spread']);
  await cluster.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' }, spec: { terminationGracePeriodSeconds: 1, containers: [busybox('client', 'exec sleep 3600')] } });
  await cluster.waitFor('pod/client', 'condition=Ready');
  const ip = (await cluster.ok(['get', 'service', 'spread', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  assert.match(ip, /^10\.96\./);
  // Each pod serves a page naming itself: write the hostname into its httpd's document root.
  const pods = await cluster.podNodes('app=spread');
  for (const name of pods.keys()) await cluster.ok(['exec', name, '--', 'sh', '-c', 'hostname > /www/index.html']);
  const seen = new Set<string>();
  await waitFor(
    'answers from pods on both nodes',
    async () => {
      const answer = await cluster.kubectl(['exec', 'client', '--', 'timeout', '10', 'wget', '-q', '-O', '-', `http://${ip}/`]); // this busybox's wget -T crashes
      if (answer.code === 0) seen.add(answer.stdout.trim());
      const nodes = new Set([...seen].map((pod) => pods.get(pod)));
      return nodes.has('mascri-cluster-1') && nodes.has('mascri-cluster-2') ? true : undefined;
    },
    120_000,
  );
  assert.ok([...seen].every((pod) => pods.has(pod)), `answers came from the Service's pods: ${[...seen].join(', ')}`);
  await cluster.ok(['delete', 'pod', 'client', '--wait=true']);
  await cluster.ok(['delete', 'service', 'spread']);
});

test('kubectl drain moves one node\'s pods to the other', async () => {
  await cluster.ok(['drain', 'mascri-cluster-2', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=180s'], { timeoutMs: 200_000 });
  // The cordoned node's taint takes it out of the spread (nodeTaintsPolicy Honor): all 6 go to the first.
  await waitFor(
    'all 6 pods Running on mascri-cluster-1',
    async () => {
      const pods = await cluster.json<{ items: Array<{ spec: { nodeName?: string }; status: { phase: string }; metadata: { deletionTimestamp?: string } }> }>(['get', 'pods', '-l', 'app=spread']);
      const live = pods.items.filter((p) => !p.metadata.deletionTimestamp);
      return live.length === 6 && live.every((p) => p.spec.nodeName === 'mascri-cluster-1' && p.status.phase === 'Running') ? true : undefined;
    },
    180_000,
  ).catch(async (error: Error) => {
    throw new Error(`${error.message}: ${await cluster.ok(['get', 'pods', '-l', 'app=spread', '-o', 'wide'])}`);
  });
  const { items } = await cluster.cri('mascri-cluster-2').callRuntime('ListPodSandbox', { filter: { labelSelector: { app: 'spread' } } });
  assert.equal(items.filter((s) => s.state === 'SANDBOX_READY').length, 0, 'no spread pod left running on the drained node');
  await cluster.ok(['uncordon', 'mascri-cluster-2']);
});

test('stopping one node\'s mascri makes only that node NotReady while the other keeps serving', async () => {
  const pidFile = join(CLUSTER_DIR, 'nodes', 'mascri-cluster-2', 'run', 'mascri.pid');
  process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
  try {
    await cluster.waitFor('node/mascri-cluster-2', 'condition=Ready=False', 120);
    const ready = (await cluster.ok(['get', 'node', 'mascri-cluster-1', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).trim();
    assert.equal(ready, 'True', 'the first node stays Ready');
    // The first node keeps serving: exec into one of its pods.
    const pods = await cluster.podNodes('app=spread');
    const onFirst = [...pods].find(([, node]) => node === 'mascri-cluster-1')![0];
    assert.equal(await cluster.ok(['exec', onFirst, '--', 'echo', 'still here']), 'still here\n');
  } finally {
    const up = await execa('bash', [join(ROOT, 'scripts', 'kube-up.sh'), '--nodes', '2'], { reject: false, timeout: 600_000 });
    assert.equal(up.exitCode, 0, String(up.stderr));
  }
  await cluster.waitFor('node/mascri-cluster-2', 'condition=Ready', 120);
  await cluster.ok(['delete', 'deployment', 'spread', '--wait=true']);
  await cluster.waitForNoDockerContainers('spread-');
});
