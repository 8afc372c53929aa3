/** ExecSync end to end: output, exit codes, timeout (the process is really killed), output cap, bad targets. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BUSYBOX, MascriServer, removeContainers, sandboxConfig, shellContainer } from '../helpers.js';

describe('ExecSync', () => {
  let server: MascriServer;
  let podId = '';
  let running = '';
  let exited = '';
  let logDirectory = '';

  before(async () => {
    server = await MascriServer.start();
    await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
    const config = sandboxConfig('exec');
    logDirectory = config.logDirectory as string;
    podId = (await server.client.callRuntime('RunPodSandbox', { config })).podSandboxId;
    running = (await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('sleeper', 'sleep 1000'), sandboxConfig: config })).containerId;
    await server.client.callRuntime('StartContainer', { containerId: running });
    exited = (await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('done', 'true'), sandboxConfig: config })).containerId;
  });
  after(async () => {
    await removeContainers([running, exited, podId].filter(Boolean));
    rmSync(logDirectory, { recursive: true, force: true });
    await server.stop();
  });

  test('answers stdout, stderr and the exit code', async () => {
    const result = await server.client.callRuntime('ExecSync', { containerId: running, cmd: ['sh', '-c', 'echo hello; echo oops >&2; exit 7'] });
    assert.equal(result.stdout.toString(), 'hello\n');
    assert.equal(result.stderr.toString(), 'oops\n');
    assert.equal(result.exitCode, 7);
    const ok = await server.client.callRuntime('ExecSync', { containerId: running.slice(0, 12), cmd: ['echo', 'by prefix'] });
    assert.equal(ok.stdout.toString(), 'by prefix\n');
    assert.equal(ok.exitCode, 0);
  });

  test('a timeout fails with DEADLINE_EXCEEDED and kills the process in the container', async () => {
    const started = Date.now();
    await assert.rejects(server.client.callRuntime('ExecSync', { containerId: running, cmd: ['sleep', '417'], timeout: '1' }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.DEADLINE_EXCEEDED);
      assert.match(error.details, /timeout of 1 s/);
      return true;
    });
    assert.ok(Date.now() - started < 10_000);
    const ps = await server.client.callRuntime('ExecSync', { containerId: running, cmd: ['ps'] });
    assert.doesNotMatch(ps.stdout.toString(), /sleep 417/, 'the timed-out process is gone');
  });

  test('output past the cap is a clear error', async () => {
    await assert.rejects(server.client.callRuntime('ExecSync', { containerId: running, cmd: ['head', '-c', '20000000', '/dev/zero'] }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.RESOURCE_EXHAUSTED);
      assert.match(error.details, /16 MiB/);
      return true;
    });
  });

  test('a missing command, a stopped container and an unknown container are clear errors', async () => {
    await assert.rejects(server.client.callRuntime('ExecSync', { containerId: running, cmd: ['no-such-command'] }), (error: { code: number; details: string }) =>
      error.code === GrpcCode.FAILED_PRECONDITION && /could not be started.*no-such-command/.test(error.details),
    );
    await assert.rejects(server.client.callRuntime('ExecSync', { containerId: exited, cmd: ['true'] }), (error: { code: number; details: string }) =>
      error.code === GrpcCode.FAILED_PRECONDITION && /not running/.test(error.details),
    );
    await assert.rejects(server.client.callRuntime('ExecSync', { containerId: 'nosuch', cmd: ['true'] }), (error: { code: number }) => error.code === GrpcCode.NOT_FOUND);
  });
});
