/**
 * Several `mascri serve` on one Docker engine (`--instance`, one per node): two named instances and
 * a default one each see, list, report, stream events for, stat and remove only their own pods and
 * containers; Docker names and labels carry the instance; removing everything on one leaves the
 * others' pods running.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import type { ContainerEventResponse__Output } from '../../src/cri/generated/runtime/v1/ContainerEventResponse.js';
import { BUSYBOX, MascriServer, TestPods, docker, dockerInspect, mascri, shellContainer, uniqueSuffix, waitFor } from '../helpers.js';

/** One server and what the suite made on it. */
interface Node {
  label: string;
  /** Its --instance ('' for the default server). */
  instance: string;
  server: MascriServer;
  pods: TestPods;
  podId: string;
  podConfig: Record<string, unknown>;
  containerId: string;
}

const isNotFound = (error: { code: number }) => error.code === GrpcCode.NOT_FOUND;

describe('several mascri servers on one Docker engine', () => {
  // Suffixed, so a run never meets containers a crashed earlier run left behind.
  const suffix = uniqueSuffix();
  const nodes: Node[] = [];
  let a: Node;
  let b: Node;
  let plain: Node;

  async function startNode(label: string, instance: string, how: 'flag' | 'env' | 'none'): Promise<Node> {
    const server = await MascriServer.start(
      how === 'flag' ? { extraArgs: ['--instance', instance] } : how === 'env' ? { env: { MASCRI_INSTANCE: instance } } : { env: { MASCRI_INSTANCE: '' } },
    );
    const node: Node = { label, instance, server, pods: new TestPods(() => node.server), podId: '', podConfig: {}, containerId: '' };
    nodes.push(node);
    return node;
  }

  before(async () => {
    a = await startNode('a', `a-${suffix}`, 'flag');
    b = await startNode('b', `b-${suffix}`, 'env');
    plain = await startNode('default', '', 'none');
    await a.server.client.callImage('PullImage', { image: { image: BUSYBOX } });
    for (const node of nodes) {
      // The same pod metadata on every node: names must not collide on the engine.
      const { id, config } = await node.pods.pod(`inst-${suffix}`, { metadata: { name: `inst-${suffix}`, namespace: 'e2e', uid: `uid-${suffix}`, attempt: 0 } });
      node.podId = id;
      node.podConfig = config;
      node.containerId = await node.pods.container(id, config, shellContainer('app', 'sleep 1000'), true);
    }
  });

  after(async () => {
    for (const node of nodes) await node.pods.cleanup();
    for (const node of nodes) await node.server.stop();
  });

  const others = (node: Node) => nodes.filter((other) => other !== node && other.podId !== '');

  test('the same pod on three servers gets three Docker names, each carrying its instance, and the instance label', async () => {
    const pod = `inst-${suffix}_e2e_uid-${suffix}_0`;
    for (const node of [a, b, plain]) {
      const pause = await dockerInspect(node.podId);
      const app = await dockerInspect(node.containerId);
      const tail = node.instance ? `_${node.instance}` : '';
      assert.equal(pause?.Name, `/k8s_POD_${pod}${tail}`, node.label);
      assert.equal(app?.Name, `/k8s_app_${pod}${tail}`, node.label);
      for (const inspect of [pause, app]) assert.equal(inspect?.Config.Labels['io.mascri.instance'], node.instance || undefined, node.label);
    }
  });

  test('ListPodSandbox, ListContainers and ListContainerStats answer only the server\'s own', async () => {
    for (const node of nodes) {
      const { items } = await node.server.client.callRuntime('ListPodSandbox', {});
      const { containers } = await node.server.client.callRuntime('ListContainers', {});
      const { stats } = await node.server.client.callRuntime('ListContainerStats', {});
      const { stats: podStats } = await node.server.client.callRuntime('ListPodSandboxStats', {});
      const listed = new Set([...items.map((p) => p.id), ...containers.map((c) => c.id), ...stats.map((s) => s.attributes?.id), ...podStats.map((s) => s.attributes?.id)]);
      assert.ok(items.some((p) => p.id === node.podId), `${node.label} lists its pod`);
      assert.ok(containers.some((c) => c.id === node.containerId), `${node.label} lists its container`);
      assert.ok(stats.some((s) => s.attributes?.id === node.containerId), `${node.label} has stats of its container`);
      for (const other of others(node)) {
        for (const id of [other.podId, other.containerId]) assert.ok(!listed.has(id), `${node.label} lists ${other.label}'s ${id.slice(0, 12)}`);
      }
      if (node.instance) {
        // A named instance's pods are all this suite's: exactly one.
        assert.deepEqual(items.map((p) => p.id), [node.podId]);
        assert.deepEqual(containers.map((c) => c.id), [node.containerId]);
      }
    }
  });

  test("servers started after the pods exist load only their own (the start-up listing is scoped too)", async () => {
    for (const node of [a, plain]) {
      // One server per instance: the node's server makes way for the new one, which serves the node from now on.
      await node.server.stop();
      const late = await MascriServer.start(node.instance ? { extraArgs: ['--instance', node.instance] } : { env: { MASCRI_INSTANCE: '' } });
      node.server = late;
      const { items } = await late.client.callRuntime('ListPodSandbox', {});
      const { containers } = await late.client.callRuntime('ListContainers', {});
      const ids = new Set([...items.map((p) => p.id), ...containers.map((c) => c.id)]);
      assert.ok(ids.has(node.podId) && ids.has(node.containerId), `a new ${node.label} server lists its pod and container`);
      for (const other of others(node)) assert.ok(!ids.has(other.podId) && !ids.has(other.containerId), `a new ${node.label} server lists ${other.label}'s`);
    }
  });

  test('a second server of an instance that is served already is refused at start, naming the first; nothing changes for the first', async () => {
    for (const node of [a, plain]) {
      const second = await mascri(['serve', '--listen', `unix://${node.server.socket}.second`, ...(node.instance ? ['--instance', node.instance] : [])], {
        env: { MASCRI_INSTANCE: node.instance },
        timeoutMs: 20_000,
      });
      assert.equal(second.code, 1, `${node.label}: ${second.stderr}`);
      const what = node.instance ? `instance "${node.instance}"` : 'the default instance \\(no --instance\\)';
      assert.match(second.stderr, new RegExp(`another mascri serve \\(pid ${node.server.proc.pid}, listening on ${node.server.endpoint}\\) already serves ${what} on this host`), node.label);
      assert.ok(!existsSync(`${node.server.socket}.second`), 'the refused server left no socket');
      const { items } = await node.server.client.callRuntime('ListPodSandbox', {});
      assert.ok(items.some((item) => item.id === node.podId), `${node.label}: the first server still serves its pod`);
    }
  });

  test("another instance's pod or container, by ID, prefix or Docker name, is NOT_FOUND; stop and remove of it change nothing", async () => {
    for (const node of nodes) {
      const client = node.server.client;
      for (const other of others(node)) {
        const pause = await dockerInspect(other.podId);
        for (const podSandboxId of [other.podId, other.podId.slice(0, 12), String(pause?.Name).slice(1)]) {
          await assert.rejects(client.callRuntime('PodSandboxStatus', { podSandboxId }), isNotFound, `${node.label}: PodSandboxStatus of ${other.label}'s ${podSandboxId}`);
          await assert.rejects(client.callRuntime('PodSandboxStats', { podSandboxId }), isNotFound);
          await assert.rejects(client.callRuntime('PortForward', { podSandboxId, port: [80] }), isNotFound);
          await assert.rejects(client.callRuntime('CreateContainer', { podSandboxId, config: shellContainer('intruder', 'true'), sandboxConfig: other.podConfig }), isNotFound);
        }
        for (const containerId of [other.containerId, other.containerId.slice(0, 12)]) {
          await assert.rejects(client.callRuntime('ContainerStatus', { containerId }), isNotFound, `${node.label}: ContainerStatus of ${other.label}'s`);
          await assert.rejects(client.callRuntime('ContainerStats', { containerId }), isNotFound);
          await assert.rejects(client.callRuntime('ExecSync', { containerId, cmd: ['true'] }), isNotFound);
          await assert.rejects(client.callRuntime('Exec', { containerId, cmd: ['true'], stdout: true }), isNotFound);
          await assert.rejects(client.callRuntime('Attach', { containerId, stdout: true }), isNotFound);
          await assert.rejects(client.callRuntime('StartContainer', { containerId }), isNotFound);
          await assert.rejects(client.callRuntime('ReopenContainerLog', { containerId }), isNotFound);
          await assert.rejects(client.callRuntime('UpdateContainerResources', { containerId, linux: { cpuShares: '512' } }), isNotFound);
        }
        // Absent for this server, so success (the CRI's idempotent stop and remove), and untouched.
        await client.callRuntime('StopContainer', { containerId: other.containerId, timeout: '0' });
        await client.callRuntime('RemoveContainer', { containerId: other.containerId });
        await client.callRuntime('StopPodSandbox', { podSandboxId: other.podId });
        await client.callRuntime('RemovePodSandbox', { podSandboxId: other.podId });
        for (const id of [other.podId, other.containerId]) assert.equal((await dockerInspect(id))?.State.Running, true, `${node.label} left ${other.label}'s ${id.slice(0, 12)} running`);
      }
    }
  });

  test('GetContainerEvents streams only the server\'s own containers', async () => {
    const seen = new Map<Node, ContainerEventResponse__Output[]>();
    const streams = nodes.map((node) => {
      const events: ContainerEventResponse__Output[] = [];
      seen.set(node, events);
      const stream = node.server.client.runtime.GetContainerEvents({});
      stream.on('data', (event: ContainerEventResponse__Output) => events.push(event));
      stream.on('error', () => undefined); // cancelled at the end
      return stream;
    });
    try {
      // Each server logs the stream as it subscribes it to its store: from then on every change reaches it.
      for (const node of nodes) {
        await waitFor(`${node.label}'s event stream`, async () => (/"msg":"stream opened"[^\n]*"method":"RuntimeService\/GetContainerEvents"/.test(node.server.logs) ? true : undefined));
      }
      const evented = new Map<Node, string>();
      for (const node of nodes) {
        const id = await node.pods.container(node.podId, node.podConfig, shellContainer(`evented-${uniqueSuffix()}`, 'sleep 1000'), true);
        evented.set(node, id);
      }
      // A marker per server, made after every other server's container: it is killed behind mascri's back, so its
      // stop reaches the server only through Docker's event stream, after the events of everything made before.
      const markers = new Map<Node, string>();
      for (const node of nodes) {
        const marker = await node.pods.container(node.podId, node.podConfig, shellContainer(`marker-${uniqueSuffix()}`, 'sleep 1000'), true);
        markers.set(node, marker);
        assert.equal((await docker(['kill', marker])).code, 0);
      }
      for (const node of nodes) {
        const events = seen.get(node)!;
        await waitFor(`${node.label}'s marker stopped`, async () => (events.some((e) => e.containerId === markers.get(node) && e.containerEventType === 'CONTAINER_STOPPED_EVENT') ? true : undefined));
        const own = events.filter((e) => e.containerId === evented.get(node)).map((e) => e.containerEventType);
        assert.deepEqual(own, ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT'], `${node.label}'s own container`);
        const foreign = new Set(others(node).flatMap((other) => [other.podId, other.containerId, evented.get(other), markers.get(other)]));
        const leaked = events.filter((e) => foreign.has(e.containerId));
        assert.deepEqual(leaked.map((e) => `${e.containerId.slice(0, 12)} ${e.containerEventType}`), [], `${node.label} streamed other servers' events`);
        for (const event of events) {
          if (event.podSandboxStatus) assert.equal(event.podSandboxStatus.id, node.podId, `${node.label}'s events name its own pod`);
        }
      }
    } finally {
      for (const stream of streams) stream.cancel();
    }
  });

  test('mascri info shows the instance', async () => {
    for (const node of nodes) {
      const result = await node.server.cli(['info', '-o', 'json']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as { config: { instance: string } }).config.instance, node.instance, node.label);
    }
  });

  test('removing everything on one server leaves the other servers\' pods running', async () => {
    // The default server removes only this suite's pod (it also sees pods of other default servers on this engine).
    const order: Array<[Node, string[] | 'all']> = [[plain, [plain.podId]], [a, 'all'], [b, 'all']];
    for (const [node, which] of order) {
      const client = node.server.client;
      const ids = which === 'all' ? (await client.callRuntime('ListPodSandbox', {})).items.map((p) => p.id!) : which;
      for (const podSandboxId of ids) {
        await client.callRuntime('StopPodSandbox', { podSandboxId });
        await client.callRuntime('RemovePodSandbox', { podSandboxId });
      }
      const { items } = await client.callRuntime('ListPodSandbox', {});
      const { containers } = await client.callRuntime('ListContainers', {});
      assert.ok(!items.some((p) => p.id === node.podId) && !containers.some((c) => c.podSandboxId === node.podId), `${node.label} lists what it removed`);
      if (which === 'all') assert.deepEqual([items.length, containers.length], [0, 0], `${node.label} has nothing left`);
      assert.equal(await dockerInspect(node.podId), undefined, `${node.label}'s pause container is gone from Docker`);
      assert.equal(await dockerInspect(node.containerId), undefined, `${node.label}'s container is gone from Docker`);
      const removed = node.podId;
      node.podId = '';
      for (const other of others(node)) {
        for (const id of [other.podId, other.containerId]) assert.equal((await dockerInspect(id))?.State.Running, true, `removing ${node.label}'s ${removed.slice(0, 12)} stopped ${other.label}'s ${id.slice(0, 12)}`);
        const { items: theirs } = await other.server.client.callRuntime('ListPodSandbox', {});
        assert.ok(theirs.some((p) => p.id === other.podId && p.state === 'SANDBOX_READY'), `${other.label} still lists its pod ready`);
      }
    }
  });

  test('an instance name that is not a DNS label stops serve at start with INVALID_ARGUMENT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mascri-e2e-instance-'));
    try {
      const endpoint = `unix://${join(dir, 'mascri.sock')}`;
      const byFlag = await mascri(['serve', '--listen', endpoint, '--instance', 'Node_A'], { timeoutMs: 15_000 });
      assert.equal(byFlag.code, 2, byFlag.stderr);
      assert.match(byFlag.stderr, /^mascri serve: InvalidArgument: --instance \(or MASCRI_INSTANCE\): instance name "Node_A" is not valid: it holds "N"; only lowercase letters, digits and "-" are allowed/);
      const byEnv = await mascri(['serve', '--listen', endpoint], { env: { MASCRI_INSTANCE: '-a' }, timeoutMs: 15_000 });
      assert.equal(byEnv.code, 2, byEnv.stderr);
      assert.match(byEnv.stderr, /InvalidArgument: .*"-a" is not valid: it starts or ends with "-"/);
      assert.equal(byEnv.stderr.trim().split('\n').length, 1, 'one line');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
