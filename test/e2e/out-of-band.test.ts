/** Pods whose Docker containers are removed behind mascri's back are still stopped and removed whole. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MascriServer, TestPods, docker, dockerInspect, shellContainer, waitFor, setUpServerWithBusybox } from '../helpers.js';

let server: MascriServer;
const pods = new TestPods(() => server);

setUpServerWithBusybox(pods, (started) => (server = started));

async function podWithTwoContainers(name: string): Promise<{ podId: string; containers: string[] }> {
  const { id, config } = await pods.pod(name);
  const containers: string[] = [];
  for (const c of ['one', 'two']) containers.push(await pods.container(id, config, shellContainer(c, 'exec sleep 3600', { logPath: `${c}/0.log` }), true));
  return { podId: id, containers };
}

async function stopAndRemove(podId: string): Promise<void> {
  await server.client.callRuntime('StopPodSandbox', { podSandboxId: podId });
  await server.client.callRuntime('RemovePodSandbox', { podSandboxId: podId });
}

async function assertGone(ids: string[]): Promise<void> {
  for (const id of ids) assert.equal(await dockerInspect(id), undefined, `${id.slice(0, 12)} is gone from Docker`);
  const { containers } = await server.client.callRuntime('ListContainers', {});
  assert.deepEqual(containers.filter((c) => ids.includes(c.id)), [], 'and from ListContainers');
}

test('a pod whose pause container was removed out of band reports NOTREADY, and Stop + Remove still remove its containers', async () => {
  const { podId, containers } = await podWithTwoContainers('no-pause');
  assert.equal((await docker(['rm', '-f', podId])).code, 0);
  const listed = await waitFor('the pod to be NOTREADY', async () => {
    const { items } = await server.client.callRuntime('ListPodSandbox', { filter: { id: podId } });
    return items.length === 1 && items[0]!.state === 'SANDBOX_NOTREADY' ? items[0] : undefined;
  });
  assert.equal(listed.metadata?.namespace, 'e2e', 'the pod is described from its containers');
  const status = await server.client.callRuntime('PodSandboxStatus', { podSandboxId: podId });
  assert.equal(status.status?.state, 'SANDBOX_NOTREADY');
  await stopAndRemove(podId);
  await assertGone(containers);
  const { items } = await server.client.callRuntime('ListPodSandbox', { filter: { id: podId } });
  assert.deepEqual(items, [], 'the pod is no longer listed');
});

test('a pod one of whose containers was removed out of band is still stopped and removed whole', async () => {
  const { podId, containers } = await podWithTwoContainers('no-member');
  assert.equal((await docker(['rm', '-f', containers[0]!])).code, 0);
  await stopAndRemove(podId);
  await assertGone([podId, ...containers]);
});

test('a pod whose containers were all removed out of band while its pause container lives on is removed whole', async () => {
  const { podId, containers } = await podWithTwoContainers('only-pause');
  assert.equal((await docker(['rm', '-f', ...containers])).code, 0);
  await stopAndRemove(podId);
  await assertGone([podId, ...containers]);
});
