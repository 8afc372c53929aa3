import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerTimeToNanos } from '../docker/convert.js';
import { matchesIdPrefix, matchesLabelSelector } from './filters.js';

test('label selectors need every pair to match', () => {
  assert.ok(matchesLabelSelector({ a: '1', b: '2' }, { a: '1' }));
  assert.ok(matchesLabelSelector({ a: '1' }, {}));
  assert.ok(matchesLabelSelector({ a: '1' }, null));
  assert.ok(!matchesLabelSelector({ a: '1' }, { a: '1', b: '2' }));
  assert.ok(!matchesLabelSelector({ a: '1' }, { a: '2' }));
});

test('ID filters match the whole ID or a prefix', () => {
  assert.ok(matchesIdPrefix('abcdef', 'abc'));
  assert.ok(matchesIdPrefix('abcdef', ''));
  assert.ok(!matchesIdPrefix('abcdef', 'abd'));
});

test('Docker timestamps become nanoseconds', () => {
  assert.equal(dockerTimeToNanos('2026-11-23T09:47:10.526351254Z'), '1795427230526351254');
  assert.equal(dockerTimeToNanos('2026-11-23T09:47:10Z'), '1795427230000000000');
  assert.equal(dockerTimeToNanos('2026-11-23T09:47:10.5Z'), '1795427230500000000');
  assert.equal(dockerTimeToNanos('0001-01-01T00:00:00Z'), '0');
  assert.equal(dockerTimeToNanos(''), '0');
});

test('an absent or all-empty filter selects everything', async () => {
  const { isEmptyFilter } = await import('./filters.js');
  assert.ok(isEmptyFilter(undefined));
  assert.ok(isEmptyFilter(null));
  assert.ok(isEmptyFilter({ id: '', state: null, labelSelector: {}, podSandboxId: '' }));
  assert.ok(!isEmptyFilter({ id: 'abc' }));
  assert.ok(!isEmptyFilter({ state: { state: 'CONTAINER_RUNNING' } }));
  assert.ok(!isEmptyFilter({ labelSelector: { a: 'b' } }));
  assert.ok(!isEmptyFilter({ podSandboxId: 'p' }));
});
