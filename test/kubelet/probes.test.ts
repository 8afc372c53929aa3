/** Probes run by a real kubelet through mascri: exec liveness restarts, httpGet readiness, exec timeouts. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { waitFor } from '../helpers.js';
import { busybox, KubeletNode, staticPod } from './node.js';

let node: KubeletNode;

before(async () => {
  // debug: mascri logs every RPC with its duration, which the timeout test reads.
  node = await KubeletNode.up({ env: { MASCRI_LOG_LEVEL: 'debug' } });
});

after(async () => {
  await node?.down();
});

test('an exec liveness probe that starts failing makes the kubelet restart the container once (attempt 1 in mascri)', async () => {
  // The first attempt turns unhealthy after a few seconds; the restarted one (which finds the
  // marker in the emptyDir, kept across restarts) stays healthy, so the count stops at 1.
  const script = 'touch /tmp/healthy; if [ -f /data/restarted ]; then exec sleep 3600; fi; touch /data/restarted; sleep 4; rm /tmp/healthy; exec sleep 3600';
  node.applyPod(
    staticPod('liveness', [
      busybox('main', script, {
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 5 },
      }),
    ], { volumes: [{ name: 'data', emptyDir: {} }], terminationGracePeriodSeconds: 1 }),
  );
  const pod = await node.waitForPod('liveness', 'restarted once and running', (p) => {
    const c = p.status.containerStatuses?.[0];
    return c !== undefined && c.restartCount === 1 && c.state.running !== undefined && c.ready;
  });
  const status = pod.status.containerStatuses![0]!;
  assert.equal(status.lastState?.terminated?.exitCode, 137, 'the unhealthy attempt was killed');
  const { containers } = await node.cri.callRuntime('ListContainers', { filter: { labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid } } });
  const running = containers.filter((c) => c.state === 'CONTAINER_RUNNING');
  assert.equal(running.length, 1);
  assert.equal(running[0]!.metadata?.attempt, 1, 'the running container is attempt 1');
  assert.equal(status.containerID, `mascri://${running[0]!.id}`, 'the kubelet names containers by the runtime mascri reports');
  assert.ok(node.kubeletLog().includes('failed liveness probe, will be restarted'), 'the kubelet logged the restart');
});

test('an httpGet readiness probe: ready on a page that answers, not ready on one that does not', async () => {
  node.applyPod(
    staticPod('readiness', [
      { name: 'good', image: 'localhost:5000/httpd:latest', imagePullPolicy: 'IfNotPresent', readinessProbe: { httpGet: { path: '/', port: 80 }, periodSeconds: 1 } },
      busybox('bad', 'exec sleep 3600', { readinessProbe: { httpGet: { path: '/missing', port: 80 }, periodSeconds: 1 } }),
    ]),
  );
  const pod = await node.waitForPod('readiness', 'good ready, bad running', (p) => {
    const good = p.status.containerStatuses?.find((c) => c.name === 'good');
    const bad = p.status.containerStatuses?.find((c) => c.name === 'bad');
    return Boolean(good?.ready && bad?.state.running);
  });
  // The bad probe hits the same httpd (shared network namespace) on a missing page: a 404.
  await waitFor('the bad probe to fail', async () => (/Probe failed.*probeType="Readiness".*readiness.*containerName="bad"/.test(node.kubeletLog()) ? true : undefined), 60_000);
  const bad = (await node.pod('readiness'))!.status.containerStatuses!.find((c) => c.name === 'bad')!;
  assert.equal(bad.ready, false);
  assert.ok(pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'False'));
});

test('an exec probe with timeoutSeconds 1 on a command that sleeps times out in about a second', async () => {
  node.applyPod(
    staticPod('slow-probe', [busybox('main', 'exec sleep 3600', { readinessProbe: { exec: { command: ['sleep', '30'] }, timeoutSeconds: 1, periodSeconds: 5 } })]),
  );
  await node.waitForPod('slow-probe', 'running', (p) => p.status.containerStatuses?.[0]?.state.running !== undefined);
  const line = await waitFor(
    'a timed-out probe in the kubelet log',
    async () => node.kubeletLog().split('\n').find((l) => l.includes('Probe failed') && l.includes('slow-probe') && /timed out/.test(l)),
    60_000,
  );
  assert.match(line, /sleep 30.*timed out after 1s/);
  // mascri answered that ExecSync with DEADLINE_EXCEEDED after about the second asked, not after 30.
  const execs = node
    .mascriLog()
    .split('\n')
    .filter((l) => l.includes('"ExecSync"') || l.includes('/ExecSync'))
    .map((l) => JSON.parse(l) as { ms?: number; code?: string })
    .filter((entry) => entry.code === 'DeadlineExceeded' || entry.code === 'DEADLINE_EXCEEDED' || entry.code === '4');
  assert.ok(execs.length > 0, 'mascri logged a timed-out ExecSync');
  for (const entry of execs) assert.ok((entry.ms ?? 0) >= 900 && (entry.ms ?? 0) < 5000, `ExecSync took ${entry.ms} ms`);
  const pod = await node.pod('slow-probe');
  assert.equal(pod?.status.containerStatuses?.[0]?.ready, false);
});
