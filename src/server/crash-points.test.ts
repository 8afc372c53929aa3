import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DockerCli, DockerProgressObserver } from '../docker/cli.js';
import { Logger } from '../common/logger.js';
import { ALL_CRASH_STEPS, CrashPoints, KILL_AFTER_VAR, dockerStage } from './crash-points.js';

const quiet = new Logger('error', () => undefined);
const fakeCli = (observers: DockerProgressObserver[]) => ({ onProgress: (observer: DockerProgressObserver) => observers.push(observer) }) as unknown as DockerCli;

test('every step is named Call/step, each once', () => {
  assert.equal(new Set(ALL_CRASH_STEPS).size, ALL_CRASH_STEPS.length);
  for (const step of ALL_CRASH_STEPS) assert.match(step, /^(RunPodSandbox|CreateContainer|StartContainer)\/[a-z-]+$/);
  assert.ok(ALL_CRASH_STEPS.includes('RunPodSandbox/docker-run-spawned'));
});

test('docker steps name the CLI verb and stage', () => {
  assert.deepEqual(dockerStage('docker-run-spawned'), { verb: 'run', stage: 'spawned' });
  assert.deepEqual(dockerStage('docker-create-relayed'), { verb: 'create', stage: 'relayed' });
  assert.equal(dockerStage('docker-start-done'), undefined, 'reached by the handler, not the CLI');
  assert.equal(dockerStage('stored'), undefined);
});

test('unset, no step does anything and nothing observes the CLI', () => {
  const observers: DockerProgressObserver[] = [];
  const points = CrashPoints.fromEnvironment({}, fakeCli(observers), quiet);
  points.reached('RunPodSandbox', 'stored');
  assert.equal(observers.length, 0);
});

test('an unknown step is refused with the list of steps', () => {
  assert.throws(() => CrashPoints.fromEnvironment({ [KILL_AFTER_VAR]: 'RunPodSandbox/nope' }, fakeCli([]), quiet), /is not a step; the steps are: RunPodSandbox\/log-directory-made/);
});

test('a docker step watches the CLI; other steps do not die when reached', () => {
  const observers: DockerProgressObserver[] = [];
  const points = CrashPoints.fromEnvironment({ [KILL_AFTER_VAR]: 'CreateContainer/docker-create-relayed' }, fakeCli(observers), quiet);
  assert.equal(observers.length, 1);
  observers[0]!('spawned', ['create']); // another stage of that verb: not the step
  observers[0]!('relayed', ['run']); // another verb
  points.reached('CreateContainer', 'checked');
});
