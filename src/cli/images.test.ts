import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authFromOptions, repoDigestOf, repoTagPairs } from './images.js';
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

  test('no digests, or one without "@": <none>, <none>', () => {
    assert.deepEqual(repoDigestOf([]), ['<none>', '<none>']);
    assert.deepEqual(repoDigestOf(['weird']), ['<none>', '<none>']);
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
