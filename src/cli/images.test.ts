import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authFromOptions, compareImages, filterImages, repoDigestOf, repoTagPairs } from './images.js';
import { UsageError } from './output.js';

describe('repoTagPairs', () => {
  test('splits each tag at its last colon, keeping a registry port in the name', () => {
    assert.deepEqual(repoTagPairs(['busybox:latest', 'localhost:5000/busybox:1.36'], '<none>'), [
      ['busybox', 'latest'],
      ['localhost:5000/busybox', '1.36'],
    ]);
  });

  test('an untagged image is one row: the fallback repository and <none>', () => {
    assert.deepEqual(repoTagPairs([], 'localhost:5000/busybox'), [['localhost:5000/busybox', '<none>']]);
    assert.deepEqual(repoTagPairs([], '<none>'), [['<none>', '<none>']]);
  });

  test('a <none> repository name shows the fallback repository', () => {
    assert.deepEqual(repoTagPairs(['<none>:<none>'], 'busybox'), [['busybox', '<none>']]);
  });

  test('a tag without a colon is shown as crictl does: errorRepoTag', () => {
    assert.deepEqual(repoTagPairs(['nocolon'], 'x'), [['errorRepoTag', 'errorRepoTag']]);
  });
});

describe('repoDigestOf', () => {
  test('the repository and digest of the first repo digest', () => {
    assert.deepEqual(repoDigestOf(['localhost:5000/busybox@sha256:abc', 'busybox@sha256:def']), ['localhost:5000/busybox', 'sha256:abc']);
  });

  test('no digests: <none>, <none>; one without a single "@": crictl\'s errorName, errorRepoDigest', () => {
    assert.deepEqual(repoDigestOf([]), ['<none>', '<none>']);
    assert.deepEqual(repoDigestOf(['weird']), ['errorName', 'errorRepoDigest']);
  });
});

describe('authFromOptions', () => {
  test('--creds user:password splits at the first colon', async () => {
    assert.deepEqual(await authFromOptions({ creds: 'alice:wonderland' }), { username: 'alice', password: 'wonderland' });
    assert.deepEqual(await authFromOptions({ creds: 'alice:pass:with:colons' }), { username: 'alice', password: 'pass:with:colons' });
    assert.deepEqual(await authFromOptions({ creds: 'alice:' }), { username: 'alice', password: '' });
  });

  test('--auth is passed on as it is', async () => {
    assert.deepEqual(await authFromOptions({ auth: 'YWxpY2U6d29uZGVybGFuZA==' }), { auth: 'YWxpY2U6d29uZGVybGFuZA==' });
  });

  test('no credential options: no auth', async () => {
    assert.equal(await authFromOptions({}), undefined);
    assert.equal(await authFromOptions({ pullTimeout: '10s' }), undefined);
  });

  test('two credential options at once are a UsageError', async () => {
    for (const options of [{ creds: 'a:b', auth: 'x' }, { creds: 'a:b', username: 'a' }, { auth: 'x', username: 'a' }, { creds: 'a:b', auth: 'x', username: 'a' }]) {
      await assert.rejects(authFromOptions(options), (error: unknown) => {
        assert.ok(error instanceof UsageError, String(error));
        assert.equal(error.message, 'use only one of --creds, --auth and --username');
        return true;
      });
    }
  });

  test('--creds without a user name is a UsageError', async () => {
    for (const creds of ['', ':secret']) {
      await assert.rejects(authFromOptions({ creds }), (error: unknown) => error instanceof UsageError && /USERNAME/.test(error.message));
    }
  });
});

describe('images in crictl\'s order, and its --filter', () => {
  const image = (id: string, tags: string[], digests: string[] = []) => ({ id, repoTags: tags, repoDigests: digests, size: '1', uid: null, username: '', spec: null, pinned: false });
  const images = [
    image('sha256:c', ['reg/pause:3.10'], ['reg/pause@sha256:ccc']),
    image('sha256:a', ['reg/busybox:latest'], ['reg/busybox@sha256:aaa']),
    image('sha256:d', [], ['reg/old@sha256:ddd']),
    image('sha256:b', ['reg/busybox:nobody'], ['reg/busybox@sha256:bbb']),
  ];

  test('sorted by first tag; images without tags by digest', () => {
    const tagged = images.filter((i) => i.repoTags.length > 0).sort(compareImages);
    assert.deepEqual(tagged.map((i) => i.id), ['sha256:a', 'sha256:b', 'sha256:c']);
  });

  test('dangling=true|false', () => {
    assert.deepEqual(filterImages(images, ['dangling=true']).map((i) => i.id), ['sha256:d']);
    assert.deepEqual(filterImages(images, ['dangling=false']).map((i) => i.id), ['sha256:c', 'sha256:a', 'sha256:b']);
  });

  test('reference= is a regular expression on the repository', () => {
    assert.deepEqual(filterImages(images, ['reference=busybox']).map((i) => i.id), ['sha256:a', 'sha256:b']);
    assert.deepEqual(filterImages(images, ['reference=^reg/pause$']).map((i) => i.id), ['sha256:c']);
  });

  test('before= and since= cut the list at the named image (by name:tag, ID prefix or name@digest)', () => {
    const sorted = [images[1]!, images[3]!, images[0]!];
    assert.deepEqual(filterImages(sorted, ['since=reg/busybox:nobody']).map((i) => i.id), ['sha256:a']);
    assert.deepEqual(filterImages(sorted, ['before=reg/busybox:nobody']).map((i) => i.id), ['sha256:c']);
    // As in crictl, "sha256:..." has a colon, so it is compared as a name:tag and cuts nothing.
    assert.deepEqual(filterImages(sorted, ['since=sha256:c']).map((i) => i.id), ['sha256:a', 'sha256:b', 'sha256:c']);
    assert.deepEqual(filterImages(sorted, ['before=reg/busybox@sha256:bbb']).map((i) => i.id), ['sha256:c']);
  });

  test('several filters combine; an unknown one is crictl\'s error', () => {
    assert.deepEqual(filterImages(images, ['dangling=false', 'reference=busybox']).map((i) => i.id), ['sha256:a', 'sha256:b']);
    assert.throws(() => filterImages(images, ['label=x']), /unknown filter flag: label=x/);
  });
});
