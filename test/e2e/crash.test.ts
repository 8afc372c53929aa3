/**
 * Crash consistency (issue 14): `mascri serve` killed with SIGKILL at every step of RunPodSandbox,
 * CreateContainer and StartContainer (the test-only MASCRI_TEST_KILL_AFTER hook), then started
 * again. Whatever Docker holds for the instance afterwards is a whole CRI object that the List
 * calls show; stopping and removing what is listed leaves nothing in Docker, and the killed
 * server's temporary files are gone.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, test } from 'node:test';
import { ALL_CRASH_STEPS, KILL_AFTER_VAR } from '../../src/server/crash-points.js';
import { BUSYBOX, MascriServer, docker, sandboxConfig, shellContainer, uniqueSuffix } from '../helpers.js';

const dirs: string[] = [];
const instances: string[] = [];

before(async () => {
  const server = await MascriServer.start();
  try {
    await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
  } finally {
    await server.stop();
  }
});

after(async () => {
  for (const instance of instances) {
    const ids = await instanceContainers(instance);
    if (ids.length > 0) await docker(['rm', '-f', ...ids]);
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Every Docker container of `instance`, running or not. */
async function instanceContainers(instance: string): Promise<string[]> {
  const result = await docker(['ps', '-a', '--no-trunc', '--filter', `label=io.mascri.instance=${instance}`, '--format', '{{.ID}}']);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.split('\n').filter(Boolean);
}

/** The killed server's temporary directories (named mascri-<pid>-...). */
function tempDirsOf(pid: number): string[] {
  return [tmpdir(), '/dev/shm'].flatMap((root) => (existsSync(root) ? readdirSync(root).filter((name) => name.startsWith(`mascri-${pid}-`)) : []));
}

/** A container that goes through the create relay (stdin without stdin_once), so every create step is reached. */
function relayedContainer(): Record<string, unknown> {
  return shellContainer('app', 'while true; do echo tick; sleep 1; done', { stdin: true, stdinOnce: false });
}

for (const step of ALL_CRASH_STEPS) {
  test(`killed at ${step}: after a restart everything in Docker is listed, and stop + remove of what is listed leaves nothing`, async () => {
    const [call] = step.split('/') as [string, string];
    const instance = `crash-${uniqueSuffix()}`;
    instances.push(instance);
    const podConfig = sandboxConfig('crash');
    dirs.push(podConfig.logDirectory as string);

    // 1. A server that dies at the step, driven until it does.
    const doomed = await MascriServer.start({ extraArgs: ['--instance', instance], env: { [KILL_AFTER_VAR]: step } });
    const pid = doomed.proc.pid!;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => doomed.proc.once('exit', (_code, signal) => resolve(signal)));
    let outcome: unknown;
    try {
      const { podSandboxId } = await doomed.client.callRuntime('RunPodSandbox', { config: podConfig });
      if (call !== 'RunPodSandbox') {
        const { containerId } = await doomed.client.callRuntime('CreateContainer', { podSandboxId, config: relayedContainer(), sandboxConfig: podConfig });
        if (call !== 'CreateContainer') await doomed.client.callRuntime('StartContainer', { containerId });
      }
      outcome = 'answered';
    } catch (error) {
      outcome = error;
    }
    assert.equal(await exited, 'SIGKILL', `the server was killed at ${step} (the call ended with: ${String(outcome)})`);
    assert.match(doomed.logs, new RegExp(`killed at ${step.replace('/', '\\/')}`));
    await doomed.stop();

    // 2. The next server of the instance: what Docker holds is what it lists.
    const server = await MascriServer.start({ extraArgs: ['--instance', instance] });
    try {
      assert.deepEqual(tempDirsOf(pid), [], 'the killed server left no temporary directory');
      const inDocker = await instanceContainers(instance);
      const { items } = await server.client.callRuntime('ListPodSandbox', {});
      const { containers } = await server.client.callRuntime('ListContainers', {});
      const listed = new Set([...items.map((item) => item.id), ...containers.map((c) => c.id)]);
      for (const id of inDocker) assert.ok(listed.has(id), `${id.slice(0, 12)} is in Docker and listed (pods: ${items.length}, containers: ${containers.length})`);
      for (const item of items) {
        const { status } = await server.client.callRuntime('PodSandboxStatus', { podSandboxId: item.id });
        assert.equal(status?.metadata?.name, podConfig.metadata.name, 'a listed pod is the one asked for');
      }
      for (const container of containers) {
        const { status } = await server.client.callRuntime('ContainerStatus', { containerId: container.id });
        assert.equal(status?.metadata?.name, 'app', 'a listed container is the one asked for');
        assert.ok(items.some((item) => item.id === container.podSandboxId), 'in a listed pod');
      }

      // 3. Stop and remove what is listed: nothing is left.
      for (const item of items) {
        await server.client.callRuntime('StopPodSandbox', { podSandboxId: item.id });
        await server.client.callRuntime('RemovePodSandbox', { podSandboxId: item.id });
      }
      assert.deepEqual(await instanceContainers(instance), [], 'Docker holds nothing of the instance');
      const after = await server.client.callRuntime('ListPodSandbox', {});
      assert.deepEqual(after.items, []);
    } finally {
      await server.stop();
    }
  });
}
