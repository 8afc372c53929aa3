import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeStatus, encodeStatus, exitCodeStatus, internalErrorStatus, successStatus } from './status.js';

describe('remote-command status', () => {
  test('v4 writes metav1.Status JSON as kubelet does', () => {
    assert.equal(encodeStatus(successStatus(), 'v4.channel.k8s.io').toString(), '{"metadata":{},"status":"Success"}');
    assert.equal(
      encodeStatus(exitCodeStatus(['sh', '-c', 'exit 7'], 7), 'v5.channel.k8s.io').toString(),
      '{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit 7], exit code 7","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}',
    );
  });

  test('older protocols write only a failure message', () => {
    assert.equal(encodeStatus(successStatus(), 'v3.channel.k8s.io').length, 0);
    assert.equal(encodeStatus(internalErrorStatus('boom'), 'channel.k8s.io').toString(), 'Internal error occurred: boom');
  });

  test('clients read back success, the exit code, or an error', () => {
    assert.deepEqual(decodeStatus(Buffer.from('{"metadata":{},"status":"Success"}'), 'v4.channel.k8s.io'), {});
    assert.deepEqual(decodeStatus(encodeStatus(exitCodeStatus(['false'], 1), 'v4.channel.k8s.io'), 'v4.channel.k8s.io'), { exitCode: 1 });
    assert.deepEqual(decodeStatus(Buffer.alloc(0), 'v4.channel.k8s.io'), {});
    assert.match(decodeStatus(encodeStatus(internalErrorStatus('boom'), 'v4.channel.k8s.io'), 'v4.channel.k8s.io').error!.message, /boom/);
    assert.match(decodeStatus(Buffer.from('it broke'), 'v2.channel.k8s.io').error!.message, /it broke/);
  });
});
