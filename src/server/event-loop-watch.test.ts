import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventLoopWatch } from './event-loop-watch.js';

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the loop is blocked: the watch's next sample comes this late
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 30));

test('the first reading starts the watch; the next shows a blocked loop, and a reading resets the figures', async () => {
  const watch = new EventLoopWatch();
  try {
    const first = watch.read();
    assert.equal(first.watching, false);
    assert.equal(first.resolutionMs, 10);
    await tick();
    blockFor(120);
    await tick();
    const blocked = watch.read();
    assert.equal(blocked.watching, true);
    assert.ok(blocked.maxMs >= 100, `max ${blocked.maxMs} ms after a 120 ms block`);
    assert.ok(blocked.sinceMs >= 150, `since ${blocked.sinceMs} ms`);
    await tick();
    await tick();
    const after = watch.read();
    assert.ok(after.maxMs < blocked.maxMs, `reset: ${after.maxMs} ms after ${blocked.maxMs}`);
  } finally {
    watch.stop();
  }
});

test('a stopped watch starts again at the next reading', () => {
  const watch = new EventLoopWatch();
  watch.read();
  watch.stop();
  assert.equal(watch.read().watching, false);
  watch.stop();
});
