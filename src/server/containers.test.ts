import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GrpcCode, type MascriError } from '../common/errors.js';
import { DockerError } from '../docker/errors.js';
import { LABEL_SANDBOX_ID, LABEL_TYPE } from '../docker/labels.js';
import { ContainerService } from './containers.js';
import { SandboxService } from './sandboxes.js';
import { FAKE_POD_INFRA_IMAGE, createContainerRequest, fakeServerContext, runtimeRequest, type FakeContext } from './testing/fake-context.js';

const dir = mkdtempSync(join(tmpdir(), 'mascri-containers-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A context with the pause image and busybox, and one ready sandbox logging under a temporary directory. */
async function setup(): Promise<FakeContext & { containers: ContainerService; sandboxes: SandboxService; podSandboxId: string; logDirectory: string }> {
  const fake = await fakeServerContext();
  fake.docker.addImage(FAKE_POD_INFRA_IMAGE);
  fake.docker.addImage('busybox');
  const sandboxes = new SandboxService(fake.ctx);
  const logDirectory = mkdtempSync(join(dir, 'pod-'));
  const { podSandboxId = '' } = await sandboxes.runPodSandbox(
    runtimeRequest('RunPodSandbox', { config: { metadata: { name: 'web', namespace: 'default', uid: 'uid-web', attempt: 0 }, logDirectory } }),
  );
  return { ...fake, containers: new ContainerService(fake.ctx), sandboxes, podSandboxId, logDirectory };
}

/** Polls `check` until it answers something (the store's events are coalesced on a short timer). */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function codeOf(code: GrpcCode, message?: RegExp) {
  return (error: MascriError) => error.code === code && (!message || message.test(error.message));
}

describe('ContainerService over a fake Docker', () => {
  test('CreateContainer makes a created container in the sandbox, with its labels; status and list show it', async () => {
    const { containers, docker, podSandboxId, logDirectory, close } = await setup();
    try {
      const { containerId = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app', { logPath: 'app/0.log', labels: { tier: 'front' } }));
      const made = docker.allContainers().find((c) => c.Id === containerId);
      assert.equal(made?.Name, '/k8s_app_web_default_uid-web_0');
      assert.equal(made?.Config.Labels?.[LABEL_TYPE], 'container');
      assert.equal(made?.Config.Labels?.[LABEL_SANDBOX_ID], podSandboxId);
      assert.equal(made?.HostConfig.NetworkMode, `container:${podSandboxId}`);
      assert.equal(made?.State.Status, 'created');
      const [args] = docker.callsOf('containers.create')[0] as [string[]];
      assert.deepEqual(args.slice(0, 2), ['--pull', 'never']);

      const { status } = await containers.containerStatus(runtimeRequest('ContainerStatus', { containerId }));
      assert.equal(status?.state, 'CONTAINER_CREATED');
      assert.deepEqual(status?.labels, { tier: 'front' });
      assert.equal(status?.image?.image, 'busybox');
      assert.equal(status?.logPath, join(logDirectory, 'app/0.log'));
      const { containers: listed } = await containers.listContainers(runtimeRequest('ListContainers', {}));
      assert.deepEqual(listed?.map((c) => [c.id, c.podSandboxId, c.state]), [[containerId, podSandboxId, 'CONTAINER_CREATED']]);
    } finally {
      close();
    }
  });

  test('CreateContainer in an unknown sandbox is NOT_FOUND; in a stopped one FAILED_PRECONDITION; Docker is not asked', async () => {
    const { containers, sandboxes, docker, podSandboxId, close } = await setup();
    try {
      await assert.rejects(containers.createContainer(createContainerRequest('f'.repeat(64), 'app')), codeOf(GrpcCode.NOT_FOUND, /no pod sandbox with ID/));
      await sandboxes.stopPodSandbox(runtimeRequest('StopPodSandbox', { podSandboxId }));
      await assert.rejects(containers.createContainer(createContainerRequest(podSandboxId, 'app')), codeOf(GrpcCode.FAILED_PRECONDITION, /is not ready .*exited/));
      assert.equal(docker.callsOf('containers.create').length, 0);
    } finally {
      close();
    }
  });

  test('CreateContainer of an image the engine lacks is NOT_FOUND saying to pull it; nothing is left', async () => {
    const { containers, docker, podSandboxId, close } = await setup();
    try {
      await assert.rejects(containers.createContainer(createContainerRequest(podSandboxId, 'app', { image: 'nginx:1.27' })), codeOf(GrpcCode.NOT_FOUND, /image "nginx:1\.27" is not present; pull it first \(mascri pull nginx:1\.27\)/));
      assert.deepEqual(docker.allContainers().map((c) => c.Id), [podSandboxId]);
    } finally {
      close();
    }
  });

  test('CreateContainer of a name in use is ALREADY_EXISTS naming the container', async () => {
    const { containers, podSandboxId, close } = await setup();
    try {
      const { containerId = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app'));
      await assert.rejects(containers.createContainer(createContainerRequest(podSandboxId, 'app')), codeOf(GrpcCode.ALREADY_EXISTS, new RegExp(`"app" \\(attempt 0\\) already exists in this pod: ${containerId}`)));
    } finally {
      close();
    }
  });

  test('CreateContainer that fails after Docker made the container removes it again', async () => {
    const { containers, docker, podSandboxId, close } = await setup();
    try {
      // The look that checks the masked paths were kept fails: the daemon went away between the two calls.
      docker.failNext('containers.inspect', new DockerError('unavailable', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'));
      const request = createContainerRequest(podSandboxId, 'app');
      const linux = request.config!.linux;
      request.config!.linux = { ...linux, securityContext: { ...linux?.securityContext, maskedPaths: ['/proc/kcore'] } } as typeof linux;
      await assert.rejects(containers.createContainer(request), codeOf(GrpcCode.UNAVAILABLE, /creating container "app".*Cannot connect/));
      assert.deepEqual(docker.allContainers().map((c) => c.Id), [podSandboxId], 'the half-made container was removed');
      assert.deepEqual(docker.callsOf('containers.remove').at(-1), [['k8s_app_web_default_uid-web_0']]);
    } finally {
      close();
    }
  });

  test('a plain CreateContainer answers before Docker\'s inspect: lists show it at once, its status is Docker\'s answer', async () => {
    const { containers, docker, ctx, podSandboxId, close } = await setup();
    try {
      docker.failNext('containers.inspect', new DockerError('unavailable', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'));
      const { containerId = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app'));
      const { containers: listed } = await containers.listContainers(runtimeRequest('ListContainers', {}));
      assert.deepEqual((listed ?? []).filter((c) => c.id === containerId).map((c) => [c.state, c.metadata?.name]), [['CONTAINER_CREATED', 'app']]);
      // The background inspect failed: the status asks Docker again rather than answer a made-up inspect.
      const { status } = await containers.containerStatus(runtimeRequest('ContainerStatus', { containerId }));
      assert.equal(status?.state, 'CONTAINER_CREATED');
      assert.equal(ctx.store.isProvisional(containerId), false);
      assert.equal(docker.callsOf('containers.inspect').length >= 2, true);
    } finally {
      close();
    }
  });

  test('StartContainer runs it and follows its log; StopContainer stops it; both are refused or idempotent as the CRI says', async () => {
    const { containers, docker, logs, podSandboxId, logDirectory, close } = await setup();
    try {
      const { containerId = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app', { logPath: 'app.log' }));
      await containers.startContainer(runtimeRequest('StartContainer', { containerId }));
      const running = await containers.containerStatus(runtimeRequest('ContainerStatus', { containerId }));
      assert.equal(running.status?.state, 'CONTAINER_RUNNING');
      assert.notEqual(running.status?.startedAt, '0');
      const follow = logs.calls.find((call) => call.method === 'follow');
      assert.deepEqual(follow && [follow.id, follow.args], [containerId, [`/var/lib/docker/containers/${containerId}/${containerId}-json.log`, join(logDirectory, 'app.log')]]);

      await containers.stopContainer(runtimeRequest('StopContainer', { containerId, timeout: '5' }));
      assert.deepEqual(docker.callsOf('containers.stop').at(-1), [[containerId], 5]);
      const stopped = await containers.containerStatus(runtimeRequest('ContainerStatus', { containerId }));
      assert.equal(stopped.status?.state, 'CONTAINER_EXITED');
      assert.equal(stopped.status?.exitCode, 0);
      assert.ok(logs.idsOf('flush').includes(containerId));

      await containers.stopContainer(runtimeRequest('StopContainer', { containerId })); // exited: success
      await containers.stopContainer(runtimeRequest('StopContainer', { containerId: 'f'.repeat(64) })); // unknown: success
      await assert.rejects(containers.startContainer(runtimeRequest('StartContainer', { containerId: 'f'.repeat(64) })), codeOf(GrpcCode.NOT_FOUND, /no container with ID/));
    } finally {
      close();
    }
  });

  test('ContainerStatus reports an exit code and reason; NOT_FOUND for an unknown ID', async () => {
    const { containers, docker, podSandboxId, close } = await setup();
    try {
      const { containerId = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app'));
      await containers.startContainer(runtimeRequest('StartContainer', { containerId }));
      // The process ends behind mascri's back: the store hears of it from Docker's events.
      docker.exitContainer(containerId, 3);
      const status = await waitFor('the exit to reach the store', async () => {
        const answer = await containers.containerStatus(runtimeRequest('ContainerStatus', { containerId }));
        return answer.status?.state === 'CONTAINER_EXITED' ? answer.status : undefined;
      });
      assert.equal(status?.exitCode, 3);
      assert.equal(status?.reason, 'Error');
      await assert.rejects(containers.containerStatus(runtimeRequest('ContainerStatus', { containerId: 'nope' })), codeOf(GrpcCode.NOT_FOUND));
    } finally {
      close();
    }
  });

  test('RemoveContainer removes it and its log file; an unknown ID is success', async () => {
    const { containers, docker, logs, podSandboxId, close } = await setup();
    try {
      const { containerId = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app'));
      await containers.startContainer(runtimeRequest('StartContainer', { containerId }));
      await containers.removeContainer(runtimeRequest('RemoveContainer', { containerId }));
      assert.deepEqual(docker.allContainers().map((c) => c.Id), [podSandboxId]);
      assert.deepEqual(logs.calls.filter((call) => call.method === 'forget').map((call) => [call.id, call.args[0]]), [[containerId, { removeFiles: true }]]);
      await assert.rejects(containers.containerStatus(runtimeRequest('ContainerStatus', { containerId })), codeOf(GrpcCode.NOT_FOUND));
      await containers.removeContainer(runtimeRequest('RemoveContainer', { containerId }));
    } finally {
      close();
    }
  });

  test('ListContainers filters by ID prefix, sandbox, state and label selector', async () => {
    const { containers, sandboxes, podSandboxId, close } = await setup();
    try {
      const { podSandboxId: otherPod = '' } = await sandboxes.runPodSandbox(
        runtimeRequest('RunPodSandbox', { config: { metadata: { name: 'db', namespace: 'default', uid: 'uid-db', attempt: 0 } } }),
      );
      const { containerId: app = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app', { labels: { tier: 'front' } }));
      const { containerId: db = '' } = await containers.createContainer(createContainerRequest(otherPod, 'db', { labels: { tier: 'back' } }));
      await containers.startContainer(runtimeRequest('StartContainer', { containerId: app }));
      const ids = async (filter: Parameters<typeof runtimeRequest<'ListContainers'>>[1]['filter']) =>
        ((await containers.listContainers(runtimeRequest('ListContainers', { filter }))).containers ?? []).map((c) => c.id).sort();
      assert.deepEqual(await ids(null), [app, db].sort());
      assert.deepEqual(await ids({ id: db.slice(0, 12) }), [db]);
      assert.deepEqual(await ids({ podSandboxId: otherPod }), [db]);
      assert.deepEqual(await ids({ state: { state: 'CONTAINER_RUNNING' } }), [app]);
      assert.deepEqual(await ids({ labelSelector: { tier: 'back' } }), [db]);
      assert.deepEqual(await ids({ podSandboxId, labelSelector: { tier: 'back' } }), []);
    } finally {
      close();
    }
  });
});
