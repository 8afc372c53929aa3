import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DockerCli, DockerResult } from './cli.js';
import { DockerContainers, ownedIds } from './containers.js';

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

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

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
