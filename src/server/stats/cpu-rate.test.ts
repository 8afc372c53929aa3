import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CpuRateTracker, nanoCores } from './cpu-rate.js';

const SECOND = 1_000_000_000n;

test('nanocores: CPU nanoseconds used per nanosecond elapsed, times 1e9', () => {
  assert.equal(nanoCores({ timestampNanos: 0n, usageNanos: 0n }, { timestampNanos: 2n * SECOND, usageNanos: SECOND }), 500_000_000n, 'half a core');
  assert.equal(nanoCores({ timestampNanos: 0n, usageNanos: 0n }, { timestampNanos: SECOND, usageNanos: 2n * SECOND }), 2_000_000_000n, 'two cores');
  assert.equal(nanoCores(undefined, { timestampNanos: SECOND, usageNanos: SECOND }), undefined, 'first sample');
  assert.equal(nanoCores({ timestampNanos: SECOND, usageNanos: 0n }, { timestampNanos: SECOND, usageNanos: 5n }), undefined, 'no time elapsed');
  assert.equal(nanoCores({ timestampNanos: 0n, usageNanos: 9n * SECOND }, { timestampNanos: SECOND, usageNanos: SECOND }), undefined, 'counter went back (restart)');
});

test('the tracker keeps each container\'s previous sample', () => {
  const tracker = new CpuRateTracker();
  assert.equal(tracker.rate('a', { timestampNanos: 10n * SECOND, usageNanos: 0n }), undefined);
  assert.equal(tracker.rate('b', { timestampNanos: 10n * SECOND, usageNanos: 0n }), undefined);
  assert.equal(tracker.rate('a', { timestampNanos: 11n * SECOND, usageNanos: SECOND / 4n }), 250_000_000n);
  assert.equal(tracker.rate('b', { timestampNanos: 12n * SECOND, usageNanos: 2n * SECOND }), SECOND);
  assert.equal(tracker.rate('a', { timestampNanos: 13n * SECOND, usageNanos: SECOND / 4n }), 0n, 'idle since');
});

test('samples closer than half a second answer the last rate instead of noise', () => {
  const tracker = new CpuRateTracker();
  tracker.rate('a', { timestampNanos: 0n, usageNanos: 0n });
  assert.equal(tracker.rate('a', { timestampNanos: SECOND, usageNanos: SECOND }), SECOND);
  assert.equal(tracker.rate('a', { timestampNanos: SECOND + 1000n, usageNanos: SECOND + 1000n }), SECOND, 'one microsecond later');
  assert.equal(tracker.rate('a', { timestampNanos: 2n * SECOND, usageNanos: SECOND }), 0n, 'measured from the last kept sample');
});

test('entries not sampled for ten minutes are forgotten', () => {
  const tracker = new CpuRateTracker();
  tracker.rate('gone', { timestampNanos: 0n, usageNanos: 0n });
  tracker.rate('live', { timestampNanos: 11n * 60n * SECOND, usageNanos: 0n });
  assert.equal(tracker.size, 1);
});
