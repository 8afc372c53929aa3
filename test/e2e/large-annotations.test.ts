/**
 * Labels and annotations as large as Kubernetes allows (256 KiB of annotations per object): stored on
 * the Docker containers through a label file, returned byte for byte, also by a restarted mascri.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MascriServer, TestPods, dockerInspect, shellContainer, setUpServerWithBusybox } from '../helpers.js';

/** ~240 KiB in all: 140 keys of 1 KiB and one value of ~100 KiB, with multibyte text. */
function podAnnotations(): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (let i = 0; i < 140; i++) annotations[`example.com/note-${i}`] = `${i}:` + 'é€😀ab'.repeat(85);
  annotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify({ data: 'line one\nline "two" é😀\\'.repeat(3700) });
  return annotations;
}

const bytes = (record: Record<string, string>) => Object.entries(record).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

describe('labels and annotations of any size Kubernetes allows', () => {
  let server: MascriServer;
  const pods = new TestPods(() => server);

  setUpServerWithBusybox(pods, (started) => (server = started));

  test('a pod with ~240 KiB of annotations and a container with a 100 KiB one start, and the statuses return them exactly, also after a restart', async () => {
    const annotations = podAnnotations();
    const size = bytes(annotations);
    assert.ok(size > 235 * 1024 && size < 256 * 1024, `${size} bytes of pod annotations`);
    const labels = { app: 'big', 'example.com/multi-line': 'first\nsecond\r\nthird', 'example.com/padded': '  x  ' };
    const started = Date.now();
    const { id: podId, config: podConfig } = await pods.pod('big', { labels, annotations });
    const containerAnnotations = { 'example.com/blob': 'x'.repeat(100 * 1024 - 20) + '😀😀😀', small: 'y' };
    const containerLabels = { role: 'worker', 'example.com/multi-line': 'a\nb' };
    const containerId = await pods.container(podId, podConfig, shellContainer('worker', 'sleep 1000', { labels: containerLabels, annotations: containerAnnotations }), true);
    assert.ok(Date.now() - started < 60_000);

    const expectSame = async (what: string) => {
      const pod = (await server.client.callRuntime('PodSandboxStatus', { podSandboxId: podId })).status!;
      assert.equal(pod.state, 'SANDBOX_READY', what);
      assert.deepEqual(pod.annotations, annotations, `${what}: PodSandboxStatus annotations`);
      assert.deepEqual(pod.labels, labels, `${what}: PodSandboxStatus labels`);
      const listed = (await server.client.callRuntime('ListPodSandbox', { filter: { id: podId } })).items;
      assert.equal(listed.length, 1);
      assert.deepEqual(listed[0]!.annotations, annotations, `${what}: ListPodSandbox annotations`);
      assert.deepEqual(listed[0]!.labels, labels);
      const container = (await server.client.callRuntime('ContainerStatus', { containerId })).status!;
      assert.equal(container.state, 'CONTAINER_RUNNING', what);
      assert.deepEqual(container.annotations, containerAnnotations, `${what}: ContainerStatus annotations`);
      assert.deepEqual(container.labels, containerLabels, `${what}: ContainerStatus labels`);
      const containers = (await server.client.callRuntime('ListContainers', { filter: { id: containerId } })).containers;
      assert.deepEqual(containers.map((c) => [c.annotations, c.labels]), [[containerAnnotations, containerLabels]]);
      const byLabel = (await server.client.callRuntime('ListContainers', { filter: { labelSelector: { 'example.com/multi-line': 'a\nb' } } })).containers;
      assert.deepEqual(byLabel.map((c) => c.id), [containerId], `${what}: a label with a line break selects`);
    };
    await expectSame('as created');

    // What Docker holds: no label too long for one label-file line, nothing stored twice, small labels mirrored.
    for (const id of [podId, containerId]) {
      const stored = (await dockerInspect(id))!.Config.Labels as Record<string, string>;
      for (const [key, value] of Object.entries(stored)) assert.ok(Buffer.byteLength(value) <= 32 * 1024, `${key}: ${Buffer.byteLength(value)} bytes`);
      assert.ok(bytes(stored) < 3 * (id === podId ? size : 100 * 1024), `labels of ${id.slice(0, 12)} take ${bytes(stored)} bytes`);
      const config = JSON.parse(stored['io.mascri.config']!) as Record<string, unknown>;
      assert.equal(config.annotations, undefined, 'the stored config does not repeat the annotations');
      assert.equal(config.labels, undefined, 'nor the labels');
    }
    const podLabels = (await dockerInspect(podId))!.Config.Labels as Record<string, string>;
    assert.equal(podLabels.app, 'big', 'a small user label is also set as-is');
    assert.equal(podLabels['example.com/padded'], '  x  ');
    assert.equal(podLabels['example.com/multi-line'], undefined, 'one with a line break is not');

    await server.stop();
    server = await MascriServer.start();
    await expectSame('after a restart of mascri serve');
  });
});
