import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GrpcCode, MascriError } from '../common/errors.js';
import { checkInstanceName, containerName, instanceNameProblem, sandboxContainerName } from './naming.js';

const pod = { name: 'web', namespace: 'default', uid: 'abc-123', attempt: 2 };

test('sandbox and container names follow the k8s_ scheme', () => {
  assert.equal(sandboxContainerName(pod), 'k8s_POD_web_default_abc-123_2');
  assert.equal(containerName({ container: 'nginx', attempt: 0 }, pod), 'k8s_nginx_web_default_abc-123_0');
  assert.equal(sandboxContainerName({ name: 'a b/c', namespace: 'n', uid: 'u', attempt: 0 }), 'k8s_POD_a-b-c_n_u_0');
});

describe('names of an instance', () => {
  test('carry the instance as a seventh part, after the attempt', () => {
    assert.equal(sandboxContainerName(pod, 'node-a'), 'k8s_POD_web_default_abc-123_2_node-a');
    assert.equal(containerName({ container: 'nginx', attempt: 1 }, pod, 'node-a'), 'k8s_nginx_web_default_abc-123_1_node-a');
  });

  test('the default instance (empty) keeps the six-part name', () => {
    assert.equal(sandboxContainerName(pod, ''), sandboxContainerName(pod));
    assert.equal(containerName({ container: 'c', attempt: 0 }, pod, ''), 'k8s_c_web_default_abc-123_0');
  });

  test('the same pod on two instances gets two names', () => {
    const names = new Set([sandboxContainerName(pod), sandboxContainerName(pod, 'a'), sandboxContainerName(pod, 'b')]);
    assert.equal(names.size, 3);
  });
});

describe('checkInstanceName', () => {
  test('accepts DNS labels and the empty default', () => {
    for (const name of ['a', 'node-1', 'b2', '0', 'x'.repeat(63)]) assert.equal(checkInstanceName(name), name);
    assert.equal(checkInstanceName(''), '');
  });

  test('refuses anything else with INVALID_ARGUMENT naming what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['Node', /"N"; only lowercase letters, digits and "-"/],
      ['a_b', /"_"/],
      ['a.b', /"\."/],
      ['-a', /starts or ends with "-"/],
      ['a-', /starts or ends with "-"/],
      ['x'.repeat(64), /64 characters long, more than 63/],
      ['a b', /" "/],
    ];
    for (const [name, message] of cases) {
      assert.throws(
        () => checkInstanceName(name),
        (error: unknown) => error instanceof MascriError && error.code === GrpcCode.INVALID_ARGUMENT && message.test(error.message) && error.message.includes('is not valid'),
        name,
      );
    }
    assert.equal(instanceNameProblem(''), 'it is empty');
  });
});
