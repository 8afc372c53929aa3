// The pty helper (pty-helper.py, beside the compiled code) run under python3 as sessions.ts runs it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pythonBinary, ptyHelperArgs } from './sessions.js';

/** Runs `sh -c script` under the helper with a pty of rows x cols; output is collected, fd 3 is returned for resizes. */
function runHelper(rows: number, cols: number, script: string) {
  const child = spawn(pythonBinary(), ptyHelperArgs(rows, cols, 'sh', ['-c', script]), { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  let output = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of waiters.splice(0)) waiter();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  /** Resolves once the output contains `text` (fails after 10 s). */
  const waitForOutput = async (text: string) => {
    const deadline = Date.now() + 10_000;
    while (!output.includes(text)) {
      if (Date.now() > deadline) throw new Error(`no "${text}" in the helper's output: ${JSON.stringify(output)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100).unref();
      });
    }
  };
  return { child, control: child.stdio[3] as Writable, exited, waitForOutput, output: () => output };
}

describe('pty helper', () => {
  test('the command runs on a terminal of the size given', async () => {
    const run = runHelper(24, 80, 'test -t 0 && test -t 1 && echo on-a-tty; stty size');
    run.child.stdin!.end();
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /on-a-tty/);
    assert.match(run.output(), /^24 80\r?$/m);
  });

  test('a "ROWS COLS" line on fd 3 resizes the terminal, and the command gets SIGWINCH', async () => {
    // On SIGWINCH (what docker resizes the container's terminal on) the command reports the size and exits 3.
    const run = runHelper(24, 80, 'trap \'echo "winch: $(stty size)"; exit 3\' WINCH; echo ready; while :; do sleep 0.02; done');
    await run.waitForOutput('ready');
    run.control.write('30 90\n');
    await run.waitForOutput('winch: 30 90');
    run.child.stdin!.end();
    assert.equal(await run.exited, 3, "the helper exits with the command's code");
  });

  test('stdin reaches the raw terminal unechoed, even before the command runs, and its end is sent as ^D', async () => {
    // Raw: no line discipline, so ^D arrives as a byte (docker passes it on to the container's terminal).
    const run = runHelper(0, 0, 'read line; echo "got:$line"; head -c 1 | od -An -tx1');
    run.child.stdin!.write('hello\n');
    await run.waitForOutput('got:hello');
    run.child.stdin!.end();
    assert.equal(await run.exited, 0);
    assert.match(run.output(), /^\s*04\s*$/m, 'the end of stdin is ^D');
    assert.doesNotMatch(run.output(), /^hello/m, 'the terminal does not echo');
  });

  test('a command that cannot run exits 127 with a message', async () => {
    const child = spawn(pythonBinary(), ptyHelperArgs(24, 80, '/nonexistent/mascri-command', []), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 127);
    assert.match(output, /cannot run \/nonexistent\/mascri-command/);
  });
});
