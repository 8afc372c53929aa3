import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GrpcCode, type MascriError } from '../common/errors.js';
import { LABEL_SANDBOX_ID, LABEL_TYPE } from '../docker/labels.js';
import { ContainerService } from './containers.js';
import { SandboxService } from './sandboxes.js';
import { FAKE_POD_INFRA_IMAGE, createContainerRequest, fakeServerContext, runtimeRequest, type FakeContext } from './testing/fake-context.js';

const dir = mkdtempSync(join(tmpdir(), 'mascri-sandboxes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A context whose engine has the pause image and busybox. */
async function setup(): Promise<FakeContext & { sandboxes: SandboxService; containers: ContainerService }> {
  const fake = await fakeServerContext();
  fake.docker.addImage(FAKE_POD_INFRA_IMAGE);
  fake.docker.addImage('busybox');
  return { ...fake, sandboxes: new SandboxService(fake.ctx), containers: new ContainerService(fake.ctx) };
}

function runRequest(name: string, extra: { labels?: Record<string, string>; logDirectory?: string } = {}) {
  return runtimeRequest('RunPodSandbox', {
    config: {
      metadata: { name, namespace: 'default', uid: `uid-${name}`, attempt: 0 },
      labels: extra.labels ?? {},
      annotations: { note: name },
      logDirectory: extra.logDirectory ?? '',
    },
  });
}

function codeOf(code: GrpcCode, message?: RegExp) {
  return (error: MascriError) => error.code === code && (!message || message.test(error.message));
}

describe('SandboxService over a fake Docker', () => {
  test('RunPodSandbox runs the pause container with the pod\'s labels; status and list show it ready', async () => {
    const { sandboxes, docker, close } = await setup();
    try {
      const { podSandboxId = '' } = await sandboxes.runPodSandbox(runRequest('web', { labels: { app: 'web' } }));
      const [made] = docker.allContainers();
      assert.equal(made?.Id, podSandboxId);
      assert.equal(made?.Name, '/k8s_POD_web_default_uid-web_0');
      assert.equal(made?.Config.Labels?.[LABEL_TYPE], 'sandbox');
      assert.equal(made?.Config.Image, FAKE_POD_INFRA_IMAGE);
      const [args] = docker.callsOf('containers.run')[0] as [string[]];
      assert.deepEqual(args.slice(0, 2), ['--pull', 'never'], 'the CRI pulls; docker run never does');

      const { status } = await sandboxes.podSandboxStatus(runtimeRequest('PodSandboxStatus', { podSandboxId }));
      assert.equal(status?.state, 'SANDBOX_READY');
      assert.deepEqual(status?.labels, { app: 'web' });
      assert.deepEqual(status?.annotations, { note: 'web' });
      assert.deepEqual(status?.metadata, { name: 'web', namespace: 'default', uid: 'uid-web', attempt: 0 });
      assert.match(status?.network?.ip ?? '', /^172\.17\.0\.\d+$/);

      const { items } = await sandboxes.listPodSandbox(runtimeRequest('ListPodSandbox', {}));
      assert.deepEqual(items?.map((item) => [item.id, item.state]), [[podSandboxId, 'SANDBOX_READY']]);
      assert.equal(docker.callsOf('images.pull').length, 0, 'the pause image was there: nothing pulled');
    } finally {
      close();
    }
  });

  test('RunPodSandbox pulls the pod infra image once when the engine lacks it', async () => {
    const fake = await fakeServerContext();
    const sandboxes = new SandboxService(fake.ctx);
    fake.docker.addToRegistry(FAKE_POD_INFRA_IMAGE);
    try {
      await sandboxes.runPodSandbox(runRequest('a'));
      await sandboxes.runPodSandbox(runRequest('b'));
      assert.deepEqual(fake.docker.callsOf('images.pull').map(([ref]) => ref), [FAKE_POD_INFRA_IMAGE]);
      assert.equal(fake.docker.allContainers().length, 2);
    } finally {
      fake.close();
    }
  });

  test('RunPodSandbox: pods that start together look for (and pull) the pod infra image once; with the image store current, no docker call looks', async () => {
    const fake = await fakeServerContext();
    const sandboxes = new SandboxService(fake.ctx);
    fake.docker.addToRegistry(FAKE_POD_INFRA_IMAGE);
    try {
      await Promise.all(['a', 'b', 'c'].map((name) => sandboxes.runPodSandbox(runRequest(name))));
      assert.deepEqual(fake.docker.callsOf('images.pull').map(([ref]) => ref), [FAKE_POD_INFRA_IMAGE]);
      assert.equal(fake.docker.allContainers().length, 3);
    } finally {
      fake.close();
    }
    const { sandboxes: present, docker, ctx, close } = await setup();
    try {
      await ctx.images.refresh(FAKE_POD_INFRA_IMAGE); // the store has heard of it (setup added it behind its back)
      const looked = docker.callsOf('images.inspect').length;
      await Promise.all(['a', 'b'].map((name) => present.runPodSandbox(runRequest(name))));
      assert.equal(docker.callsOf('images.inspect').length, looked, 'the image store answered');
      assert.equal(docker.allContainers().length, 2);
    } finally {
      close();
    }
  });

  test('RunPodSandbox: an infra image no registry has is NOT_FOUND naming --pod-infra-image; nothing is left', async () => {
    const fake = await fakeServerContext();
    const sandboxes = new SandboxService(fake.ctx);
    try {
      await assert.rejects(sandboxes.runPodSandbox(runRequest('a')), codeOf(GrpcCode.NOT_FOUND, /pod infra image .*--pod-infra-image.*manifest unknown/));
      assert.deepEqual(fake.docker.allContainers(), []);
    } finally {
      fake.close();
    }
  });

  test('RunPodSandbox of metadata already running is ALREADY_EXISTS naming the existing sandbox', async () => {
    const { sandboxes, docker, close } = await setup();
    try {
      const { podSandboxId = '' } = await sandboxes.runPodSandbox(runRequest('web'));
      await assert.rejects(sandboxes.runPodSandbox(runRequest('web')), codeOf(GrpcCode.ALREADY_EXISTS, new RegExp(`already exists: ${podSandboxId}`)));
      assert.deepEqual(docker.allContainers().map((c) => c.Id), [podSandboxId], 'the first sandbox is untouched');
    } finally {
      close();
    }
  });

  test('RunPodSandbox whose pause container fails to start removes it and the log directory it made', async () => {
    const { sandboxes, docker, close } = await setup();
    const logDirectory = join(dir, 'pods', 'failing');
    try {
      docker.failNextStart();
      await assert.rejects(sandboxes.runPodSandbox(runRequest('web', { logDirectory })), codeOf(GrpcCode.INTERNAL, /running pod sandbox name="web".*OCI runtime create failed/));
      assert.deepEqual(docker.allContainers(), [], 'the half-made container was removed');
      assert.deepEqual(docker.callsOf('containers.remove'), [[['k8s_POD_web_default_uid-web_0']]]);
      assert.equal(existsSync(logDirectory), false);
      // The name is free again: a retry works.
      await sandboxes.runPodSandbox(runRequest('web', { logDirectory }));
      assert.equal(docker.allContainers().length, 1);
    } finally {
      close();
    }
  });

  test('RunPodSandbox refuses a reserved label and an empty name before Docker is asked', async () => {
    const { sandboxes, docker, close } = await setup();
    try {
      await assert.rejects(sandboxes.runPodSandbox(runRequest('web', { labels: { [LABEL_SANDBOX_ID]: 'x' } })), codeOf(GrpcCode.INVALID_ARGUMENT, /reserved/));
      await assert.rejects(sandboxes.runPodSandbox(runRequest('')), codeOf(GrpcCode.INVALID_ARGUMENT, /name is empty/));
      assert.equal(docker.callsOf('containers.run').length, 0);
    } finally {
      close();
    }
  });

  test('StopPodSandbox stops the members, then the pause container; unknown IDs are success', async () => {
    const { sandboxes, containers, docker, logs, close } = await setup();
    try {
      const { podSandboxId = '' } = await sandboxes.runPodSandbox(runRequest('web'));
      const { containerId = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app'));
      await containers.startContainer(runtimeRequest('StartContainer', { containerId }));
      await sandboxes.stopPodSandbox(runtimeRequest('StopPodSandbox', { podSandboxId }));
      assert.deepEqual(docker.callsOf('containers.stop'), [[[containerId], 0], [[podSandboxId], 10]], 'members first, at once; then the pause container');
      assert.ok(logs.idsOf('flush').includes(containerId), 'the member\'s last output is copied');
      const { status } = await sandboxes.podSandboxStatus(runtimeRequest('PodSandboxStatus', { podSandboxId }));
      assert.equal(status?.state, 'SANDBOX_NOTREADY');
      const member = await containers.containerStatus(runtimeRequest('ContainerStatus', { containerId }));
      assert.equal(member.status?.state, 'CONTAINER_EXITED');

      await sandboxes.stopPodSandbox(runtimeRequest('StopPodSandbox', { podSandboxId })); // again: success
      await sandboxes.stopPodSandbox(runtimeRequest('StopPodSandbox', { podSandboxId: 'f'.repeat(64) }));
      await assert.rejects(sandboxes.stopPodSandbox(runtimeRequest('StopPodSandbox', { podSandboxId: '' })), codeOf(GrpcCode.INVALID_ARGUMENT));
    } finally {
      close();
    }
  });

  test('RemovePodSandbox removes the members and the pause container, and the members\' log files; unknown IDs are success', async () => {
    const { sandboxes, containers, docker, logs, close } = await setup();
    try {
      const { podSandboxId = '' } = await sandboxes.runPodSandbox(runRequest('web'));
      const { containerId = '' } = await containers.createContainer(createContainerRequest(podSandboxId, 'app'));
      const other = await sandboxes.runPodSandbox(runRequest('other'));
      await sandboxes.removePodSandbox(runtimeRequest('RemovePodSandbox', { podSandboxId }));
      assert.deepEqual(docker.allContainers().map((c) => c.Id), [other.podSandboxId]);
      assert.deepEqual(logs.calls.filter((call) => call.method === 'forget').map((call) => [call.id, call.args[0]]), [[containerId, { removeFiles: true }]]);
      await assert.rejects(sandboxes.podSandboxStatus(runtimeRequest('PodSandboxStatus', { podSandboxId })), codeOf(GrpcCode.NOT_FOUND, /no pod sandbox with ID/));
      const { containers: left } = await containers.listContainers(runtimeRequest('ListContainers', {}));
      assert.deepEqual(left, []);

      await sandboxes.removePodSandbox(runtimeRequest('RemovePodSandbox', { podSandboxId })); // again: success
    } finally {
      close();
    }
  });

  test('ListPodSandbox filters by ID prefix, state and label selector', async () => {
    const { sandboxes, close } = await setup();
    try {
      const web = await sandboxes.runPodSandbox(runRequest('web', { labels: { app: 'web', tier: 'front' } }));
      const db = await sandboxes.runPodSandbox(runRequest('db', { labels: { app: 'db' } }));
      await sandboxes.stopPodSandbox(runtimeRequest('StopPodSandbox', { podSandboxId: db.podSandboxId }));
      const ids = async (filter: Parameters<typeof runtimeRequest<'ListPodSandbox'>>[1]['filter']) =>
        ((await sandboxes.listPodSandbox(runtimeRequest('ListPodSandbox', { filter }))).items ?? []).map((item) => item.id).sort();
      assert.deepEqual(await ids(null), [web.podSandboxId, db.podSandboxId].sort());
      assert.deepEqual(await ids({ id: web.podSandboxId!.slice(0, 12) }), [web.podSandboxId]);
      assert.deepEqual(await ids({ state: { state: 'SANDBOX_READY' } }), [web.podSandboxId]);
      assert.deepEqual(await ids({ state: { state: 'SANDBOX_NOTREADY' } }), [db.podSandboxId]);
      assert.deepEqual(await ids({ labelSelector: { app: 'web' } }), [web.podSandboxId]);
      assert.deepEqual(await ids({ labelSelector: { app: 'web', tier: 'back' } }), []);
    } finally {
      close();
    }
  });
});
