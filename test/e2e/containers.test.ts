/** Containers end to end over gRPC: namespaces shared with the pod, settings, lifecycle, exit reasons. */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { execa } from 'execa';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BUSYBOX, HTTPD, MascriServer, TestPods, docker, dockerInspect, shellContainer, waitFor, setUpServerWithBusybox } from '../helpers.js';

describe('containers over gRPC', () => {
  let server: MascriServer;
  const pods = new TestPods(() => server);
  const { dirs } = pods;
  const pod = pods.pod.bind(pods);
  const create = (podId: string, podConfig: Record<string, unknown>, config: Record<string, unknown>) => pods.container(podId, podConfig, config);

  setUpServerWithBusybox(pods, (started) => (server = started));
  before(async () => {
    await server.client.callImage('PullImage', { image: { image: HTTPD } });
  });

  async function runToExit(podId: string, podConfig: Record<string, unknown>, config: Record<string, unknown>) {
    const id = await create(podId, podConfig, config);
    await server.client.callRuntime('StartContainer', { containerId: id });
    let last = '';
    try {
      return await waitFor(`container ${(config.metadata as { name: string }).name} to exit`, async () => {
        const { status } = await server.client.callRuntime('ContainerStatus', { containerId: id });
        last = status!.state;
        return status!.state === 'CONTAINER_EXITED' ? status! : undefined;
      }, 30_000);
    } catch (error) {
      // Say whether Docker saw the exit and mascri did not, or the container really ran on.
      const state = (await dockerInspect(id))?.State;
      throw new Error(`${(error as Error).message}: mascri says ${last}, Docker says ${JSON.stringify(state)}`);
    }
  }

  test('create, start, status, list, stop and remove one container', async () => {
    const { id: podId, config: podConfig } = await pod('life');
    const id = await create(podId, podConfig, shellContainer('sleeper', 'sleep 1000', { labels: { role: 'sleeper' }, annotations: { 'example.com/a': 'b' } }));
    const createdAt = async () => (await server.client.callRuntime('ListContainers', { filter: { id } })).containers[0]?.createdAt;
    const listedFirst = await createdAt();
    const createdStatus = (await server.client.callRuntime('ContainerStatus', { containerId: id })).status!;
    assert.equal(createdStatus.state, 'CONTAINER_CREATED');
    assert.equal(createdStatus.startedAt, '0');
    // Lists answer before Docker's inspect is in, the status after it: created_at is one value throughout.
    assert.equal(createdStatus.createdAt, listedFirst);
    assert.equal(await createdAt(), listedFirst);

    const names = await docker(['ps', '-a', '--filter', `id=${id}`, '--format', '{{.Names}}']);
    const meta = (podConfig as { metadata: { name: string; namespace: string; uid: string } }).metadata;
    assert.equal(names.stdout.trim(), `k8s_sleeper_${meta.name}_${meta.namespace}_${meta.uid}_0`);

    await server.client.callRuntime('StartContainer', { containerId: id });
    const { status, info } = await server.client.callRuntime('ContainerStatus', { containerId: id, verbose: true });
    assert.equal(status!.state, 'CONTAINER_RUNNING');
    assert.equal(status!.image!.image, BUSYBOX, 'image is the reference asked for');
    assert.equal(status!.imageRef, (await server.client.callImage('ImageStatus', { image: { image: BUSYBOX } })).image!.id, 'image_ref is the image ID PullImage returned');
    assert.deepEqual(status!.labels, { role: 'sleeper' });
    assert.deepEqual(status!.annotations, { 'example.com/a': 'b' });
    assert.deepEqual(status!.metadata, { name: 'sleeper', attempt: 0 });
    assert.equal(status!.logPath, join(podConfig.logDirectory as string, 'sleeper/0.log'));
    assert.ok(BigInt(status!.startedAt) >= BigInt(status!.createdAt));
    const verbose = JSON.parse(info.info!);
    assert.ok(verbose.pid > 0);
    assert.equal(verbose.docker.Id, id);

    const listed = await server.client.callRuntime('ListContainers', { filter: { podSandboxId: podId.slice(0, 12) } });
    assert.deepEqual(listed.containers.map((c) => [c.id, c.state, c.podSandboxId]), [[id, 'CONTAINER_RUNNING', podId]]);
    const byLabel = await server.client.callRuntime('ListContainers', { filter: { labelSelector: { role: 'sleeper' }, state: { state: 'CONTAINER_RUNNING' } } });
    assert.ok(byLabel.containers.some((c) => c.id === id));
    const byPrefix = await server.client.callRuntime('ListContainers', { filter: { id: id.slice(0, 10) } });
    assert.deepEqual(byPrefix.containers.map((c) => c.id), [id]);

    await server.client.callRuntime('StopContainer', { containerId: id, timeout: '5' });
    await server.client.callRuntime('StopContainer', { containerId: id, timeout: '5' });
    const stopped = (await server.client.callRuntime('ContainerStatus', { containerId: id })).status!;
    assert.equal(stopped.state, 'CONTAINER_EXITED');
    assert.ok(BigInt(stopped.finishedAt) >= BigInt(stopped.startedAt));

    await server.client.callRuntime('RemoveContainer', { containerId: id });
    await server.client.callRuntime('RemoveContainer', { containerId: id });
    assert.equal(await dockerInspect(id), undefined);
    await assert.rejects(server.client.callRuntime('ContainerStatus', { containerId: id }), (error: { code: number }) => error.code === GrpcCode.NOT_FOUND);
  });

  test('two containers of one pod share 127.0.0.1 and the hostname', async () => {
    const { id: podId, config: podConfig } = await pod('shared', { hostname: 'shared-host' });
    const web = await create(podId, podConfig, { metadata: { name: 'web', attempt: 0 }, image: { image: HTTPD } });
    await server.client.callRuntime('StartContainer', { containerId: web });
    const client = await runToExit(podId, podConfig, shellContainer('client', [
      'for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O /tmp/page http://127.0.0.1:80/ && break; sleep 0.3; done',
      'grep -q "hello from mascri httpd" /tmp/page || exit 10',
      '[ "$(hostname)" = shared-host ] || exit 11',
    ].join('\n')));
    assert.equal(client.exitCode, 0, `client exit code ${client.exitCode} (10: no page on 127.0.0.1, 11: other hostname)`);
    assert.equal(client.reason, 'Completed');
  });

  test('PID namespace: shared with the pod when asked, private otherwise', async () => {
    const { id: podId, config: podConfig } = await pod('pids', { linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'POD', ipc: 'POD' } } } });
    // The pause process runs as "/bin/sh /pause"; the test's own shell is "sh -c <script>".
    const isPause = '[ "$(tr "\\0" " " < /proc/1/cmdline)" = "/bin/sh /pause " ]';
    const shared = await runToExit(podId, podConfig, shellContainer('shared', isPause));
    assert.equal(shared.exitCode, 0, 'PID 1 is the pause process');
    const own = await runToExit(podId, podConfig, shellContainer('own', `${isPause} && exit 1 || exit 0`, {
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    }));
    assert.equal(own.exitCode, 0, 'with pid CONTAINER the container has its own PID namespace');
  });

  test('mounts, env, working dir, user, command and args', async () => {
    const { id: podId, config: podConfig } = await pod('settings');
    const hostDir = mkdtempSync(join(tmpdir(), 'mascri-e2e-mount-'));
    dirs.push(hostDir);
    writeFileSync(join(hostDir, 'greeting'), 'hi from the host\n');
    chmodSync(hostDir, 0o777); // the container runs as uid 1000
    const script = [
      'grep -q "hi from the host" /data/greeting || exit 10',
      'touch /data/new 2>/dev/null && exit 11',
      'grep -q "hi from the host" /rw/greeting || exit 12',
      'touch /rw/written || exit 13',
      '[ "$GREETING" = "hello world" ] || exit 14',
      '[ "$(pwd)" = /tmp ] || exit 15',
      '[ "$(id -u)" = 1000 ] || exit 16',
      '[ "$(id -g)" = 3000 ] || exit 17',
      '[ "$0" = first-arg ] || exit 18', // sh -c SCRIPT ARG: the first ARG is $0
      '[ -d /made ] || exit 19',
      'exit 0',
    ].join('\n');
    const status = await runToExit(podId, podConfig, {
      metadata: { name: 'settings', attempt: 0 },
      image: { image: BUSYBOX },
      command: ['sh', '-c', script],
      args: ['first-arg'],
      workingDir: '/tmp',
      envs: [{ key: 'GREETING', value: Buffer.from('hello world') }],
      mounts: [
        { hostPath: hostDir, containerPath: '/data', readonly: true },
        { hostPath: hostDir, containerPath: '/rw', readonly: false },
        { hostPath: join(hostDir, 'made-for-you'), containerPath: '/made', readonly: false },
      ],
      linux: { securityContext: { runAsUser: { value: '1000' }, runAsGroup: { value: '3000' } } },
    });
    assert.equal(status.exitCode, 0, `settings check failed with exit code ${status.exitCode}`);
    assert.deepEqual(status.mounts.map((m) => [m.containerPath, m.readonly]), [['/data', true], ['/rw', false], ['/made', false]]);
  });

  test('mount propagation: rslave from a shared host mount works; from a private one it is a clear error at create', async () => {
    const { id: podId, config: podConfig } = await pod('propagation');
    const hostDir = mkdtempSync(join(tmpdir(), 'mascri-e2e-prop-'));
    dirs.push(hostDir);
    const rslave = (name: string, script: string) => shellContainer(name, script, {
      mounts: [{ hostPath: hostDir, containerPath: '/host', readonly: false, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }],
    });
    const mountinfo = (await import('node:fs')).readFileSync('/proc/self/mountinfo', 'utf8');
    const tmpIsPrivate = !/ \/tmp .* shared:|^\S+ \S+ \S+ \S+ \/ .* shared:/m.test(mountinfo);
    if (tmpIsPrivate) {
      await assert.rejects(
        server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: rslave('private-src', 'true'), sandboxConfig: podConfig }),
        (error: { code: number; details: string }) => error.code === GrpcCode.FAILED_PRECONDITION && /HOST_TO_CONTAINER .*mount --make-rshared/.test(error.details),
      );
    }
    // Make the host directory a shared mount of its own: then rslave works, and a mount made on the
    // host after the container started shows up inside it.
    assert.equal((await execa('mount', ['--bind', hostDir, hostDir])).exitCode, 0);
    try {
      await execa('mount', ['--make-rshared', hostDir]);
      const id = await create(podId, podConfig, rslave('slave', 'for i in $(seq 1 100); do [ -f /host/sub/marker ] && exit 0; sleep 0.1; done; exit 1'));
      await server.client.callRuntime('StartContainer', { containerId: id });
      const sub = join(hostDir, 'sub');
      (await import('node:fs')).mkdirSync(sub);
      await execa('mount', ['-t', 'tmpfs', 'tmpfs', sub]);
      writeFileSync(join(sub, 'marker'), 'x');
      const status = await waitFor('the rslave container to exit', async () => {
        const { status } = await server.client.callRuntime('ContainerStatus', { containerId: id });
        return status!.state === 'CONTAINER_EXITED' ? status! : undefined;
      });
      assert.equal(status.exitCode, 0, 'a host mount made after start propagated into the container');
      await execa('umount', [sub]);
    } finally {
      await execa('umount', ['-l', hostDir], { reject: false });
    }
  });

  test('exit codes and reasons: Completed, Error with code 3, OOMKilled', async () => {
    const { id: podId, config: podConfig } = await pod('exits');
    const ok = await runToExit(podId, podConfig, shellContainer('ok', 'exit 0'));
    assert.deepEqual([ok.exitCode, ok.reason], [0, 'Completed']);
    const three = await runToExit(podId, podConfig, shellContainer('three', 'exit 3'));
    assert.deepEqual([three.exitCode, three.reason], [3, 'Error']);
    const oom = await runToExit(podId, podConfig, shellContainer('oom', 'dd if=/dev/zero of=/dev/null bs=256M count=1', {
      linux: { resources: { memoryLimitInBytes: String(32 * 1024 * 1024) } },
    }));
    assert.equal(oom.reason, 'OOMKilled');
    assert.equal(oom.exitCode, 137);
    assert.equal(oom.resources!.linux!.memoryLimitInBytes, String(32 * 1024 * 1024));
  });

  test('stop kills a container that ignores SIGTERM after the timeout', async () => {
    const { id: podId, config: podConfig } = await pod('stubborn');
    const id = await create(podId, podConfig, shellContainer('stubborn', "trap '' TERM; while true; do sleep 1; done"));
    await server.client.callRuntime('StartContainer', { containerId: id });
    const started = Date.now();
    await server.client.callRuntime('StopContainer', { containerId: id, timeout: '2' });
    const took = Date.now() - started;
    const status = (await server.client.callRuntime('ContainerStatus', { containerId: id })).status!;
    assert.equal(status.state, 'CONTAINER_EXITED');
    assert.equal(status.exitCode, 137);
    assert.ok(took >= 1900, `stop waited ${took} ms for the 2 s grace period`);
  });

  test('errors: unknown or stopped sandbox, absent image, same name twice', async () => {
    const { id: podId, config: podConfig } = await pod('errors');
    await assert.rejects(server.client.callRuntime('CreateContainer', { podSandboxId: 'f'.repeat(64), config: shellContainer('x', 'true'), sandboxConfig: podConfig }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.NOT_FOUND);
      assert.match(error.details, /no pod sandbox/);
      return true;
    });
    await assert.rejects(
      server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('x', 'true', { image: { image: 'localhost:5000/not-pulled:1' } }), sandboxConfig: podConfig }),
      (error: { code: number; details: string }) => error.code === GrpcCode.NOT_FOUND && /not-pulled:1.*pull it first/.test(error.details),
    );
    const first = await create(podId, podConfig, shellContainer('twice', 'sleep 100'));
    await assert.rejects(server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('twice', 'sleep 100'), sandboxConfig: podConfig }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.ALREADY_EXISTS);
      assert.ok(error.details.includes(first));
      return true;
    });
    await server.client.callRuntime('StopPodSandbox', { podSandboxId: podId });
    await assert.rejects(
      server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('late', 'true'), sandboxConfig: podConfig }),
      (error: { code: number; details: string }) => error.code === GrpcCode.FAILED_PRECONDITION && /not ready/.test(error.details),
    );
    await assert.rejects(server.client.callRuntime('StartContainer', { containerId: 'nosuchcontainer' }), (error: { code: number }) => error.code === GrpcCode.NOT_FOUND);
  });

  test('StopPodSandbox stops the pod\'s containers, RemovePodSandbox removes them', async () => {
    const { id: podId, config: podConfig } = await pod('members');
    const a = await create(podId, podConfig, shellContainer('a', 'sleep 1000'));
    const b = await create(podId, podConfig, shellContainer('b', 'sleep 1000'));
    await server.client.callRuntime('StartContainer', { containerId: a });
    await server.client.callRuntime('StartContainer', { containerId: b });
    await server.client.callRuntime('StopPodSandbox', { podSandboxId: podId });
    for (const id of [a, b]) assert.equal((await server.client.callRuntime('ContainerStatus', { containerId: id })).status!.state, 'CONTAINER_EXITED');
    await server.client.callRuntime('RemovePodSandbox', { podSandboxId: podId });
    for (const id of [a, b, podId]) assert.equal(await dockerInspect(id), undefined);
    const left = await server.client.callRuntime('ListContainers', { filter: { podSandboxId: podId } });
    assert.deepEqual(left.containers, []);
  });

  test('RemovePodSandbox racing RemoveContainer of its containers (a kubelet\'s GC) succeeds for every call', async () => {
    const { id: podId, config: podConfig } = await pod('race');
    const a = await create(podId, podConfig, shellContainer('a', 'sleep 1000'));
    const b = await create(podId, podConfig, shellContainer('b', 'sleep 1000'));
    await server.client.callRuntime('StartContainer', { containerId: a });
    await server.client.callRuntime('StartContainer', { containerId: b });
    // Docker answers all but the first remove of a container with "removal of container X is already in progress".
    const results = await Promise.allSettled([
      server.client.callRuntime('RemovePodSandbox', { podSandboxId: podId }),
      server.client.callRuntime('RemoveContainer', { containerId: a }),
      server.client.callRuntime('RemoveContainer', { containerId: a }),
      server.client.callRuntime('RemoveContainer', { containerId: b }),
      server.client.callRuntime('RemovePodSandbox', { podSandboxId: podId }),
    ]);
    assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), []);
    for (const id of [a, b, podId]) assert.equal(await dockerInspect(id), undefined);
    const { items } = await server.client.callRuntime('ListPodSandbox', { filter: { id: podId } });
    assert.deepEqual(items, []);
  });
});

