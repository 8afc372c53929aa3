import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomString } from './random.js';

test('randomString gives that many random bytes in the encoding asked for, different each time', () => {
  const hex = randomString(12, 'hex');
  assert.match(hex, /^[0-9a-f]{24}$/);
  assert.match(randomString(24, 'base64url'), /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(randomString(12, 'hex'), hex);
});
