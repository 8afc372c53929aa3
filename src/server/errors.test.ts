import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrpcCode, MascriError } from '../common/errors.js';
import { utf8Length } from '../common/utf8.js';
import { MAX_STATUS_DETAILS_BYTES, toServiceError } from './errors.js';

test('a status keeps its code and message', () => {
  assert.deepEqual(toServiceError(new MascriError(GrpcCode.NOT_FOUND, 'no pod sandbox with ID "x"')), { code: GrpcCode.NOT_FOUND, details: 'no pod sandbox with ID "x"' });
  assert.deepEqual(toServiceError(new Error('boom')), { code: GrpcCode.INTERNAL, details: 'internal error: boom' });
  assert.deepEqual(toServiceError('odd'), { code: GrpcCode.INTERNAL, details: 'internal error: odd' });
});

test('a huge message is cut, on a code-point boundary, so that the client can still read the trailer', () => {
  const message = `creating container "c": ${'é'.repeat(100_000)}`;
  const { code, details } = toServiceError(new MascriError(GrpcCode.INVALID_ARGUMENT, message));
  assert.equal(code, GrpcCode.INVALID_ARGUMENT);
  assert.ok(utf8Length(details!) <= MAX_STATUS_DETAILS_BYTES, `${utf8Length(details!)} bytes`);
  assert.ok(details!.startsWith('creating container "c": éé'));
  assert.match(details!, /é… \(\d+ more bytes left out\)$/);
  assert.ok(!details!.includes('\uFFFD'));
  assert.ok(utf8Length(toServiceError(new Error('x'.repeat(200_000))).details!) <= MAX_STATUS_DETAILS_BYTES);
});
