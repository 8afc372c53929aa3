/** Pod sandboxes end to end over gRPC: the pause container, its settings, lifecycle, restarts and failures. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { MascriServer, docker, dockerContainerNames, dockerInspect, removeContainers, sandboxConfig } from '../helpers.js';

describe('pod sandboxes over gRPC', () => {
  let server: MascriServer;
  const sandboxes: string[] = [];
  const dirs: string[] = [];

  async function run(config: Record<string, unknown>): Promise<string> {
    if (typeof config.logDirectory === 'string') dirs.push(config.logDirectory);
    const { podSandboxId } = await server.client.callRuntime('RunPodSandbox', { config });
    sandboxes.push(podSandboxId);
    return podSandboxId;
  }

  before(async () => {
    server = await MascriServer.start();
  });
  after(async () => {
    await removeContainers(sandboxes);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await server.stop();
  });

  test('RunPodSandbox runs a k8s_POD_ pause container and PodSandboxStatus describes it', async () => {
    const config = sandboxConfig('web', {
      hostname: 'web-host',
      labels: { app: 'web', tier: 'front' },
      annotations: { 'example.com/owner': 'e2e', note: 'a, b = c' },
      dnsConfig: { servers: ['9.9.9.9'], searches: ['svc.e2e.local'], options: ['ndots:5'] },
      linux: { sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80' }, securityContext: { runAsUser: { value: '65534' }, readonlyRootfs: true } },
    });
    const id = await run(config);
    assert.match(id, /^[0-9a-f]{64}$/);
    const listedCreatedAt = (await server.client.callRuntime('ListPodSandbox', { filter: { id } })).items[0]?.createdAt;

    const names = await docker(['ps', '--filter', `id=${id}`, '--format', '{{.Names}}']);
    const meta = config.metadata;
    assert.equal(names.stdout.trim(), `k8s_POD_${meta.name}_${meta.namespace}_${meta.uid}_${meta.attempt}`);

    const inspect = (await dockerInspect(id))!;
    assert.equal(inspect.Config.Hostname, 'web-host');
    assert.equal(inspect.Config.User, '65534');
    assert.equal(inspect.HostConfig.ReadonlyRootfs, true);
    assert.equal(inspect.HostConfig.Sysctls['net.ipv4.ip_unprivileged_port_start'], '80');
    const resolv = readFileSync(inspect.ResolvConfPath, 'utf8');
    assert.match(resolv, /nameserver 9\.9\.9\.9/);
    assert.match(resolv, /search svc\.e2e\.local/);
    assert.match(resolv, /options ndots:5/);
    assert.ok(existsSync(config.logDirectory as string), 'log_directory is created on the host');

    const { status, info } = await server.client.callRuntime('PodSandboxStatus', { podSandboxId: id, verbose: true });
    assert.ok(status);
    assert.equal(status.id, id);
    assert.equal(status.state, 'SANDBOX_READY');
    assert.deepEqual(status.metadata, meta);
    assert.deepEqual(status.labels, { app: 'web', tier: 'front' }, 'labels as given, internal ones hidden');
    assert.deepEqual(status.annotations, { 'example.com/owner': 'e2e', note: 'a, b = c' });
    assert.match(status.network!.ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(status.network!.ip, inspect.NetworkSettings.Networks.bridge.IPAddress);
    assert.equal(status.linux!.namespaces!.options!.network, 'POD');
    const createdMs = Number(BigInt(status.createdAt) / 1_000_000n);
    assert.ok(Math.abs(createdMs - Date.now()) < 120_000, 'created_at is in nanoseconds');
    // The list answered before Docker's inspect was in, the status after it: created_at is one value throughout.
    assert.equal(status.createdAt, listedCreatedAt);
    const verbose = JSON.parse(info.info!);
    assert.equal(verbose.docker.Id, id);
    assert.equal(verbose.pid, inspect.State.Pid);
  });

  test('host network: no pod IP, the host\'s network namespace', async () => {
    const id = await run(sandboxConfig('hostnet', { linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'POD', ipc: 'POD' } } } }));
    const { status } = await server.client.callRuntime('PodSandboxStatus', { podSandboxId: id });
    assert.equal(status!.network!.ip, '');
    assert.equal(status!.linux!.namespaces!.options!.network, 'NODE');
    assert.equal((await dockerInspect(id))!.HostConfig.NetworkMode, 'host');
  });

  test('a port mapping on 127.0.0.1 is published by Docker', async () => {
    const id = await run(sandboxConfig('ports', { portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort: 18181, hostIp: '127.0.0.1' }] }));
    const port = await docker(['port', id, '80/tcp']);
    assert.equal(port.stdout.trim(), '127.0.0.1:18181');
  });

  test('privileged on this host: the closest grant instead of a failure, said in Status', async () => {
    const id = await run(sandboxConfig('priv', { linux: { securityContext: { privileged: true } } }));
    const inspect = (await dockerInspect(id))!;
    assert.equal(inspect.State.Running, true);
    const status = await server.client.callRuntime('Status', { verbose: true });
    const host = JSON.parse(status.info.host!);
    assert.equal(typeof JSON.parse(status.info.eventLoop!).maxMs, 'number', 'the event-loop delay is among what verbose Status shows');
    const capBnd = /^CapBnd:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    const hostGrantsAll = (BigInt('0x' + capBnd) & (1n << 24n)) !== 0n;
    assert.equal(host.privilegedAllowed, hostGrantsAll);
    if (hostGrantsAll) {
      assert.equal(inspect.HostConfig.Privileged, true);
      assert.equal(inspect.HostConfig.OomScoreAdj, -998);
    } else {
      assert.equal(inspect.HostConfig.Privileged, false);
      assert.ok(inspect.HostConfig.CapAdd.includes('SYS_ADMIN') || inspect.HostConfig.CapAdd.includes('CAP_SYS_ADMIN'));
      assert.ok(inspect.HostConfig.SecurityOpt.includes('seccomp=unconfined'));
      assert.deepEqual(host.missingCapabilities, ['CAP_SYS_RESOURCE']);
      assert.match(server.logs, /privileged was asked, but this host lacks CAP_SYS_RESOURCE/);
      assert.match(server.logs, /oom_score_adj -998 is not allowed on this host/);
    }
  });

  test('the same metadata twice is ALREADY_EXISTS naming the existing sandbox', async () => {
    const config = sandboxConfig('dup');
    const id = await run(config);
    await assert.rejects(server.client.callRuntime('RunPodSandbox', { config }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.ALREADY_EXISTS);
      assert.ok(error.details.includes(id), error.details);
      return true;
    });
    assert.equal((await server.client.callRuntime('PodSandboxStatus', { podSandboxId: id })).status!.state, 'SANDBOX_READY', 'the first one is untouched');
  });

  test('an option Docker cannot honour is INVALID_ARGUMENT naming it, and nothing is left', async () => {
    const config = sandboxConfig('userns', { linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'POD', ipc: 'POD', usernsOptions: { mode: 'POD' } } } } });
    await assert.rejects(server.client.callRuntime('RunPodSandbox', { config }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.INVALID_ARGUMENT);
      assert.match(error.details, /userns_options/);
      return true;
    });
    assert.deepEqual(await dockerContainerNames(config.metadata.uid), []);
  });

  test('a failure after the pause container exists removes it again', async () => {
    // Docker accepts the (network-namespaced) sysctl name, creates the container, then fails to start it.
    const config = sandboxConfig('halfmade', { linux: { sysctls: { 'net.ipv4.mascri_no_such_sysctl': '1' } } });
    await assert.rejects(server.client.callRuntime('RunPodSandbox', { config }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.INTERNAL);
      assert.match(error.details, /running pod sandbox .*OCI runtime create failed.*mascri_no_such_sysctl/);
      return true;
    });
    assert.deepEqual(await dockerContainerNames(config.metadata.uid), [], 'no half-made pod is left behind');
    assert.ok(!existsSync(config.logDirectory as string), 'the log directory it created is gone too');
  });

  test('ListPodSandbox lists only mascri sandboxes, filtered by ID prefix, state and labels', async () => {
    const a = await run(sandboxConfig('list-a', { labels: { app: 'list', which: 'a' } }));
    const b = await run(sandboxConfig('list-b', { labels: { app: 'list', which: 'b' } }));
    const stranger = (await docker(['run', '-d', '--label', 'app=list', 'localhost:5000/pause:3.10'])).stdout.trim();
    try {
      const all = await server.client.callRuntime('ListPodSandbox', {});
      const ids = all.items.map((item) => item.id);
      assert.ok(ids.includes(a) && ids.includes(b));
      assert.ok(!ids.includes(stranger), 'other Docker containers are never listed');

      const byLabel = await server.client.callRuntime('ListPodSandbox', { filter: { labelSelector: { app: 'list' } } });
      assert.deepEqual(byLabel.items.map((item) => item.id).sort(), [a, b].sort());
      const both = await server.client.callRuntime('ListPodSandbox', { filter: { labelSelector: { app: 'list', which: 'b' } } });
      assert.deepEqual(both.items.map((item) => item.id), [b]);
      const byPrefix = await server.client.callRuntime('ListPodSandbox', { filter: { id: a.slice(0, 10) } });
      assert.deepEqual(byPrefix.items.map((item) => item.id), [a]);

      await server.client.callRuntime('StopPodSandbox', { podSandboxId: b });
      const ready = await server.client.callRuntime('ListPodSandbox', { filter: { labelSelector: { app: 'list' }, state: { state: 'SANDBOX_READY' } } });
      assert.deepEqual(ready.items.map((item) => item.id), [a]);
      const notReady = await server.client.callRuntime('ListPodSandbox', { filter: { labelSelector: { app: 'list' }, state: { state: 'SANDBOX_NOTREADY' } } });
      assert.deepEqual(notReady.items.map((item) => item.id), [b]);
    } finally {
      await removeContainers([stranger]);
    }
  });

  test('two pods started in parallel both run', async () => {
    const [a, b] = await Promise.all([run(sandboxConfig('par-a')), run(sandboxConfig('par-b'))]);
    for (const id of [a, b]) assert.equal((await server.client.callRuntime('PodSandboxStatus', { podSandboxId: id })).status!.state, 'SANDBOX_READY');
  });

  test('stop and remove are idempotent; an unknown ID is NOT_FOUND for status', async () => {
    const id = await run(sandboxConfig('life'));
    await server.client.callRuntime('StopPodSandbox', { podSandboxId: id });
    await server.client.callRuntime('StopPodSandbox', { podSandboxId: id });
    const stopped = await server.client.callRuntime('PodSandboxStatus', { podSandboxId: id });
    assert.equal(stopped.status!.state, 'SANDBOX_NOTREADY');
    assert.equal(stopped.status!.network!.ip, '');
    await server.client.callRuntime('RemovePodSandbox', { podSandboxId: id });
    await server.client.callRuntime('RemovePodSandbox', { podSandboxId: id });
    await server.client.callRuntime('StopPodSandbox', { podSandboxId: id });
    assert.equal(await dockerInspect(id), undefined);
    await assert.rejects(server.client.callRuntime('PodSandboxStatus', { podSandboxId: id }), (error: { code: number }) => error.code === GrpcCode.NOT_FOUND);
  });

  test('a restarted server knows every sandbox with the same state and metadata', async () => {
    const ready = await run(sandboxConfig('restart-ready', { labels: { app: 'restart' }, annotations: { kept: 'yes' } }));
    const stopped = await run(sandboxConfig('restart-stopped', { labels: { app: 'restart' } }));
    await server.client.callRuntime('StopPodSandbox', { podSandboxId: stopped });
    const before = await server.client.callRuntime('ListPodSandbox', { filter: { labelSelector: { app: 'restart' } } });

    const socket = server.socket;
    server.proc.kill('SIGKILL');
    await new Promise((resolve) => server.proc.once('exit', resolve));
    const dir = server.dir;
    server = await MascriServer.start({ socket, replacing: server });
    if (dir) dirs.push(dir);

    const afterRestart = await server.client.callRuntime('ListPodSandbox', { filter: { labelSelector: { app: 'restart' } } });
    const sort = (items: typeof before.items) => [...items].sort((x, y) => x.id.localeCompare(y.id));
    assert.deepEqual(sort(afterRestart.items), sort(before.items));
    const states = Object.fromEntries(afterRestart.items.map((item) => [item.id, item.state]));
    assert.deepEqual(states, { [ready]: 'SANDBOX_READY', [stopped]: 'SANDBOX_NOTREADY' });
    assert.deepEqual((await server.client.callRuntime('PodSandboxStatus', { podSandboxId: ready })).status!.annotations, { kept: 'yes' });
  });
});

describe('pod infra image unreachable', () => {
  test('RunPodSandbox fails with a clear error and leaves nothing behind', async () => {
    const server = await MascriServer.start({ extraArgs: ['--pod-infra-image', 'localhost:5000/no-such-pause:1'] });
    try {
      const config = sandboxConfig('nopause');
      await assert.rejects(server.client.callRuntime('RunPodSandbox', { config }), (error: { code: number; details: string }) => {
        assert.equal(error.code, GrpcCode.NOT_FOUND);
        assert.match(error.details, /pulling the pod infra image "localhost:5000\/no-such-pause:1"/);
        return true;
      });
      assert.deepEqual(await dockerContainerNames(config.metadata.uid), []);
      assert.ok(!existsSync(config.logDirectory as string));
    } finally {
      await server.stop();
    }
  });
});
