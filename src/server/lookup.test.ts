import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerLabels, sandboxLabels } from '../docker/labels.js';
import type { DockerContainerInspect } from '../docker/types.js';
import { allSandboxes, findSandbox } from './lookup.js';

const POD = 'a'.repeat(64);
const GONE = 'b'.repeat(64);

function inspect(id: string, labels: Record<string, string>): DockerContainerInspect {
  return {
    Id: id,
    Name: `/n-${id.slice(0, 4)}`,
    Created: '2026-01-01T00:00:00Z',
    Image: 'sha256:x',
    State: { Status: 'running', Running: true, OOMKilled: false, Pid: 42, ExitCode: 0, Error: '', StartedAt: '2026-01-01T00:00:01Z', FinishedAt: '0001-01-01T00:00:00Z' },
    Config: { Labels: labels, Image: 'img' },
    HostConfig: { NetworkMode: `container:${id}` },
    NetworkSettings: { IPAddress: '172.17.0.9' },
  };
}

function member(id: string, sandboxId: string, pod: string): DockerContainerInspect {
  return inspect(id, containerLabels({ sandboxId, metadata: { name: 'c', attempt: 0 }, labels: {}, annotations: {}, logPath: '', image: 'img', config: {}, pod: { name: pod, namespace: 'ns', uid: `uid-${pod}` } }));
}

const store = (items: DockerContainerInspect[]) => ({ all: () => items, lookup: async (ref: string) => (ref ? items.find((i) => i.Id.startsWith(ref)) : undefined) });

test('containers whose pause container is gone make a NOTREADY ghost sandbox, described from their labels', async () => {
  const items = [
    inspect(POD, sandboxLabels({ metadata: { name: 'live', namespace: 'ns', uid: 'uid-live', attempt: 1 }, labels: {}, annotations: {}, logDirectory: '', runtimeHandler: '', config: {} })),
    member('c'.repeat(64), POD, 'live'),
    member('d'.repeat(64), GONE, 'orphaned'),
    member('e'.repeat(64), GONE, 'orphaned'),
  ];
  const sandboxes = allSandboxes(store(items));
  assert.deepEqual(sandboxes.map((s) => s.inspect.Id), [POD, GONE], 'one ghost for the two orphans, none for the live pod');
  const ghost = sandboxes[1]!;
  assert.equal(ghost.inspect.State.Running, false);
  assert.equal(ghost.inspect.NetworkSettings.IPAddress, '');
  assert.deepEqual(ghost.meta.metadata, { name: 'orphaned', namespace: 'ns', uid: 'uid-orphaned', attempt: 0 });
  assert.equal(allSandboxes(store(items))[1], ghost, 'the same ghost object while the store is unchanged (list entries are memoized per object)');
  assert.equal((await findSandbox(store(items), GONE))?.inspect.Id, GONE, 'found by its ID');
  assert.equal((await findSandbox(store(items), 'bbbb'))?.inspect.Id, GONE, 'and by a prefix');
  assert.equal(await findSandbox(store(items), 'f'.repeat(64)), undefined);
  assert.equal(await findSandbox(store(items), ''), undefined);
});
