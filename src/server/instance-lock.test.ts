import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrpcCode } from '../common/errors.js';
import { InstanceClaim, claimName } from './instance-lock.js';
import { randomBytes } from 'node:crypto';

test('claim names are abstract sockets, one per instance', () => {
  assert.equal(claimName('node-a'), '\0mascri/instance/node-a');
  assert.equal(claimName(''), '\0mascri/instance/(default)');
});

test('a second claim of an instance is refused naming the holder; after release it can be taken', async () => {
  const instance = `unit-${randomBytes(4).toString('hex')}`;
  const first = await InstanceClaim.take(instance, 'unix:///run/first.sock');
  try {
    await assert.rejects(InstanceClaim.take(instance, 'unix:///run/second.sock'), (error: { code: number; message: string }) => {
      assert.equal(error.code, GrpcCode.FAILED_PRECONDITION);
      assert.match(error.message, new RegExp(`another mascri serve \\(pid ${process.pid}, listening on unix:///run/first.sock\\) already serves instance "${instance}" on this host`));
      return true;
    });
    const other = await InstanceClaim.take(`${instance}-b`, 'unix:///run/b.sock');
    await other.release();
  } finally {
    await first.release();
  }
  const again = await InstanceClaim.take(instance, 'unix:///run/second.sock');
  await again.release();
});
