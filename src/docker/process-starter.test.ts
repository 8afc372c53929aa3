import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ProcessStarter } from './process-starter.js';

describe('ProcessStarter: processes started by the python3 starter process', () => {
  const starter = new ProcessStarter();
  after(() => starter.close());

  test('output, exit code, stdin and added environment, as a direct start gives them; onStarted first', async () => {
    const events: string[] = [];
    const done = await starter.run('sh', ['-c', 'read line; echo "out:$line:$EXTRA"; echo err >&2; exit 3'], { input: 'hello\n', env: { EXTRA: 'x' } }, () => events.push('started'));
    events.push('ended');
    assert.deepEqual([done.stdout.toString(), done.stderr.toString(), done.exitCode, done.failed], ['out:hello:x\n', 'err\n', 3, true]);
    assert.deepEqual(events, ['started', 'ended']);
    assert.equal(starter.viaStarter, true);
    const ok = await starter.run('sh', ['-c', 'echo "$HOME"; cat']);
    assert.deepEqual([ok.stdout.toString().trim(), ok.failed], [process.env.HOME, false]);
  });

  test('binary output survives whole (base64 on the way)', async () => {
    const done = await starter.run('head', ['-c', '300000', '/dev/urandom']);
    assert.equal(done.stdout.length, 300000);
  });

  test('a timeout and an abort kill it, and say so', async () => {
    const timedOut = await starter.run('sleep', ['30'], { timeoutMs: 50 });
    assert.deepEqual([timedOut.timedOut, timedOut.signal, timedOut.exitCode], [true, 'SIGTERM', undefined]);
    const controller = new AbortController();
    const running = starter.run('sleep', ['30'], { signal: controller.signal });
    controller.abort();
    const canceled = await running;
    assert.deepEqual([canceled.canceled, canceled.signal], [true, 'SIGTERM']);
  });

  test('what cannot start gives its errno code; output past maxBuffer is cut and stops the process', async () => {
    assert.equal((await starter.run('/nonexistent/docker', ['version'])).code, 'ENOENT');
    assert.equal((await starter.run('/bin/true', ['x'.repeat(200_000)])).code, 'E2BIG');
    const cut = await starter.run('sh', ['-c', 'head -c 100000 /dev/zero; sleep 30'], { maxBuffer: 1000 });
    assert.deepEqual([cut.isMaxBuffer, cut.stdout.length, cut.signal], [true, 1000, 'SIGTERM']);
  });

  test('many calls at once each get their own answer', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => starter.run('sh', ['-c', `echo ${i}`])));
    assert.deepEqual(answers.map((a) => a.stdout.toString().trim()), Array.from({ length: 20 }, (_, i) => String(i)));
  });
});

test('without a usable python3 the starter starts processes directly', async () => {
  for (const python of ['/nonexistent/python3', 'false']) {
    const starter = new ProcessStarter(python);
    const done = await starter.run('sh', ['-c', 'echo direct']);
    assert.equal(done.stdout.toString(), 'direct\n', python);
    const again = await starter.run('sh', ['-c', 'echo again']);
    assert.equal(again.stdout.toString(), 'again\n');
    assert.equal(starter.viaStarter, false, python);
    starter.close();
  }
});

test('an idle starter keeps nothing running: a process that used it ends on its own', async () => {
  const { execFile } = await import('node:child_process');
  const module = new URL('./process-starter.js', import.meta.url).href;
  const script = `const { ProcessStarter } = await import(${JSON.stringify(module)}); const s = new ProcessStarter(); const r = await s.run('sh', ['-c', 'echo ran']); process.stdout.write(r.stdout);`;
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
  assert.equal(output, 'ran\n');
});
