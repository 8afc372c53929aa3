import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { silentLogger } from '../common/logger.js';
import { FakeDocker } from '../docker/fake-adapter.js';
import type { DockerImageInspect } from '../docker/types.js';
import { ImageStore, resolveImage } from './image-store.js';

const ID_A = `sha256:${'a'.repeat(60)}0001`;
const ID_B = `sha256:${'a'.repeat(60)}0002`;
const ID_C = `sha256:${'c'.repeat(64)}`;

function image(Id: string, RepoTags: string[], RepoDigests: string[] = []): DockerImageInspect {
  return { Id, RepoTags, RepoDigests, Created: '2026-01-01T00:00:00Z', Size: 1, Config: { Labels: null } } as DockerImageInspect;
}

describe('resolveImage, as docker image inspect resolves a reference', () => {
  const images = [
    image(ID_A, ['busybox:latest', 'localhost:5000/busybox:1.36'], ['localhost:5000/busybox@sha256:' + 'd'.repeat(64)]),
    image(ID_B, []),
    image(ID_C, ['cccccc:latest']),
  ];
  test('by tag, in every form Docker normalizes to the same name', () => {
    for (const ref of ['busybox', 'busybox:latest', 'docker.io/library/busybox', 'docker.io/library/busybox:latest', 'localhost:5000/busybox:1.36']) {
      assert.equal(resolveImage(ref, images)?.Id, ID_A, ref);
    }
    assert.equal(resolveImage('localhost:5000/busybox', images), undefined, 'no :latest tag there');
  });
  test('by digest', () => {
    assert.equal(resolveImage(`localhost:5000/busybox@sha256:${'d'.repeat(64)}`, images)?.Id, ID_A);
    assert.equal(resolveImage(`busybox@sha256:${'d'.repeat(64)}`, images), undefined, 'a digest belongs to its repository');
  });
  test('by full ID, with or without sha256:, and by a unique ID prefix', () => {
    assert.equal(resolveImage(ID_B, images)?.Id, ID_B);
    assert.equal(resolveImage(ID_B.slice(7), images)?.Id, ID_B);
    assert.equal(resolveImage('cccccccc', images)?.Id, ID_C);
  });
  test('an ambiguous prefix names nothing; a name beats an ID prefix', () => {
    assert.equal(resolveImage('aaaaaaaa', images), undefined);
    images.push(image(`sha256:${'e'.repeat(64)}`, ['aaaaaaaa:latest']));
    assert.equal(resolveImage('aaaaaaaa', images)?.Id, `sha256:${'e'.repeat(64)}`);
  });
  test('empty and unknown references name nothing', () => {
    assert.equal(resolveImage('', images), undefined);
    assert.equal(resolveImage('nginx', images), undefined);
  });
});

describe('ImageStore over a fake Docker', () => {
  let docker: FakeDocker;
  let store: ImageStore;
  beforeEach(async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    docker = new FakeDocker();
    docker.addImage('localhost:5000/pause:3.10');
    docker.addImage('busybox');
    store = new ImageStore(docker, silentLogger);
    await store.start();
  });
  afterEach(() => {
    store.stop();
    mock.timers.reset();
  });

  /** Lets the coalescing timer run and the looks it queued finish. */
  async function settle(ms = 50): Promise<void> {
    mock.timers.tick(ms);
    await store.refresh('nothing-at-all'); // queued after whatever the timer queued
  }

  test('loaded at start: lists and finds from memory, without docker', async () => {
    assert.equal(store.current, true);
    const calls = docker.calls.length;
    assert.deepEqual(store.all().map((i) => i.RepoTags).sort(), [['busybox:latest'], ['localhost:5000/pause:3.10']]);
    assert.ok(store.find('busybox'));
    assert.ok(store.find('docker.io/library/busybox:latest'));
    assert.equal(store.find('nginx'), undefined);
    assert.equal(docker.calls.length, calls);
  });

  test('a pull through mascri is there as soon as refresh answers; the version moves', async () => {
    docker.addToRegistry('localhost:5000/app:1');
    const before = store.version;
    await docker.images.pull('localhost:5000/app:1');
    const found = await store.refresh('localhost:5000/app:1');
    assert.deepEqual(found?.RepoTags, ['localhost:5000/app:1']);
    assert.ok(store.version > before);
  });

  test('images pulled, tagged and removed behind its back follow from the events', async () => {
    docker.addToRegistry('localhost:5000/app:1');
    await docker.images.pull('localhost:5000/app:1');
    await settle();
    assert.ok(store.find('localhost:5000/app:1'));

    docker.tagImage('busybox', 'localhost:5000/extra:2');
    await settle();
    assert.deepEqual(store.find('localhost:5000/extra:2')?.RepoTags, ['busybox:latest', 'localhost:5000/extra:2']);

    docker.removeImage('localhost:5000/app:1');
    await settle();
    assert.equal(store.find('localhost:5000/app:1'), undefined);
    assert.equal(store.all().length, 2);
  });

  test('a tag that moves to another image leaves the first one', async () => {
    docker.addToRegistry('localhost:5000/app:1');
    await docker.images.pull('localhost:5000/app:1');
    await settle();
    const app = store.find('localhost:5000/app:1')!;
    docker.tagImage('busybox', 'localhost:5000/app:1');
    await settle();
    assert.equal(store.find('localhost:5000/app:1')?.Id, store.find('busybox')?.Id);
    assert.deepEqual(store.find(app.Id)?.RepoTags, [], 'the old image stays, untagged');
  });

  test('a broken event stream makes it not current until a reload after the restart, which catches up', async () => {
    docker.breakEventStreams();
    assert.equal(store.current, false);
    docker.removeImage('busybox'); // while no stream runs: no event reaches the store
    mock.timers.tick(200); // the first restart delay
    await store.refresh('nothing-at-all');
    assert.equal(store.current, true);
    assert.equal(store.find('busybox'), undefined);
  });

  test('forget after a removal through mascri drops the image at once', async () => {
    const busybox = store.find('busybox')!;
    await docker.images.remove('busybox');
    await store.forget(busybox);
    assert.equal(store.find('busybox'), undefined);
  });
});
