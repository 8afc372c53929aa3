import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { Logger } from '../common/logger.js';
import { DockerError } from '../docker/errors.js';
import type { DockerContainerInspect } from '../docker/types.js';
import { PendingRemovals } from './pending-removals.js';

const quiet = new Logger('error', () => undefined);

/** Docker as the rollback sees it: down until `up` is set; holds containers by name. */
class FakeContainers {
  up = false;
  readonly held = new Map<string, { Id: string; Created: string }>();
  readonly removed: string[] = [];
  async remove(ids: readonly string[]): Promise<void> {
    if (!this.up) throw new DockerError('unavailable', 'Cannot connect to the Docker daemon', ['rm']);
    for (const id of ids) {
      for (const [name, held] of this.held) if (held.Id === id || name === id) this.held.delete(name);
      this.removed.push(id);
    }
  }
  async inspectOne(ref: string): Promise<DockerContainerInspect | undefined> {
    if (!this.up) throw new DockerError('unavailable', 'Cannot connect to the Docker daemon', ['inspect']);
    return this.held.get(ref) as DockerContainerInspect | undefined;
  }
}

/** Lets every pending promise callback run (the retries are async). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2026-12-02T12:00:00Z') }));
afterEach(() => mock.timers.reset());

test('removed at once when Docker answers; nothing is kept pending', async () => {
  const docker = new FakeContainers();
  docker.up = true;
  docker.held.set('k8s_POD_x', { Id: 'id1', Created: '2026-12-02T11:59:59Z' });
  const removals = new PendingRemovals(docker, quiet);
  await removals.remove('k8s_POD_x');
  assert.deepEqual(docker.removed, ['k8s_POD_x']);
  assert.deepEqual(removals.names(), []);
});

test('a removal that fails while Docker is down is tried again until Docker is back', async () => {
  const docker = new FakeContainers();
  docker.held.set('k8s_POD_x', { Id: 'id1', Created: '2026-12-02T11:59:59.123456789Z' });
  const removals = new PendingRemovals(docker, quiet);
  await removals.remove('k8s_POD_x');
  assert.deepEqual(removals.names(), ['k8s_POD_x'], 'kept for later');
  mock.timers.tick(500);
  await settle();
  assert.deepEqual(removals.names(), ['k8s_POD_x'], 'still down: still pending');
  docker.up = true;
  mock.timers.tick(1000);
  await settle();
  assert.deepEqual(docker.removed, ['id1'], 'removed by the ID the name had');
  assert.deepEqual(removals.names(), []);
  removals.close();
});

test('a container made under that name after the failure is not removed', async () => {
  const docker = new FakeContainers();
  const removals = new PendingRemovals(docker, quiet);
  await removals.remove('k8s_POD_x');
  docker.up = true;
  docker.held.set('k8s_POD_x', { Id: 'newer', Created: '2026-12-02T12:00:00.200Z' });
  mock.timers.tick(500);
  await settle();
  assert.deepEqual(docker.removed, [], 'the newer container stays');
  assert.deepEqual(removals.names(), []);
});

test('close stops the retries', async () => {
  const docker = new FakeContainers();
  const removals = new PendingRemovals(docker, quiet);
  await removals.remove('k8s_POD_x');
  removals.close();
  docker.up = true;
  mock.timers.tick(60_000);
  await settle();
  assert.deepEqual(docker.removed, []);
  assert.deepEqual(removals.names(), []);
});
