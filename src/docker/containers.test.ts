import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcCode } from '../common/errors.js';
import type { DockerCli, DockerResult } from './cli.js';
import { DockerContainers, REMOVAL_WAIT_MS, ownedIds, type RemovalClock } from './containers.js';
import { DockerError, classifyDockerFailure, dockerMessage } from './errors.js';

/** A docker CLI that answers each call with the next scripted answer and records the calls. */
class ScriptedCli {
  readonly calls: string[][] = [];
  constructor(private readonly answer: (args: readonly string[]) => DockerResult) {}
  async run(args: readonly string[]): Promise<DockerResult> {
    this.calls.push([...args]);
    return this.answer(args);
  }
  async runJsonLines<T>(args: readonly string[]): Promise<T[]> {
    const { stdout } = await this.run(args);
    return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
  }
  asCli(): DockerCli {
    return this as unknown as DockerCli;
  }
}

/** A clock whose sleeps pass at once, advancing its time. */
class FakeClock implements RemovalClock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

/** What `docker` throws for `stderr`, as DockerCli.run does. */
function failure(stderr: string, args: readonly string[]): DockerError {
  return new DockerError(classifyDockerFailure(stderr), dockerMessage(stderr), args);
}

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const IN_PROGRESS = (id: string) => `Error response from daemon: removal of container ${id} is already in progress`;

describe('DockerContainers.listIds', () => {
  test('a named instance lets Docker filter on its label', async () => {
    const cli = new ScriptedCli(() => ({ stdout: `${A}\tnode-a\n`, stderr: '' }));
    assert.deepEqual(await new DockerContainers(cli.asCli()).listIds('node-a', ['io.mascri.sandbox-id=x']), [A]);
    const args = cli.calls[0]!;
    assert.deepEqual(args.slice(0, 3), ['ps', '--all', '--no-trunc']);
    assert.deepEqual(args.filter((_, i) => args[i - 1] === '--filter'), ['label=io.mascri.instance=node-a', 'label=io.mascri.sandbox-id=x']);
  });

  test('the default instance lists every mascri container and keeps those without an instance label', async () => {
    const cli = new ScriptedCli(() => ({ stdout: `${A}\t\n${B}\tnode-b\n`, stderr: '' }));
    assert.deepEqual(await new DockerContainers(cli.asCli()).listIds(''), [A]);
    const args = cli.calls[0]!;
    assert.deepEqual(args.filter((_, i) => args[i - 1] === '--filter'), ['label=io.mascri.type']);
  });

  test('ownedIds reads the ID and instance columns', () => {
    const stdout = `${A}\t\n${B}\tb\n\n  ${'c'.repeat(64)}\tb  \n`;
    assert.deepEqual(ownedIds(stdout, ''), [A]);
    assert.deepEqual(ownedIds(stdout, 'b'), [B, 'c'.repeat(64)]);
    assert.deepEqual(ownedIds('', 'b'), []);
  });
});

describe('DockerContainers.remove', () => {
  test('a container another call is removing is waited for until it is gone, then the remove succeeds', async () => {
    let inspects = 0;
    const cli = new ScriptedCli((args) => {
      if (args[0] === 'rm') throw failure(IN_PROGRESS(A), args);
      // Still there at the first look, gone at the second.
      inspects++;
      if (inspects === 1) return { stdout: JSON.stringify({ Id: A }), stderr: '' };
      throw failure(`Error: No such container: ${A}`, args);
    });
    const clock = new FakeClock();
    await new DockerContainers(cli.asCli(), clock).remove([A]);
    assert.deepEqual(cli.calls.map((args) => args[0]), ['rm', 'container', 'rm', 'container']);
    assert.deepEqual(clock.sleeps, [50, 100], 'looks again sooner at first, then less often');
  });

  test('of several, only those still there are removed again; a missing one is no error', async () => {
    const removed: string[][] = [];
    const cli = new ScriptedCli((args) => {
      if (args[0] === 'rm') {
        const ids = args.slice(args.indexOf('--') + 1);
        removed.push(ids);
        if (removed.length === 1) throw failure(`Error: No such container: ${B}\n${IN_PROGRESS(A)}`, args);
        return { stdout: ids.join('\n'), stderr: '' };
      }
      // The other removal failed (the container is left Dead): it is still there.
      return { stdout: JSON.stringify({ Id: A }), stderr: '' };
    });
    await new DockerContainers(cli.asCli(), new FakeClock()).remove([A, B]);
    assert.deepEqual(removed, [[A, B], [A]]);
  });

  test('a removal that never ends fails after the wait as FAILED_PRECONDITION, naming Docker\'s words', async () => {
    const cli = new ScriptedCli((args) => {
      if (args[0] === 'rm') throw failure(IN_PROGRESS(A), args);
      return { stdout: JSON.stringify({ Id: A }), stderr: '' };
    });
    const clock = new FakeClock();
    await assert.rejects(new DockerContainers(cli.asCli(), clock).remove([A]), (error: unknown) => {
      assert.ok(error instanceof DockerError);
      assert.equal(error.code, GrpcCode.FAILED_PRECONDITION);
      assert.match(error.message, /removal of container a+ is already in progress; the container was still there after 60 s/);
      return true;
    });
    assert.ok(clock.time >= REMOVAL_WAIT_MS && clock.time < REMOVAL_WAIT_MS + 2000, `gave up after ${clock.time} ms`);
    assert.ok(Math.max(...clock.sleeps) <= 1000);
  });

  test('any other failure is not waited on', async () => {
    const cli = new ScriptedCli((args) => {
      throw failure('Error response from daemon: something else broke', args);
    });
    const clock = new FakeClock();
    await assert.rejects(new DockerContainers(cli.asCli(), clock).remove([A]), (error: unknown) => error instanceof DockerError && error.kind === 'internal');
    assert.deepEqual(clock.sleeps, []);
  });

  test('absent containers are success, and nothing to remove runs no docker', async () => {
    const cli = new ScriptedCli((args) => {
      throw failure(`Error: No such container: ${A}`, args);
    });
    await new DockerContainers(cli.asCli()).remove([A]);
    await new DockerContainers(cli.asCli()).remove([]);
    assert.equal(cli.calls.length, 1);
  });
});
