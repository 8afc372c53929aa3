import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HealthCheck } from './health.js';

describe('HealthCheck', () => {
  test('asks the daemon at most once per second, however often it is called', async () => {
    let now = 0;
    let pings = 0;
    let down = false;
    const check = new HealthCheck(async () => {
      pings++;
      if (down) throw new Error('Cannot connect to the Docker daemon');
    }, 1000, () => now);
    const answers = await Promise.all([check.check(), check.check(), check.check()]);
    assert.deepEqual(answers, [{ ok: true }, { ok: true }, { ok: true }]);
    assert.equal(pings, 1);
    now = 999;
    down = true;
    assert.deepEqual(await check.check(), { ok: true }, 'within the second: the cached answer');
    assert.equal(pings, 1);
    now = 1000;
    assert.deepEqual(await check.check(), { ok: false, reason: 'Cannot connect to the Docker daemon' });
    assert.equal(pings, 2);
  });
});
