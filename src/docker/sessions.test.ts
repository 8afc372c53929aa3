import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { EXEC_MARKER } from './children.js';
import { DockerCli } from './cli.js';
import { attachArgs, DockerSessions, execArgs, PTY_HELPER_PATH, ptyHelperArgs } from './sessions.js';

describe('session arguments', () => {
  test('exec: flags before "--", the marker in the environment, the command after the container', () => {
    assert.deepEqual(execArgs('c1', ['sh', '-c', 'echo hi'], 'm1'), ['exec', '--env', `${EXEC_MARKER}=m1`, '--', 'c1', 'sh', '-c', 'echo hi']);
    assert.deepEqual(execArgs('c1', ['--help'], 'm1', { interactive: true, tty: true }), ['exec', '--interactive', '--tty', '--env', `${EXEC_MARKER}=m1`, '--', 'c1', '--help']);
  });

  test('attach: no signal proxy, and no stdin unless asked', () => {
    assert.deepEqual(attachArgs('c1', { stdin: false }), ['attach', '--sig-proxy=false', '--no-stdin', '--', 'c1']);
    assert.deepEqual(attachArgs('c1', { stdin: true }), ['attach', '--sig-proxy=false', '--', 'c1']);
  });

  test('the pty helper gets rows, then columns, then the command', () => {
    assert.deepEqual(ptyHelperArgs(30, 90, 'docker', ['exec', 'x']), [PTY_HELPER_PATH, '30', '90', '--', 'docker', 'exec', 'x']);
  });
});

describe('DockerSessions over a stand-in docker CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-sessions-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // Prints its arguments, then its terminal's size when it has one, else echoes stdin; exits 3.
  const docker = join(dir, 'docker');
  writeFileSync(docker, '#!/bin/sh\necho "args: $*"\nif [ -t 0 ]; then stty size; else cat; fi\nexit 3\n');
  chmodSync(docker, 0o755);

  const read = (stream: Readable | undefined) =>
    new Promise<string>((resolve) => {
      let text = '';
      stream?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      stream?.on('close', () => resolve(text));
      if (!stream) resolve('');
    });

  test('an attach runs docker attach with pipes, and is one docker call for the observers when it ends', async () => {
    const calls: Array<{ args: readonly string[]; ok: boolean }> = [];
    const sessions = new DockerSessions({ binary: docker, runToEnd: (args, options, onStarted) => new DockerCli(docker).runToEnd(args, options, onStarted), notify: (args, _ms, ok) => calls.push({ args, ok }) });
    const session = sessions.attach('c1', { stdin: true });
    const output = read(session.stdout);
    session.stdin!.end('typed\n');
    assert.equal(await session.exited, 3);
    assert.equal(await output, 'args: attach --sig-proxy=false -- c1\ntyped\n');
    assert.ok(session.stderr, 'without a TTY stderr is its own stream');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [{ args: ['attach', '--sig-proxy=false', '--', 'c1'], ok: true }]);
  });

  test('a TTY exec runs under the pty helper with the size given', async () => {
    const sessions = new DockerSessions({ binary: docker, runToEnd: (args, options, onStarted) => new DockerCli(docker).runToEnd(args, options, onStarted), notify: () => undefined });
    const session = sessions.exec('c1', ['sh'], { stdin: true, tty: { width: 90, height: 30 } });
    assert.equal(session.stderr, undefined, 'a terminal has one output stream');
    const output = read(session.stdout);
    session.stdin!.end();
    assert.equal(await session.exited, 3);
    const text = await output;
    assert.match(text, new RegExp(`args: exec --interactive --tty --env ${EXEC_MARKER}=[0-9a-f]{24} -- c1 sh`));
    assert.match(text, /30 90/);
  });

  test('kill ends the docker client', async () => {
    const sessions = new DockerSessions({ binary: docker, runToEnd: (args, options, onStarted) => new DockerCli(docker).runToEnd(args, options, onStarted), notify: () => undefined });
    const session = sessions.exec('c1', ['sleep'], { stdin: true });
    assert.equal(await session.kill(), 0, 'no process of the stand-in carries the marker');
    assert.equal(await session.exited, 137);
  });
});
