/**
 * Masked and read-only paths (linux.security_context.masked_paths / readonly_paths) end to end:
 * the docker CLI has no flag for them, so mascri adds them to the create request it sends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BUSYBOX, DaemonRelay, MascriServer, TestPods, docker, dockerInspect, removeContainers, sandboxConfig, shellContainer, setUpServerWithBusybox } from '../helpers.js';

/** What a kubelet sends for procMount: Default (Kubernetes' lists, one path more than Docker 20.10's). */
const KUBELET_MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
const KUBELET_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
/** Docker 20.10's default masked paths; newer engines add /sys/devices/virtual/powercap. */
const DOCKER_DEFAULT_MASKED = KUBELET_MASKED.slice(0, -1);
const isDockerDefault = (paths: string[]) => DOCKER_DEFAULT_MASKED.every((path) => paths.includes(path)) && paths.every((path) => KUBELET_MASKED.includes(path));

describe('masked and read-only paths', () => {
  let server: MascriServer;
  const pods = new TestPods(() => server);
  const { created, dirs } = pods;

  setUpServerWithBusybox(pods, (started) => (server = started));

  async function startWith(name: string, securityContext: Record<string, unknown>): Promise<string> {
    const { id: podId, config: podConfig } = await pods.pod(name);
    return pods.container(podId, podConfig, shellContainer(name, 'sleep 1000', { linux: { securityContext } }), true);
  }

  async function exec(id: string, script: string): Promise<{ out: string; err: string; code: number }> {
    const result = await server.client.callRuntime('ExecSync', { containerId: id, cmd: ['sh', '-c', script], timeout: '20' });
    return { out: Buffer.from(result.stdout).toString(), err: Buffer.from(result.stderr).toString(), code: result.exitCode };
  }

  test('a masked file cannot be run or read, a masked directory is empty, a read-only path refuses writes', async () => {
    const id = await startWith('masked', { maskedPaths: ['/bin/ls', '/etc', '/proc/cpuinfo'], readonlyPaths: ['/tmp'] });

    const ls = await exec(id, '/bin/ls /; echo "exit=$?"');
    assert.match(ls.err, /\/bin\/ls: Permission denied/);
    assert.match(ls.out, /exit=126/);
    assert.equal((await exec(id, 'wc -c < /bin/ls')).out.trim(), '0', 'a masked file reads as /dev/null');
    assert.equal((await exec(id, '/bin/cat /proc/cpuinfo | wc -c')).out.trim(), '0', 'a /proc entry can be masked too');
    const etc = await exec(id, 'echo $(/bin/busybox ls -A /etc | wc -l); touch /etc/new');
    assert.equal(etc.out.trim(), '0', 'a masked directory is an empty tmpfs');
    assert.match(etc.err, /Read-only file system/);
    const tmp = await exec(id, 'touch /tmp/test');
    assert.notEqual(tmp.code, 0);
    assert.equal(tmp.err, 'touch: /tmp/test: Read-only file system\n');
    assert.equal((await exec(id, 'echo ok > /root/file && cat /root/file')).out, 'ok\n', 'the rest of the root filesystem stays writable');

    const host = (await dockerInspect(id))!.HostConfig;
    assert.deepEqual(host.MaskedPaths, ['/bin/ls', '/etc', '/proc/cpuinfo'], 'the list replaces Docker\'s default list');
    assert.deepEqual(host.ReadonlyPaths, ['/tmp']);
  });

  test('the kubelet\'s default lists are applied as sent; empty lists keep Docker\'s defaults', async () => {
    const kubelet = await startWith('kubelet', { maskedPaths: KUBELET_MASKED, readonlyPaths: KUBELET_READONLY });
    const host = (await dockerInspect(kubelet))!.HostConfig;
    assert.deepEqual(host.MaskedPaths, KUBELET_MASKED);
    assert.deepEqual(host.ReadonlyPaths, KUBELET_READONLY);
    const sys = await exec(kubelet, 'echo 1 > /proc/sys/kernel/domainname');
    assert.match(sys.err, /Read-only file system/);
    assert.equal((await exec(kubelet, 'cat /proc/keys 2>/dev/null | wc -c')).out.trim(), '0');

    const plain = await startWith('defaults', {});
    const defaults = (await dockerInspect(plain))!.HostConfig;
    assert.ok(isDockerDefault(defaults.MaskedPaths), `Docker's default: ${defaults.MaskedPaths}`);
    assert.deepEqual(defaults.ReadonlyPaths, KUBELET_READONLY);
    const onlyReadonly = await startWith('only-readonly', { readonlyPaths: ['/tmp'] });
    const mixed = (await dockerInspect(onlyReadonly))!.HostConfig;
    assert.ok(isDockerDefault(mixed.MaskedPaths), 'an empty masked list keeps Docker\'s default masked list');
    assert.deepEqual(mixed.ReadonlyPaths, ['/tmp']);
  });

  test('a relative path is INVALID_ARGUMENT naming the field, and nothing is created', async () => {
    const { id: podId, config: podConfig } = await pods.pod('bad-path');
    const config = shellContainer('bad', 'sleep 1', { linux: { securityContext: { maskedPaths: ['/bin/ls', 'etc/passwd'] } } });
    await assert.rejects(server.client.callRuntime('CreateContainer', { podSandboxId: podId, config, sandboxConfig: podConfig }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.INVALID_ARGUMENT);
      assert.match(error.details, /masked_paths\[1\] "etc\/passwd" must be an absolute path/);
      return true;
    });
    const left = await docker(['ps', '-a', '--filter', `label=io.mascri.sandbox-id=${podId}`, '--filter', 'label=io.mascri.type=container', '-q']);
    assert.equal(left.stdout.trim(), '');
  });

  test('the client: mascri run with a crictl-format config that masks a path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mascri-paths-'));
    dirs.push(dir);
    const podConfig = sandboxConfig('cli-paths');
    dirs.push(podConfig.logDirectory as string);
    const containerConfig = {
      metadata: { name: 'masked' },
      image: { image: BUSYBOX },
      command: ['sh', '-c', 'sleep 1000'],
      linux: { security_context: { masked_paths: ['/bin/ls'], readonly_paths: ['/tmp'] } },
    };
    writeFileSync(join(dir, 'pod.json'), JSON.stringify(podConfig));
    writeFileSync(join(dir, 'container.json'), JSON.stringify(containerConfig));
    const run = await server.cli(['run', '--no-pull', join(dir, 'container.json'), join(dir, 'pod.json')]);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim().split('\n').pop()!;
    created.push(id);
    const inspect = await dockerInspect(id);
    assert.ok(inspect, `docker knows ${id}`);
    created.push(inspect.Config.Labels['io.mascri.sandbox-id']);
    assert.deepEqual(inspect.HostConfig.MaskedPaths, ['/bin/ls']);
    assert.deepEqual(inspect.HostConfig.ReadonlyPaths, ['/tmp']);
    const touch = await server.cli(['exec', id, 'touch', '/tmp/x']);
    assert.notEqual(touch.code, 0);
    assert.match(touch.stderr, /Read-only file system/);
  });
});

describe('masked paths while the Docker daemon is unreachable', () => {
  test('CreateContainer is UNAVAILABLE naming the engine, not mascri\'s relay', async () => {
    const relay = new DaemonRelay();
    await relay.up();
    const server = await MascriServer.start({ env: { DOCKER_HOST: relay.dockerHost } });
    const created: string[] = [];
    const podConfig = sandboxConfig('down-paths');
    try {
      await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
      const { podSandboxId } = await server.client.callRuntime('RunPodSandbox', { config: podConfig });
      created.push(podSandboxId);
      await relay.down();
      const config = shellContainer('masked', 'sleep 1', { linux: { securityContext: { maskedPaths: ['/bin/ls'] } } });
      await assert.rejects(server.client.callRuntime('CreateContainer', { podSandboxId, config, sandboxConfig: podConfig }), (error: { code: number; details: string }) => {
        assert.equal(error.code, GrpcCode.UNAVAILABLE, error.details);
        assert.ok(!error.details.includes('create-relay-'), `names the engine, not the relay: ${error.details}`);
        assert.match(error.details, new RegExp(`Cannot connect to the Docker daemon at ${relay.dockerHost}`));
        return true;
      });
    } finally {
      await relay.up().catch(() => undefined);
      await removeContainers(created);
      await server.stop();
      await relay.dispose();
      rmSync(podConfig.logDirectory as string, { recursive: true, force: true });
    }
  });
});
