import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { LABEL_ARGS_MAX_BYTES, withLabelFile } from './label-file.js';
import { labelFileText } from './labels.js';

test('small labels are --label arguments, in a stable order', async () => {
  assert.deepEqual(await withLabelFile({ b: '2', a: 'x=y' }, async (args) => args), ['--label', 'a=x=y', '--label', 'b=2']);
});

test('the label file lives in a private directory only while the call runs', async () => {
  const labels = { app: 'web', 'io.mascri.type': 'sandbox', big1: 'v'.repeat(LABEL_ARGS_MAX_BYTES / 2), big2: 'v'.repeat(LABEL_ARGS_MAX_BYTES / 2) };
  let seen = '';
  const answer = await withLabelFile(labels, async (args) => {
    assert.equal(args.length, 2);
    assert.equal(args[0], '--label-file');
    seen = args[1]!;
    assert.equal(readFileSync(seen, 'utf8'), labelFileText(labels));
    assert.equal(statSync(seen).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(seen)).mode & 0o777, 0o700);
    return 'id';
  });
  assert.equal(answer, 'id');
  assert.equal(existsSync(dirname(seen)), false, 'removed after the call');
});

test('the file is removed when the call fails too; no labels, no file', async () => {
  let seen = '';
  await assert.rejects(
    withLabelFile({ a: 'b'.repeat(LABEL_ARGS_MAX_BYTES / 2), c: 'd'.repeat(LABEL_ARGS_MAX_BYTES / 2) }, async (args) => {
      seen = args[1]!;
      throw new Error('docker failed');
    }),
    /docker failed/,
  );
  assert.ok(seen);
  assert.equal(existsSync(dirname(seen)), false);
  assert.deepEqual(await withLabelFile({}, async (args) => args), []);
});

test('a label that cannot be written fails before any file or call', async () => {
  let called = false;
  await assert.rejects(withLabelFile({ k: 'a\nb' }, async () => (called = true)), /cannot be written to a label file/);
  assert.equal(called, false);
});
