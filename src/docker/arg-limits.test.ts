import assert from 'node:assert/strict';
import { test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { DOCKER_ARGS_MAX, EXEC_STRINGS_MAX, MAX_ARG_BYTES, checkDockerArgs, checkProcessCommand, checkProcessString, execveBytes, execveTotal, formatBytes } from './arg-limits.js';

function expectInvalid(fn: () => unknown, pattern: RegExp): string {
  let message = '';
  assert.throws(fn, (error: { code: number; message: string }) => {
    assert.equal(error.code, GrpcCode.INVALID_ARGUMENT);
    assert.match(error.message, pattern);
    message = error.message;
    return true;
  });
  return message;
}

test('execve counts each string with its NUL and its pointer, in UTF-8 bytes', () => {
  assert.equal(execveBytes(''), 9);
  assert.equal(execveBytes('é😀'), 2 + 4 + 9);
  assert.equal(execveTotal(['a', 'bc']), 10 + 11);
  assert.equal(formatBytes(300 * 1024), '300 KiB');
  assert.equal(formatBytes(3 * 1024 * 1024), '3 MiB');
  assert.equal(formatBytes(12), '12 bytes');
});

test('checkProcessString: up to 131071 bytes (the NUL makes 128 KiB) passes, one more or a NUL is refused naming the field, never quoting the value', () => {
  checkProcessString('envs[0]', 'x'.repeat(MAX_ARG_BYTES - 1));
  const message = expectInvalid(() => checkProcessString('envs[0] (BIG=...)', 'secret'.repeat(MAX_ARG_BYTES / 6 + 1)), /^envs\[0\] \(BIG=\.\.\.\) is 131076 bytes .*MAX_ARG_STRLEN/);
  assert.ok(!message.includes('secret'));
  expectInvalid(() => checkProcessString('args[2]', 'é'.repeat(MAX_ARG_BYTES / 2)), /^args\[2\] is 131072 bytes/);
  expectInvalid(() => checkProcessString('command[0]', 'a\0b'), /command\[0\] holds a NUL byte/);
});

test('checkProcessCommand: each entry, then the total with the environment it would run with', () => {
  checkProcessCommand('cmd', ['sh', '-c', 'x'.repeat(100 * 1024)]);
  expectInvalid(() => checkProcessCommand('cmd', ['sh', 'x'.repeat(300 * 1024)]), /^cmd\[1\] is 307200 bytes/);
  const many = Array.from({ length: 21 }, () => 'x'.repeat(100 * 1024));
  expectInvalid(() => checkProcessCommand('cmd', many), /^cmd take 2\.\d+ MiB .*ARG_MAX/);
  const half = many.slice(0, 11);
  checkProcessCommand('cmd', half);
  expectInvalid(() => checkProcessCommand('cmd', half, half.map((value, i) => `V${i}=${value}`)), /^cmd and the container's environment take/);
  assert.equal(EXEC_STRINGS_MAX, 2 * 1024 * 1024);
});

test('checkDockerArgs names the CRI field behind an argument that is too long, holds a NUL, or makes the whole too large', () => {
  const fields = { flags: { '--sysctl': 'linux.sysctls', '--dns-search': 'dns_config.searches' }, positionalFrom: 4, positional: 'the pause image' };
  checkDockerArgs(['--sysctl', 'a=b', '--dns-search', 'x.local'], fields);
  expectInvalid(() => checkDockerArgs(['--sysctl', `a=${'x'.repeat(MAX_ARG_BYTES)}`], fields), /^linux\.sysctls is 131074 bytes/);
  expectInvalid(() => checkDockerArgs(['--dns-search', 'a\0b'], fields), /^dns_config\.searches holds a NUL/);
  expectInvalid(() => checkDockerArgs(['--other', 'a\0b'], fields), /^the value of docker's --other holds a NUL/);
  const many = Array.from({ length: 20 }, () => ['--sysctl', `k=${'v'.repeat(100 * 1024)}`]).flat();
  const message = expectInvalid(() => checkDockerArgs([...many, '--dns-search', 'x.local', 'pause'], { ...fields, positionalFrom: many.length + 2 }), /needs [\d.]+ MiB of docker arguments.*most of it: linux\.sysctls [\d.]+ MiB, dns_config\.searches/);
  assert.ok(message.length < 400, message);
  assert.equal(DOCKER_ARGS_MAX, 1.5 * 1024 * 1024);
});
