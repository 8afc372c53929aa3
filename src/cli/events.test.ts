import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerEventResponse__Output } from '../cri/generated/runtime/v1/ContainerEventResponse.js';
import { eventHeader, eventLine, formatNanos } from './events.js';

describe('formatNanos', () => {
  test('unix nanoseconds as RFC 3339 with nanoseconds', () => {
    assert.equal(formatNanos('1735787045123456789'), '2025-01-02T03:04:05.123456789Z');
    assert.equal(formatNanos('0'), '1970-01-01T00:00:00.000000000Z');
    assert.equal(formatNanos('not a number'), 'not a number');
  });
});

describe('eventLine', () => {
  const event = {
    containerId: 'c'.repeat(64),
    containerEventType: 'CONTAINER_STARTED_EVENT',
    createdAt: '1735787045123456789',
    podSandboxStatus: { id: 'p'.repeat(64) },
    containersStatuses: [],
  } as unknown as ContainerEventResponse__Output;

  test('time, event type, container ID and pod ID, in columns under the header', () => {
    const line = eventLine(event, false);
    assert.deepEqual(line.split(/\s+/), ['2025-01-02T03:04:05.123456789Z', 'CONTAINER_STARTED_EVENT', 'c'.repeat(13), 'p'.repeat(13)]);
    const header = eventHeader(false);
    assert.deepEqual(header.split(/\s+/), ['TIME', 'EVENT', 'CONTAINER', 'POD']);
    assert.equal(header.indexOf('CONTAINER'), line.indexOf('ccc'));
    assert.equal(header.indexOf('POD'), line.indexOf('ppp'));
  });

  test('--no-trunc keeps whole IDs; an event without a pod leaves the column empty', () => {
    assert.ok(eventLine(event, true).includes('c'.repeat(64)));
    assert.ok(eventLine({ ...event, podSandboxStatus: null }, false).endsWith('c'.repeat(13)));
  });
});
