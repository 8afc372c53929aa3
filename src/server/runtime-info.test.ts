import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcCode, type MascriError } from '../common/errors.js';
import { ContainerService } from './containers.js';
import { RuntimeInfoService, checkPodCidr, checkpointUnsupportedReason, criCgroupDriver } from './runtime-info.js';
import { SandboxService } from './sandboxes.js';
import { FAKE_POD_INFRA_IMAGE, createContainerRequest, fakeServerContext, runtimeRequest } from './testing/fake-context.js';

describe('criCgroupDriver', () => {
  test('Docker\'s CgroupDriver as the CRI enum; anything else is unknown', () => {
    assert.equal(criCgroupDriver('systemd'), 'SYSTEMD');
    assert.equal(criCgroupDriver('cgroupfs'), 'CGROUPFS');
    assert.equal(criCgroupDriver(''), undefined);
    assert.equal(criCgroupDriver('none'), undefined);
  });
});

describe('checkpointUnsupportedReason', () => {
  test('names what is missing: experimental mode, CRIU, or the daemon itself', () => {
    const both = checkpointUnsupportedReason({ daemonAnswers: true, experimental: false, criu: false });
    assert.match(both, /^CheckpointContainer is not supported/);
    assert.match(both, /experimental features/);
    assert.match(both, /CRIU/);
    const onlyCriu = checkpointUnsupportedReason({ daemonAnswers: true, experimental: true, criu: false });
    assert.doesNotMatch(onlyCriu, /experimental/);
    assert.match(onlyCriu, /CRIU/);
    assert.match(checkpointUnsupportedReason({ daemonAnswers: false, experimental: false, criu: true }), /does not answer/);
    assert.match(checkpointUnsupportedReason({ daemonAnswers: true, experimental: true, criu: true }), /checkpoint archive/);
  });
});

describe('checkPodCidr', () => {
  test('one CIDR or a dual-stack pair as the kubelet sends them; anything else is INVALID_ARGUMENT naming the field', () => {
    assert.equal(checkPodCidr(''), '');
    assert.equal(checkPodCidr('10.244.1.0/24'), '10.244.1.0/24');
    assert.equal(checkPodCidr('10.244.1.0/24, fd00:1::/64'), '10.244.1.0/24,fd00:1::/64');
    for (const bad of ['10.244.1.0', '10.244.1.0/33', 'fd00::/129', 'pods/24', '10.0.0.0/8/1', '10.0.0.0/8,']) {
      assert.throws(() => checkPodCidr(bad), (e: MascriError) => e.code === GrpcCode.INVALID_ARGUMENT && /^runtime_config\.network_config\.pod_cidr /.test(e.message), bad);
    }
  });
});

describe('RuntimeInfoService over a fake Docker', () => {
  async function setup() {
    const fake = await fakeServerContext();
    fake.docker.addImage(FAKE_POD_INFRA_IMAGE);
    fake.docker.addImage('busybox');
    const sandboxes = new SandboxService(fake.ctx);
    const { podSandboxId = '' } = await sandboxes.runPodSandbox(runtimeRequest('RunPodSandbox', { config: { metadata: { name: 'web', namespace: 'default', uid: 'uid-web', attempt: 0 } } }));
    const { containerId = '' } = await new ContainerService(fake.ctx).createContainer(createContainerRequest(podSandboxId, 'app'));
    return { ...fake, info: new RuntimeInfoService(fake.ctx), podSandboxId, containerId };
  }
  const code = (expected: GrpcCode, message: RegExp) => (e: MascriError) => e.code === expected && message.test(e.message);

  test('UpdateRuntimeConfig records the pod CIDR, and Status verbose shows it', async () => {
    const { info, close } = await setup();
    try {
      const podCidr = async () => JSON.parse((await info.status(runtimeRequest('Status', { verbose: true }))).info?.config ?? "{}").podCidr as string;
      assert.equal(await podCidr(), '');
      await info.updateRuntimeConfig(runtimeRequest('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr: '10.244.0.0/24' } } }));
      assert.equal(await podCidr(), '10.244.0.0/24');
      await assert.rejects(info.updateRuntimeConfig(runtimeRequest('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr: 'ten/24' } } })), code(GrpcCode.INVALID_ARGUMENT, /pod_cidr/));
      assert.equal(await podCidr(), '10.244.0.0/24', 'a refused CIDR changes nothing');
    } finally {
      close();
    }
  });

  test('Status verbose shows the event-loop delay, watched from its first call; Status without verbose does not', async () => {
    const { info, close } = await setup();
    try {
      const eventLoop = async (verbose: boolean) => (await info.status(runtimeRequest('Status', { verbose }))).info?.eventLoop;
      assert.equal(await eventLoop(false), undefined);
      const first = JSON.parse((await eventLoop(true))!);
      assert.equal(first.watching, false);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const next = JSON.parse((await eventLoop(true))!);
      assert.equal(next.watching, true);
      assert.equal(next.resolutionMs, 10);
      assert.ok(next.sinceMs >= 40, `since ${next.sinceMs} ms`);
      for (const key of ['p50Ms', 'p99Ms', 'maxMs']) assert.equal(typeof next[key], 'number', key);
    } finally {
      info.close();
      close();
    }
  });

  test('the checkpoint RPCs check the request, then refuse saying why', async () => {
    const { info, podSandboxId, containerId, close } = await setup();
    try {
      await assert.rejects(info.checkpointContainer(runtimeRequest('CheckpointContainer', { containerId })), code(GrpcCode.UNIMPLEMENTED, /^CheckpointContainer is not supported.*CRIU/));
      await assert.rejects(info.checkpointContainer(runtimeRequest('CheckpointContainer', { containerId: 'f'.repeat(64) })), code(GrpcCode.NOT_FOUND, /no container/));
      await assert.rejects(info.checkpointContainer(runtimeRequest('CheckpointContainer', {})), code(GrpcCode.INVALID_ARGUMENT, /container_id is empty/));
      await assert.rejects(info.checkpointPod(runtimeRequest('CheckpointPod', { podSandboxId })), code(GrpcCode.UNIMPLEMENTED, /^CheckpointPod is not supported by mascri: .*nothing was paused/));
      await assert.rejects(info.checkpointPod(runtimeRequest('CheckpointPod', { podSandboxId: 'f'.repeat(64) })), code(GrpcCode.NOT_FOUND, /no pod sandbox/));
      await assert.rejects(info.checkpointPod(runtimeRequest('CheckpointPod', {})), code(GrpcCode.INVALID_ARGUMENT, /pod_sandbox_id is empty/));
      await assert.rejects(info.restorePod(runtimeRequest('RestorePod', { checkpointPath: '/tmp/cp.tar' })), code(GrpcCode.UNIMPLEMENTED, /^RestorePod is not supported by mascri: .*nothing was created/));
      await assert.rejects(info.restorePod(runtimeRequest('RestorePod', {})), code(GrpcCode.INVALID_ARGUMENT, /checkpoint_path is empty/));
    } finally {
      close();
    }
  });
});
