/**
 * Environments and commands at the edges of what Linux starts a process with (128 KiB per string,
 * 2 MiB in all): up to those they work, past ARGS_INLINE_MAX through the create relay's body; past
 * them, and for other fields Docker or the kernel cannot take, INVALID_ARGUMENT at once, with
 * nothing left in Docker or in mascri's temporary directory.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { MascriServer, TestPods, dockerContainerNames, dockerInspect, shellContainer, waitFor, setUpServerWithBusybox } from '../helpers.js';

/** Linux's MAX_ARG_STRLEN less the NUL: the longest argument or environment string. */
const LONGEST = 128 * 1024 - 1;

/** ~1.7 MiB: 13 variables as long as a string can be, one with line breaks and multibyte text, 2000 small ones. */
function largeEnv(): Array<{ key: string; value: string }> {
  const envs = Array.from({ length: 13 }, (_, i) => ({ key: `BIG${i}`, value: String.fromCharCode(97 + i).repeat(LONGEST - `BIG${i}=`.length) }));
  envs.push({ key: 'LINES', value: 'first\nsecond\r\n"third" é€😀 \\n' });
  for (let i = 0; i < 2000; i++) envs.push({ key: `SMALL_${i}`, value: `v${i}` });
  return envs;
}

/** Env entries as the CRI's KeyValue carries them (its value is bytes). */
const asBytes = (envs: Array<{ key: string; value: string }>) => envs.map(({ key, value }) => ({ key, value: Buffer.from(value) }));

describe('environments and commands as large as Linux allows', () => {
  let server: MascriServer;
  const pods = new TestPods(() => server);
  /** The server's TMPDIR: label files and relay sockets go there, and must be gone after every call. */
  const serverTmp = mkdtempSync(join(tmpdir(), 'mascri-e2e-tmp-'));
  const hostDir = join(tmpdir(), `mascri-e2e-odd-${process.pid},"q\nnl`);
  let podId = '';
  let podConfig: Record<string, unknown> = {};
  let podName = '';

  const isInvalid = (pattern: RegExp) => (error: { code: number; details: string }) => {
    assert.equal(error.code, GrpcCode.INVALID_ARGUMENT, error.details);
    assert.match(error.details, pattern);
    return true;
  };
  /** `fn` is refused with INVALID_ARGUMENT matching `pattern` within a few seconds, and leaves no temporary file. */
  const refusedAtOnce = async (fn: () => Promise<unknown>, pattern: RegExp) => {
    const started = Date.now();
    await assert.rejects(fn, isInvalid(pattern));
    assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
    assert.deepEqual(readdirSync(serverTmp), [], 'no temporary file left');
  };

  setUpServerWithBusybox(pods, (started) => (server = started), { env: { TMPDIR: serverTmp } });
  before(async () => {
    ({ id: podId, config: podConfig } = await pods.pod('large-env'));
    podName = (podConfig.metadata as { name: string }).name;
  });
  after(async () => {
    rmSync(serverTmp, { recursive: true, force: true });
    rmSync(hostDir, { recursive: true, force: true });
  });

  test('~1.7 MiB of env (longest strings, line breaks, 2000 entries) and a 100 KiB args entry go through the request body; the process sees them byte for byte', async () => {
    const envs = largeEnv();
    const arg = 'é'.repeat(50 * 1024);
    const config = shellContainer('big-env', 'printf %s "$1" > /tmp/arg; cat /proc/$$/environ > /tmp/environ.part && mv /tmp/environ.part /tmp/environ; exec sleep 1000', { envs: asBytes(envs), args: ['sh', arg] });
    const containerId = await pods.container(podId, podConfig, config, true);
    assert.deepEqual(readdirSync(serverTmp), [], 'the relay socket and the label file are gone');

    await waitFor('the container to save its environment', async () => ((await server.client.callRuntime('ExecSync', { containerId, cmd: ['test', '-f', '/tmp/environ'] })).exitCode === 0 ? true : undefined));
    // The container's own process (its environ, saved as it started; PID 1 is the pod's pause) and an exec's.
    for (const file of ['/tmp/environ', '/proc/self/environ']) {
      const environ = (await server.client.callRuntime('ExecSync', { containerId, cmd: ['cat', file], timeout: '30' })).stdout;
      const seen = new Map(environ.toString('utf8').split('\0').filter(Boolean).map((variable) => [variable.slice(0, variable.indexOf('=')), variable.slice(variable.indexOf('=') + 1)]));
      for (const { key, value } of envs) assert.ok(seen.get(key) === value, `${file}: ${key}: ${seen.get(key)?.length} characters seen, ${value.length} asked`);
      assert.equal(seen.get('LINES'), 'first\nsecond\r\n"third" é€😀 \\n');
    }
    const argSeen = (await server.client.callRuntime('ExecSync', { containerId, cmd: ['cat', '/tmp/arg'] })).stdout;
    assert.ok(Buffer.compare(argSeen, Buffer.from(arg)) === 0, `the args entry: ${argSeen.length} bytes`);

    // Docker holds them as asked, not as --env arguments (which would not fit in ARG_MAX beside the rest).
    const inspect = (await dockerInspect(containerId))!;
    assert.deepEqual(inspect.Config.Cmd, ['-c', 'printf %s "$1" > /tmp/arg; cat /proc/$$/environ > /tmp/environ.part && mv /tmp/environ.part /tmp/environ; exec sleep 1000', 'sh', arg]);
    assert.deepEqual(inspect.Config.Entrypoint, ['sh']);
    const create = server.logs.split('\n').find((line) => line.includes('"msg":"docker"') && line.includes('"args":["create"') && line.includes('k8s_big-env_'));
    assert.ok(create && !create.includes('"--env"') && !create.includes('"--entrypoint"'), 'docker create was given neither --env nor --entrypoint');
    const status = await server.client.callRuntime('ContainerStatus', { containerId });
    assert.equal(status.status!.state, 'CONTAINER_RUNNING');
  });

  test('an args entry as long as a string can be works in ExecSync: sh prints its length', async () => {
    const containerId = await pods.container(podId, podConfig, shellContainer('sleeper', 'exec sleep 1000'), true);
    const result = await server.client.callRuntime('ExecSync', { containerId, cmd: ['sh', '-c', 'echo ${#1}', 'sh', 'z'.repeat(LONGEST)] });
    assert.equal(result.stdout.toString(), `${LONGEST}\n`);
    assert.equal(result.exitCode, 0);

    // One byte more, and no process could start with it: refused at once, nothing run in the container.
    const dockerExecs = () => server.logs.split('\n').filter((line) => line.includes('"msg":"docker"') && line.includes('"args":["exec"')).length;
    const before = dockerExecs();
    for (const size of [LONGEST + 1, 300 * 1024]) {
      await refusedAtOnce(() => server.client.callRuntime('ExecSync', { containerId, cmd: ['sh', '-c', 'echo ${#1}', 'sh', 'z'.repeat(size)] }), new RegExp(`^cmd\\[4\\] is ${size} bytes .*MAX_ARG_STRLEN`));
      await refusedAtOnce(() => server.client.callRuntime('Exec', { containerId, cmd: ['sh', '-c', 'echo', 'z'.repeat(size)], stdout: true }), /cmd\[3\] is \d+ bytes/);
    }
    const many = Array.from({ length: 21 }, () => 'y'.repeat(100 * 1024));
    await refusedAtOnce(() => server.client.callRuntime('ExecSync', { containerId, cmd: ['echo', ...many] }), /^cmd take 2\.\d+ MiB .*ARG_MAX/);
    assert.equal(dockerExecs(), before, 'docker exec was not run for a refused command');
  });

  test('a 300 KiB env value, a 300 KiB args entry and 3 MiB of env are refused at once naming the field, and nothing is made in Docker', async () => {
    const names = async () => (await dockerContainerNames(podName)).filter((name) => !name.startsWith('k8s_POD_'));
    const already = await names();
    const big = 'x'.repeat(300 * 1024);
    const threeMiB = Array.from({ length: 30 }, (_, i) => ({ key: `V${i}`, value: 'y'.repeat(100 * 1024) }));
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [shellContainer('huge-env', 'true', { envs: asBytes([{ key: 'SMALL', value: '1' }, { key: 'HUGE', value: big }]) }), /envs\[1\] \(HUGE=\.\.\.\) is 307205 bytes .*MAX_ARG_STRLEN/],
      [shellContainer('huge-arg', 'echo ${#1}', { args: ['sh', big] }), /args\[1\] is 307200 bytes/],
      [shellContainer('huge-command', 'true', { command: ['sh', '-c', big] }), /command\[2\] is 307200 bytes/],
      [shellContainer('three-mib', 'true', { envs: asBytes(threeMiB) }), /envs, command and args take 2\.9\d MiB .*ARG_MAX/],
      [shellContainer('nul-env', 'true', { envs: asBytes([{ key: 'A', value: 'a\0b' }]) }), /envs\[0\] \(A=\.\.\.\) holds a NUL/],
      [shellContainer('long-path', 'true', { mounts: [{ hostPath: `/${'p'.repeat(5000)}`, containerPath: '/m' }] }), /mounts\[0\]\.host_path is 5001 bytes .*PATH_MAX/],
      [shellContainer('bad-device', 'true', { devices: [{ hostPath: '/dev/null', containerPath: '/dev/a:b', permissions: 'rw' }] }), /devices\[0\]\.container_path .*colon/],
    ];
    for (const [config, pattern] of cases) {
      await refusedAtOnce(() => server.client.callRuntime('CreateContainer', { podSandboxId: podId, config, sandboxConfig: podConfig }), pattern);
    }
    assert.deepEqual(await names(), already, 'no container was made for a refused request');
  });

  test('sandbox fields past what Linux or resolv.conf take are refused at once, and no pause container is made', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ hostname: 'h'.repeat(65) }, /hostname is 65 bytes.*HOST_NAME_MAX/],
      [{ hostname: 'h'.repeat(300 * 1024) }, /hostname is 307200 bytes/],
      [{ dnsConfig: { servers: [], searches: [], options: ['ndots:5\nnameserver 6.6.6.6'] } }, /dns_config\.options\[0\] .*white space/],
      [{ dnsConfig: { servers: [], searches: ['s'.repeat(300 * 1024)], options: [] } }, /dns_config\.searches\[0\] is 307200 bytes/],
      [{ linux: { sysctls: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`net.ipv4.x${i}`, 'v'.repeat(100 * 1024)])) } }, /most of it: linux\.sysctls/],
      [{ portMappings: [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: 'not-an-ip' }] }, /port_mappings\[0\]\.host_ip/],
    ];
    for (const [i, [extra, pattern]] of cases.entries()) {
      const name = `refused-${i}`;
      await refusedAtOnce(() => pods.pod(name, extra), pattern);
      assert.deepEqual(await dockerContainerNames(`_${name}-`), [], `no pause container for ${name}`);
    }
  });

  test('a mount whose host path holds a comma, a quote and a line break is passed quoted, and mounts that path', async () => {
    mkdirSync(hostDir, { recursive: true });
    writeFileSync(join(hostDir, 'file'), 'the odd directory\n');
    const containerId = await pods.container(podId, podConfig, shellContainer('odd-mount', 'exec sleep 1000', { mounts: [{ hostPath: hostDir, containerPath: '/odd,"m', readonly: true }] }), true);
    const result = await server.client.callRuntime('ExecSync', { containerId, cmd: ['cat', '/odd,"m/file'] });
    assert.equal(result.stdout.toString(), 'the odd directory\n');
    const mounts = (await dockerInspect(containerId))!.Mounts as Array<{ Source: string; Destination: string }>;
    assert.ok(mounts.some((mount) => mount.Source === hostDir && mount.Destination === '/odd,"m'), JSON.stringify(mounts));
  });
});
