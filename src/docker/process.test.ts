import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runProcess, stripFinalNewline } from './process.js';

test('output, exit code and stdin of a process; environment added to this one\'s', async () => {
  const done = await runProcess('sh', ['-c', 'read line; echo "out:$line:$EXTRA"; echo err >&2; exit 3'], { input: 'hello\n', env: { EXTRA: 'x' } });
  assert.deepEqual([done.stdout.toString(), done.stderr.toString(), done.exitCode, done.failed], ['out:hello:x\n', 'err\n', 3, true]);
  const ok = await runProcess('sh', ['-c', 'echo "$HOME"']);
  assert.equal(ok.stdout.toString().trim(), process.env.HOME, 'the parent environment is passed on');
  assert.equal(ok.failed, false);
});

test('without input, stdin is /dev/null (a reader sees end of file at once)', async () => {
  const done = await runProcess('sh', ['-c', 'cat; echo done']);
  assert.equal(done.stdout.toString(), 'done\n');
});

test('a timeout kills it, and says so', async () => {
  const done = await runProcess('sleep', ['30'], { timeoutMs: 50 });
  assert.deepEqual([done.timedOut, done.signal, done.exitCode, done.failed], [true, 'SIGTERM', undefined, true]);
});

test('an abort kills it, and says so', async () => {
  const controller = new AbortController();
  const running = runProcess('sleep', ['30'], { signal: controller.signal });
  controller.abort();
  const done = await running;
  assert.deepEqual([done.canceled, done.signal], [true, 'SIGTERM']);
});

test('a binary that cannot start gives its errno code, never a throw', async () => {
  const done = await runProcess('/nonexistent/docker', ['version']);
  assert.deepEqual([done.code, done.exitCode, done.failed], ['ENOENT', undefined, true]);
});

test('arguments the kernel refuses (E2BIG) give the code, never a throw', async () => {
  const done = await runProcess('/bin/true', ['x'.repeat(200_000)]);
  assert.deepEqual([done.code, done.failed], ['E2BIG', true]);
});

test('output past maxBuffer is cut at maxBuffer and the process stopped', async () => {
  const done = await runProcess('sh', ['-c', 'head -c 100000 /dev/zero; sleep 30'], { maxBuffer: 1000 });
  assert.equal(done.isMaxBuffer, true);
  assert.equal(done.stdout.length, 1000);
  assert.equal(done.signal, 'SIGTERM');
});

test('stripFinalNewline strips one newline only', () => {
  assert.equal(stripFinalNewline('a\n\n'), 'a\n');
  assert.equal(stripFinalNewline('a\r\n'), 'a');
  assert.equal(stripFinalNewline('a'), 'a');
});
