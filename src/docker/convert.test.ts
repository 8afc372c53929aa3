import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { imageFromInspect, imageUser } from './convert.js';
import type { DockerImageInspect } from './types.js';

describe('imageUser', () => {
  test('no user: no uid, empty username', () => {
    assert.deepEqual(imageUser(''), { username: '' });
    assert.deepEqual(imageUser(undefined), { username: '' });
  });

  test('a numeric user is a uid', () => {
    assert.deepEqual(imageUser('1000'), { uid: { value: '1000' }, username: '' });
    assert.deepEqual(imageUser('0'), { uid: { value: '0' }, username: '' });
  });

  test('uid:gid keeps only the uid', () => {
    assert.deepEqual(imageUser('1000:1000'), { uid: { value: '1000' }, username: '' });
  });

  test('a user name is a username without uid', () => {
    assert.deepEqual(imageUser('nobody'), { username: 'nobody' });
  });

  test('user:group keeps only the user name', () => {
    assert.deepEqual(imageUser('nobody:nogroup'), { username: 'nobody' });
  });

  test('surrounding spaces are ignored; a group alone is no user', () => {
    assert.deepEqual(imageUser(' 1000 '), { uid: { value: '1000' }, username: '' });
    assert.deepEqual(imageUser(':1000'), { username: '' });
  });
});

function inspect(overrides: Partial<DockerImageInspect> = {}): DockerImageInspect {
  return {
    Id: 'sha256:46fd2b7b140a' + 'c'.repeat(52),
    RepoTags: ['busybox:latest'],
    RepoDigests: ['busybox@sha256:' + 'd'.repeat(64)],
    Created: '2026-11-23T09:47:10.526351254Z',
    Size: 4261550,
    Config: { User: '' },
    ...overrides,
  };
}

describe('imageFromInspect', () => {
  test('maps ID, tags, digests, size (as a string), spec and pinned', () => {
    const source = inspect();
    const image = imageFromInspect(source, true);
    assert.deepEqual(image, {
      id: source.Id,
      repoTags: ['busybox:latest'],
      repoDigests: ['busybox@sha256:' + 'd'.repeat(64)],
      size: '4261550',
      username: '',
      spec: { image: source.Id, annotations: {} },
      pinned: true,
    });
  });

  test('pinned defaults to false', () => {
    assert.equal(imageFromInspect(inspect()).pinned, false);
  });

  test("drops Docker's <none>:<none> tags and <none>@ digests", () => {
    const image = imageFromInspect(
      inspect({
        RepoTags: ['<none>:<none>', 'localhost:5000/busybox:1'],
        RepoDigests: ['<none>@sha256:' + 'e'.repeat(64), 'localhost:5000/busybox@sha256:' + 'f'.repeat(64)],
      }),
    );
    assert.deepEqual(image.repoTags, ['localhost:5000/busybox:1']);
    assert.deepEqual(image.repoDigests, ['localhost:5000/busybox@sha256:' + 'f'.repeat(64)]);
  });

  test('null tags, digests and config give empty lists, size "0" when missing, no user', () => {
    const image = imageFromInspect(inspect({ RepoTags: null, RepoDigests: null, Config: null, Size: undefined as unknown as number }));
    assert.deepEqual(image.repoTags, []);
    assert.deepEqual(image.repoDigests, []);
    assert.equal(image.size, '0');
    assert.equal(image.username, '');
    assert.equal('uid' in image, false);
  });

  test("the image's user becomes uid or username", () => {
    assert.deepEqual(imageFromInspect(inspect({ Config: { User: '65534:65534' } })).uid, { value: '65534' });
    assert.equal(imageFromInspect(inspect({ Config: { User: '65534:65534' } })).username, '');
    const named = imageFromInspect(inspect({ Config: { User: 'nobody:nogroup' } }));
    assert.equal(named.username, 'nobody');
    assert.equal(named.uid, undefined);
  });

  test('a large size stays exact as a string', () => {
    assert.equal(imageFromInspect(inspect({ Size: 12_345_678_901 })).size, '12345678901');
  });
});
