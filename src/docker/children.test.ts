import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  CHILD_INSTANCE_VAR,
  CHILD_PID_VAR,
  childEnv,
  classifyOrphan,
  dockerVerb,
  markChildrenOf,
  markedParent,
  parseEnviron,
  parseStat,
  removeStaleTempDirs,
  tempOwner,
  tempPrefix,
} from './children.js';

describe('children of a server', () => {
  test('every child is marked with the instance and the server PID', () => {
    markChildrenOf('node-a');
    const env = childEnv({ EXTRA: '1' });
    assert.equal(env[CHILD_INSTANCE_VAR], 'node-a');
    assert.equal(env[CHILD_PID_VAR], String(process.pid));
    assert.equal(env.EXTRA, '1');
    assert.equal(env.PATH, process.env.PATH, "the server's own environment is kept");
  });

  test('the docker verb is found after global options', () => {
    assert.equal(dockerVerb(['docker', 'run', '--detach']), 'run');
    assert.equal(dockerVerb(['/usr/bin/docker', '--log-level', 'debug', '-H', 'unix:///x', 'create', '--', 'x']), 'create');
    assert.equal(dockerVerb(['docker', '--debug', 'exec', 'x']), 'exec');
    assert.equal(dockerVerb(['nsenter', '--net=/proc/1/ns/net', '--', 'node']), undefined, 'no docker call');
    assert.equal(dockerVerb(['docker']), undefined);
  });

  test("an orphan is a marked process of the instance whose server is gone; docker writes are let finish, sessions are not", () => {
    const env = { [CHILD_INSTANCE_VAR]: 'node-a', [CHILD_PID_VAR]: '100' };
    assert.deepEqual(classifyOrphan(7, env, ['docker', 'run', '-d'], 'node-a', false), { pid: 7, argv: ['docker', 'run', '-d'], write: true });
    assert.equal(classifyOrphan(7, env, ['docker', 'exec', 'x', 'sh'], 'node-a', false)?.write, false, 'an exec session of a gone client is ended');
    assert.equal(classifyOrphan(7, env, ['docker', 'events'], 'node-a', false)?.write, false);
    assert.equal(classifyOrphan(7, env, ['nsenter', '--', 'node', 'relay.js'], 'node-a', false)?.write, false, 'a port relay is ended');
    assert.equal(classifyOrphan(7, env, ['docker', 'run'], 'node-a', true), undefined, 'its server still runs');
    assert.equal(classifyOrphan(7, env, ['docker', 'run'], 'node-b', false), undefined, "another instance's");
    assert.equal(classifyOrphan(7, { [CHILD_PID_VAR]: '100' }, ['docker', 'run'], '', false), undefined, 'not marked with an instance');
    assert.equal(classifyOrphan(7, { [CHILD_INSTANCE_VAR]: '', [CHILD_PID_VAR]: '100' }, ['docker', 'rm'], '', false)?.write, true, 'the default instance');
  });

  test('/proc texts are read right', () => {
    assert.deepEqual(parseEnviron('A=1\0B=x=y\0\0EMPTY=\0'), { A: '1', B: 'x=y', EMPTY: '' });
    assert.equal(markedParent({ [CHILD_PID_VAR]: '42' }), 42);
    assert.equal(markedParent({ [CHILD_PID_VAR]: 'x' }), undefined);
    assert.equal(markedParent({}), undefined);
    const stat = '1234 (docker (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 12 0 98765 1000 10 18446744073709551615';
    assert.deepEqual(parseStat(stat), { state: 'S', parentPid: 1, startTime: 98765 });
    assert.equal(parseStat('garbage'), undefined);
  });

  test('temporary directories carry their owner PID', () => {
    assert.equal(tempPrefix(123), 'mascri-123-');
    assert.equal(tempOwner('mascri-123-labels-abc'), 123);
    assert.equal(tempOwner('mascri-tests-abc'), undefined);
    assert.equal(tempOwner('other'), undefined);
  });

  test("a dead server's temporary directories are removed; a running process's and foreign ones are kept", async () => {
    const root = mkdtempSync(join(tmpdir(), 'children-test-'));
    try {
      // PID 2^22 + 1 is above Linux's highest PID: no such process.
      const dead = `mascri-${2 ** 22 + 1}-labels-x`;
      const mine = `${tempPrefix()}labels-y`;
      const alive = `mascri-1-labels-z`;
      for (const name of [dead, mine, alive, 'unrelated']) mkdirSync(join(root, name));
      assert.equal(await removeStaleTempDirs([root]), 1);
      assert.deepEqual(readdirSync(root).sort(), [alive, mine, 'unrelated'].sort());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
