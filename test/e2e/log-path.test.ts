/** A container's log file stays inside its pod's log directory: anything else is refused before anything is made. */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { MascriServer, TestPods, dockerContainerNames, shellContainer, waitFor, setUpServerWithBusybox } from '../helpers.js';

let server: MascriServer;
const pods = new TestPods(() => server);
const outside = mkdtempSync(join(tmpdir(), 'mascri-outside-'));

setUpServerWithBusybox(pods, (started) => (server = started));
after(async () => {
  rmSync(outside, { recursive: true, force: true });
});

test('a log_path that leaves the log directory (.., absolute, a symlinked component) is INVALID_ARGUMENT, and nothing is made', async () => {
  const { id, config } = await pods.pod('logpath');
  const logDirectory = config.logDirectory as string;
  mkdirSync(logDirectory, { recursive: true });
  symlinkSync(outside, join(logDirectory, 'evil'));
  const escape = join('..', '..', ...outside.split('/').filter(Boolean), 'x.log');
  for (const [logPath, message] of [
    ['../../tmp/mascri-escape.log', /config\.log_path "\.\.\/\.\.\/tmp\/mascri-escape\.log" leaves the pod's log_directory/],
    [escape, /leaves the pod's log_directory/],
    [join(outside, 'abs.log'), /must be relative to the pod's log_directory/],
    ['evil/0.log', /goes through the symbolic link/],
  ] as const) {
    const name = `bad-${readdirSync(logDirectory).length}-${logPath.length}`;
    await assert.rejects(
      server.client.callRuntime('CreateContainer', { podSandboxId: id, config: shellContainer(name, 'echo escaped', { logPath }), sandboxConfig: config }),
      (error: { code: number; details: string }) => {
        assert.equal(error.code, GrpcCode.INVALID_ARGUMENT, error.details);
        assert.match(error.details, message);
        return true;
      },
      logPath,
    );
    assert.deepEqual(await dockerContainerNames(`k8s_${name}_`), [], `no container was made for ${logPath}`);
  }
  assert.deepEqual(readdirSync(outside), [], 'nothing was written outside the log directory');
  assert.equal(existsSync('/tmp/mascri-escape.log'), false);
  // A proper relative path still works, in a new subdirectory.
  const containerId = await pods.container(id, config, shellContainer('good', 'echo inside', { logPath: 'good/0.log' }), true);
  const file = join(logDirectory, 'good', '0.log');
  await waitFor('the log line', async () => (existsSync(file) ? true : undefined));
  const status = await server.client.callRuntime('ContainerStatus', { containerId });
  assert.equal(status.status?.logPath, file);
});
