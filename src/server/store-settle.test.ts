import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../common/logger.js';
import { DockerError } from '../docker/errors.js';
import { FakeDocker } from '../docker/fake-adapter.js';
import { LABEL_TYPE } from '../docker/labels.js';
import { madeInspect, startedInspect } from './provisional.js';
import { ContainerStore, type StoreChange } from './store.js';

const AT = new Date('2026-12-02T12:00:00.000Z');

test('madeInspect and startedInspect: what a write knows, in Docker\'s shape', () => {
  const made = madeInspect({ id: 'c1', name: 'k8s_app', image: 'busybox', imageId: 'sha256:b', labels: { a: '1' }, started: false, at: AT });
  assert.equal(made.Name, '/k8s_app');
  assert.equal(made.Created, '2026-12-02T12:00:00.000Z');
  assert.deepEqual([made.State.Status, made.State.Running, made.State.StartedAt], ['created', false, '0001-01-01T00:00:00Z']);
  assert.deepEqual([made.Image, made.Config.Image, made.Config.Labels], ['sha256:b', 'busybox', { a: '1' }]);
  const running = madeInspect({ id: 'p1', name: 'k8s_POD', image: 'pause', imageId: '', labels: {}, started: true, at: AT });
  assert.deepEqual([running.State.Status, running.State.Running, running.State.StartedAt], ['running', true, '2026-12-02T12:00:00.000Z']);
  const started = startedInspect(made, AT);
  assert.deepEqual([started.State.Status, started.State.Running, started.State.StartedAt, started.Name], ['running', true, '2026-12-02T12:00:00.000Z', '/k8s_app']);
});

/** A store over a fake with one created container of the default instance. */
async function storeWithContainer(): Promise<{ docker: FakeDocker; store: ContainerStore; id: string }> {
  const docker = new FakeDocker();
  docker.addImage('busybox');
  const store = new ContainerStore(docker, silentLogger);
  await store.start();
  const id = await docker.containers.create(['--name', 'k8s_app_pod_ns_uid_0', 'busybox', 'sleep', '60'], { [LABEL_TYPE]: 'container' });
  return { docker, store, id };
}

test('settleInBackground: lists see what the write knows at once, lookups wait for Docker\'s answer, listeners hear only that answer', async () => {
  const { docker, store, id } = await storeWithContainer();
  try {
    const changes: StoreChange[] = [];
    store.onChange((change) => changes.push(change));
    let afterLookRan = false;
    const settled = store.settleInBackground(
      id,
      () => madeInspect({ id, name: 'k8s_app_pod_ns_uid_0', image: 'busybox', imageId: '', labels: { [LABEL_TYPE]: 'container' }, started: false, at: AT }),
      async () => {
        afterLookRan = true;
      },
    );
    assert.equal(store.isProvisional(id), true);
    assert.equal(store.all().find((c) => c.Id === id)?.Created, AT.toISOString(), 'a list sees the made-up inspect');
    assert.equal(changes.length, 0, 'listeners wait for Docker');
    const looked = await store.lookup(id);
    assert.equal(afterLookRan, true, 'a lookup goes on once afterLook is done');
    assert.notEqual(looked?.Created, AT.toISOString(), 'the lookup answers Docker\'s inspect');
    assert.equal(store.isProvisional(id), false);
    assert.deepEqual(changes.map((c) => [c.before, c.after?.State.Status]), [[undefined, 'created']], 'one change, from what listeners last saw');
    assert.equal((await settled)?.Id, id);
    assert.ok(docker.callsOf('containers.inspect').length >= 1);
  } finally {
    store.stop();
  }
});

test('settleInBackground after a start: listeners hear created -> running once', async () => {
  const { docker, store, id } = await storeWithContainer();
  try {
    const created = await store.refresh(id);
    const changes: StoreChange[] = [];
    store.onChange((change) => changes.push(change));
    await docker.containers.start(id);
    store.settleInBackground(id, (held) => startedInspect(held ?? created!, AT));
    assert.equal(store.peek(id)?.State.Status, 'running');
    assert.equal((await store.lookup(id))?.State.Status, 'running');
    assert.deepEqual(changes.map((c) => [c.before?.State.Status, c.after?.State.Status]), [['created', 'running']]);
  } finally {
    store.stop();
  }
});

test('a failed background inspect: the next lookup asks Docker again (and fails as Docker does)', async () => {
  const { docker, store, id } = await storeWithContainer();
  try {
    const down = new DockerError('unavailable', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
    docker.failNext('containers.inspect', down);
    docker.failNext('containers.inspect', down);
    assert.equal(await store.settleInBackground(id, () => madeInspect({ id, name: 'x', image: 'busybox', imageId: '', labels: { [LABEL_TYPE]: 'container' }, started: false, at: AT })), undefined);
    await assert.rejects(store.lookup(id), /Cannot connect/);
    assert.equal((await store.lookup(id))?.Id, id, 'once Docker answers, its inspect');
    assert.equal(store.isProvisional(id), false);
  } finally {
    store.stop();
  }
});

test('allSettled answers Docker\'s inspects: after the looks of recent writes, a failed one made again', async () => {
  const { docker, store, id } = await storeWithContainer();
  try {
    docker.failNext('containers.inspect', new DockerError('unavailable', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'));
    await store.settleInBackground(id, () => madeInspect({ id, name: 'x', image: 'busybox', imageId: '', labels: { [LABEL_TYPE]: 'container' }, started: false, at: AT }));
    assert.equal(store.isProvisional(id), true, 'the background look failed');
    const all = await store.allSettled();
    assert.notEqual(all.find((c) => c.Id === id)?.Created, AT.toISOString());
    assert.equal(store.isProvisional(id), false);
  } finally {
    store.stop();
  }
});

test('refreshes asked for while a look runs are made together by the next one; a failed look fails its own callers only', async () => {
  const { docker, store, id } = await storeWithContainer();
  try {
    const others = [];
    for (const name of ['b', 'c']) others.push(await docker.containers.create(['--name', `k8s_${name}_pod_ns_uid_0`, 'busybox', 'sleep', '60'], { [LABEL_TYPE]: 'container' }));
    const [b, c] = others as [string, string];
    const inspect = docker.containers.inspect.bind(docker.containers);
    const batches: string[][] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    Object.assign(docker.containers, {
      inspect: async (refs: readonly string[]) => {
        batches.push([...refs]);
        if (batches.length === 1) await held;
        return inspect(refs);
      },
    });
    const first = store.refresh(id);
    const waiting = [store.refresh(b), store.refresh(c), store.refresh(b)];
    await Promise.resolve();
    assert.deepEqual(batches, [[id]], 'one look runs; the others wait for it');
    release();
    assert.equal((await first)?.Id, id);
    assert.deepEqual((await Promise.all(waiting)).map((found) => found?.Id), [b, c, b]);
    assert.deepEqual(batches, [[id], [b, c]], 'the waiting refreshes were one look, each container once');

    docker.failNext('containers.inspect', new DockerError('unavailable', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'));
    await assert.rejects(store.refresh(c), /Cannot connect/);
    assert.equal((await store.refresh(c))?.Id, c, 'the next look is made');
  } finally {
    store.stop();
  }
});

test('a look put off (lookAfterMs): the next write\'s look covers both, a lookup makes it at once, else it is made after the delay', async (t) => {
  const { docker, store, id } = await storeWithContainer();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const made = () => madeInspect({ id, name: 'k8s_app_pod_ns_uid_0', image: 'busybox', imageId: '', labels: { [LABEL_TYPE]: 'container' }, started: false, at: AT });
    const changes: StoreChange[] = [];
    store.onChange((change) => changes.push(change));
    const inspects = () => docker.callsOf('containers.inspect').length;
    const before = inspects();

    // create, then start: one look, and listeners hear created and running from it
    const createSettled = store.settleInBackground(id, made, undefined, { lookAfterMs: 200 });
    await Promise.resolve();
    assert.equal(inspects(), before, 'no look yet');
    await docker.containers.start(id);
    const startSettled = store.settleInBackground(id, (held) => startedInspect(held!, AT));
    assert.equal((await startSettled)?.State.Status, 'running');
    assert.equal((await createSettled)?.State.Status, 'running', 'the create\'s settle is answered by the start\'s look');
    assert.equal(inspects(), before + 1, 'one docker inspect for both writes');
    assert.deepEqual(changes.map((c) => [c.before?.State.Status, c.after?.State.Status]), [[undefined, 'running']]);

    // a lookup does not wait for the delay
    await docker.containers.stop([id], 1);
    store.settleInBackground(id, made, undefined, { lookAfterMs: 200 });
    assert.equal((await store.lookup(id))?.State.Status, 'exited', 'the lookup made the look and answers Docker\'s inspect');
    assert.equal(inspects(), before + 2);

    // nothing asks: the look is made once the delay is over
    const alone = store.settleInBackground(id, made, undefined, { lookAfterMs: 200 });
    t.mock.timers.tick(199);
    assert.equal(inspects(), before + 2);
    t.mock.timers.tick(1);
    assert.equal((await alone)?.State.Status, 'exited');
    assert.equal(inspects(), before + 3);
    assert.equal(store.isProvisional(id), false);
  } finally {
    store.stop();
  }
});

test('looks put off go along with the next look at another container, unless a write runs on theirs', async (t) => {
  const { docker, store } = await storeWithContainer();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const sandbox = await docker.containers.create(['--name', 'k8s_POD_pod_ns_uid_0', 'busybox', 'sleep', '60'], { [LABEL_TYPE]: 'sandbox' });
    await docker.containers.start(sandbox);
    const member = await docker.containers.create(['--name', 'k8s_c_pod_ns_uid_0', 'busybox', 'sleep', '60'], { [LABEL_TYPE]: 'container' });
    const other = await docker.containers.create(['--name', 'k8s_d_pod_ns_uid_0', 'busybox', 'sleep', '60'], { [LABEL_TYPE]: 'container' });
    const made = (id: string, name: string) => () => madeInspect({ id, name, image: 'busybox', imageId: '', labels: { [LABEL_TYPE]: 'container' }, started: false, at: AT });
    const looks = () => docker.callsOf('containers.inspect').map(([ids]) => [...(ids as string[])].sort());
    const before = looks().length;

    // RunPodSandbox puts its look off; the start of a member looks at both in one inspect, and
    // the member's change is heard once its sandbox is Docker's answer (GetContainerEvents reads it)
    const sandboxHeldWhenMemberHeard: boolean[] = [];
    store.onChange((change) => {
      if (change.id === member) sandboxHeldWhenMemberHeard.push(store.isProvisional(sandbox));
    });
    const sandboxSettled = store.settleInBackground(sandbox, () => madeInspect({ id: sandbox, name: 'k8s_POD_pod_ns_uid_0', image: 'busybox', imageId: '', labels: { [LABEL_TYPE]: 'sandbox' }, started: true, at: AT }), undefined, { lookAfterMs: 500 });
    const memberSettled = store.settleInBackground(member, made(member, 'k8s_c_pod_ns_uid_0'), undefined, { lookAfterMs: 200 });
    await store.whileWriting([member], () => docker.containers.start(member));
    await store.settleInBackground(member, (held) => startedInspect(held!, AT));
    assert.deepEqual(looks().slice(before), [[member, sandbox].sort()], 'one docker inspect for the member and its sandbox');
    assert.equal((await sandboxSettled)?.Id, sandbox);
    assert.equal((await memberSettled)?.State.Status, 'running');
    assert.equal(store.isProvisional(sandbox), false);
    assert.deepEqual(sandboxHeldWhenMemberHeard, [false], 'the sandbox was applied before its member');

    // a put-off look of a container a write runs on waits for that write's own look
    const otherSettled = store.settleInBackground(other, made(other, 'k8s_d_pod_ns_uid_0'), undefined, { lookAfterMs: 200 });
    await store.whileWriting([other], async () => {
      await store.refresh(sandbox);
      assert.deepEqual(looks().at(-1), [sandbox], 'the look during the write does not take the written container along');
      await docker.containers.start(other);
    });
    await store.settleInBackground(other, (held) => startedInspect(held!, AT));
    assert.deepEqual(looks().at(-1), [other]);
    assert.equal((await otherSettled)?.State.Status, 'running');
    assert.equal(looks().length, before + 3);
  } finally {
    store.stop();
  }
});

test('a look put off is not made once the store stops; its waiters are answered', async () => {
  const { docker, store, id } = await storeWithContainer();
  const before = docker.callsOf('containers.inspect').length;
  const settled = store.settleInBackground(id, () => madeInspect({ id, name: 'x', image: 'busybox', imageId: '', labels: { [LABEL_TYPE]: 'container' }, started: false, at: AT }), undefined, { lookAfterMs: 60_000 });
  store.stop();
  assert.equal(await settled, undefined);
  assert.equal(docker.callsOf('containers.inspect').length, before);
});
