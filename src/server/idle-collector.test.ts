import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleCollector } from './idle-collector.js';

const MiB = 1024 * 1024;

/** A collector on a clock and heap the test moves; `collect` halves what the heap grew by. */
function fixture(options: { quietMs?: number; growthBytes?: number; minIntervalMs?: number } = {}) {
  const state = { now: 0, heap: 10 * MiB, collected: 0 };
  const collector = new IdleCollector({
    collect: () => {
      state.collected++;
      state.heap = Math.max(10 * MiB, state.heap - 3 * MiB);
    },
    heapBytes: () => state.heap,
    now: () => state.now,
    quietMs: options.quietMs ?? 1000,
    growthBytes: options.growthBytes ?? 2 * MiB,
    minIntervalMs: options.minIntervalMs ?? 10_000,
  });
  return { state, collector };
}

test('nothing is collected while the heap has not grown by the threshold', () => {
  const { state, collector } = fixture();
  state.now = 60_000;
  state.heap += 1 * MiB;
  assert.equal(collector.check(), false);
  assert.equal(state.collected, 0);
});

test('a grown heap is collected twice once the calls have been quiet, and measured again from there', () => {
  const { state, collector } = fixture();
  state.heap += 6 * MiB;
  state.now = 20_000;
  collector.callEnded();
  state.now += 500;
  assert.equal(collector.check(), false, 'a call ended 500 ms ago');
  state.now += 600;
  assert.equal(collector.check(), true);
  assert.equal(state.collected, 2, 'two full collections: the second releases what the first swept');
  assert.equal(state.heap, 10 * MiB);
  state.now += 60_000;
  state.heap += 1 * MiB;
  assert.equal(collector.check(), false, 'grown by 1 MiB since the collection');
});

test('nothing is collected while a call is in flight, however long the others have been quiet (pod starts take seconds)', () => {
  const { state, collector } = fixture();
  state.heap += 6 * MiB;
  state.now = 20_000;
  collector.callStarted(); // a RunPodSandbox
  collector.callStarted(); // a relist
  collector.callEnded();
  state.now += 5000;
  assert.equal(collector.check(), false, 'one call still runs');
  collector.callEnded();
  assert.equal(collector.check(), false, 'it has just ended');
  state.now += 1100;
  assert.equal(collector.check(), true);
});

test('a call that alone runs on for over a minute (a long ExecSync) does not hold the collections off for good', () => {
  const { state, collector } = fixture();
  state.heap += 6 * MiB;
  state.now = 20_000;
  collector.callStarted();
  state.now += 30_000;
  assert.equal(collector.check(), false, 'in flight for 30 s');
  state.now += 31_000;
  assert.equal(collector.check(), true, 'nothing began or ended for over 60 s');
});

test('collections are at least minIntervalMs apart', () => {
  const { state, collector } = fixture({ minIntervalMs: 10_000 });
  state.now = 20_000;
  state.heap += 8 * MiB;
  assert.equal(collector.check(), true);
  state.heap += 8 * MiB;
  state.now += 5000;
  assert.equal(collector.check(), false);
  state.now += 5000;
  assert.equal(collector.check(), true);
  assert.equal(collector.collections, 2);
});

test('a heap V8 shrank by itself becomes the baseline growth is measured from', () => {
  const { state, collector } = fixture();
  state.now = 20_000;
  state.heap = 7 * MiB;
  assert.equal(collector.check(), false);
  state.heap = 9.5 * MiB;
  assert.equal(collector.check(), true, '2.5 MiB over the 7 MiB it shrank to');
});

test('start checks on a timer that keeps no process alive, and stop ends it', async () => {
  let collected = 0;
  let heap = 100 * MiB;
  const collector = new IdleCollector({ collect: () => ((collected++), (heap = 0)), heapBytes: () => heap, checkEveryMs: 5, quietMs: 0, minIntervalMs: 0 });
  heap = 200 * MiB;
  collector.start();
  const deadline = Date.now() + 5000;
  while (collected === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  collector.stop();
  assert.equal(collected, 2);
});
