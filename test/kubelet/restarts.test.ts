/** Restarting the kubelet, then mascri, under running pods: no container restarts, logs stay whole. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dockerInspect, waitFor } from '../helpers.js';
import { busybox, KubeletNode, staticPod, type KubePod } from './node.js';

let node: KubeletNode;
let pod: KubePod;
/** Docker's StartedAt of each container, by container ID, when the pod first ran. */
const startedAt = new Map<string, string>();

before(async () => {
  node = await KubeletNode.up();
  node.applyPod(staticPod('steady', [busybox('counter', 'i=0; while true; do i=$((i+1)); echo "count $i"; usleep 200000; done'), busybox('idle', 'exec sleep 3600')]));
  pod = await node.waitForRunning('steady');
  for (const c of pod.status.containerStatuses ?? []) {
    const id = (c.containerID ?? '').replace(/^[a-z]+:\/\//, '');
    startedAt.set(id, (await dockerInspect(id))?.State?.StartedAt as string);
  }
});

after(async () => {
  await node?.down();
});

function logFile(): string {
  return join(node.dir, 'pod-logs', `default_${pod.metadata.name}_${pod.metadata.uid}`, 'counter', '0.log');
}

/** The numbers the counter container logged so far, in file order. */
function counted(): number[] {
  if (!existsSync(logFile())) return [];
  return readFileSync(logFile(), 'utf8')
    .split('\n')
    .map((line) => /^\S+ stdout F count (\d+)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => Number(match[1]));
}

/** Waits until the counter has logged `more` lines past what it has now. */
async function waitForMoreLines(more: number): Promise<void> {
  const target = (counted().at(-1) ?? 0) + more;
  await waitFor(`count ${target} in the log`, async () => ((counted().at(-1) ?? 0) >= target ? true : undefined), 60_000);
}

/** Every container still the same Docker container, started once, and the kubelet counting no restart. */
async function assertNothingRestarted(): Promise<void> {
  const now = await node.waitForRunning('steady');
  for (const c of now.status.containerStatuses ?? []) {
    assert.equal(c.restartCount, 0, `${c.name} restart count`);
    const id = (c.containerID ?? '').replace(/^[a-z]+:\/\//, '');
    assert.ok(startedAt.has(id), `${c.name} is still container ${id.slice(0, 12)}`);
    const inspect = await dockerInspect(id);
    assert.equal(inspect?.State?.Running, true);
    assert.equal(inspect?.State?.StartedAt, startedAt.get(id), `${c.name} was not started again`);
  }
  const { containers } = await node.cri.callRuntime('ListContainers', { filter: { labelSelector: { 'io.kubernetes.pod.uid': pod.metadata.uid } } });
  assert.equal(containers.length, 2, 'mascri lists the two containers and no new attempt');
}

function assertWholeLog(): void {
  const numbers = counted();
  assert.ok(numbers.length > 0);
  const gaps = numbers.flatMap((n, i) => (n === i + 1 ? [] : [`line ${i + 1}: count ${n} (${numbers.slice(Math.max(0, i - 3), i + 3).join(',')})`]));
  assert.deepEqual(gaps.slice(0, 5), [], 'the counter\'s log has every count once, in order');
}

test('restarting the kubelet restarts no container', async () => {
  await waitForMoreLines(5);
  await node.restartKubelet();
  assert.ok(await node.healthy());
  // Let the new kubelet sync the pod a few times: the counter goes on meanwhile.
  await waitForMoreLines(25);
  await assertNothingRestarted();
  assertWholeLog();
});

test('restarting mascri under a running kubelet restarts no container, the kubelet stays healthy, and the log stays whole', async () => {
  await node.restartMascri();
  await waitForMoreLines(25);
  assert.ok(await node.healthy(), 'the kubelet is healthy');
  await assertNothingRestarted();
  assertWholeLog();
  // The kubelet's own log reader sees the lines written while mascri was down too.
  const text = await node.containerLogs('steady', 'counter');
  const numbers = text.trim().split('\n').map((line) => Number(line.replace('count ', '')));
  assert.deepEqual(numbers, numbers.map((_, i) => i + 1), 'the kubelet reads every count once, in order');
});
