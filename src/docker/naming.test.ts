import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerName, parseContainerName, sandboxContainerName } from './naming.js';

test('sandbox and container names follow the k8s_ scheme and parse back', () => {
  const pod = { name: 'web', namespace: 'default', uid: 'abc-123', attempt: 2 };
  assert.equal(sandboxContainerName(pod), 'k8s_POD_web_default_abc-123_2');
  assert.equal(containerName({ container: 'nginx', attempt: 0 }, pod), 'k8s_nginx_web_default_abc-123_0');
  assert.deepEqual(parseContainerName('/k8s_nginx_web_default_abc-123_0'), { container: 'nginx', pod: 'web', namespace: 'default', uid: 'abc-123', attempt: 0 });
  assert.equal(parseContainerName('some_other_name'), undefined);
  assert.equal(sandboxContainerName({ name: 'a b/c', namespace: 'n', uid: 'u', attempt: 0 }), 'k8s_POD_a-b-c_n_u_0');
});
