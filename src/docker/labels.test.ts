import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LABEL_TYPE, decodeSandboxLabels, isReservedLabel, labelArgs, sandboxLabels } from './labels.js';

test('sandbox labels round-trip losslessly, user labels are also set as-is', () => {
  const input = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u', attempt: 3 },
    labels: { app: 'web', 'tricky,key': 'a=b,c' },
    annotations: { 'example.com/note': 'multi\nline' },
    logDirectory: '/var/log/pods/p',
    runtimeHandler: '',
    config: { hostname: 'h' },
  };
  const labels = sandboxLabels(input);
  assert.equal(labels[LABEL_TYPE], 'sandbox');
  assert.equal(labels.app, 'web');
  assert.equal(labels['io.kubernetes.pod.name'], 'p');
  assert.deepEqual(decodeSandboxLabels(labels), input);
  assert.equal(decodeSandboxLabels({ app: 'x' }), undefined, 'other containers are not sandboxes');
  assert.equal(decodeSandboxLabels(null), undefined);
});

test('reserved keys and label arguments', () => {
  assert.ok(isReservedLabel('io.mascri.type'));
  assert.ok(!isReservedLabel('app'));
  assert.deepEqual(labelArgs({ b: '2', a: '1' }), ['--label', 'a=1', '--label', 'b=2']);
});
