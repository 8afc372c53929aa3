import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { utf8Length } from '../common/utf8.js';
import {
  LABEL_ANNOTATIONS,
  LABEL_CONFIG,
  LABEL_CREATED,
  LABEL_INSTANCE,
  LABEL_LOG_DIRECTORY,
  LABEL_PART_BYTES,
  LABEL_TYPE,
  containerLabels,
  decodeContainerLabels,
  decodeSandboxLabels,
  getValue,
  instanceLabelFilter,
  instanceOf,
  isReservedLabel,
  labelFileText,
  ownedBy,
  sandboxLabels,
} from './labels.js';

/**
 * What the docker CLI makes of a label file (docker/cli 20.10 opts/file.go, today pkg/kvfile):
 * bufio.ScanLines (split at "\n", one "\r" before it dropped, a line of 64 KiB or more is an error),
 * valid UTF-8 only, leading whitespace trimmed, empty and "#" lines skipped, the key up to the first
 * "=" and without blanks, the value as-is; then ConvertKVStringsToMap.
 */
function readLikeDockerCli(text: string): Record<string, string> {
  const bytes = Buffer.from(text, 'utf8');
  const labels: Record<string, string> = {};
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    if (end - start + 1 > 64 * 1024) throw new Error('bufio.Scanner: token too long');
    let line = bytes.subarray(start, end);
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
    start = end + 1;
    const decoded = new TextDecoder('utf-8', { fatal: true }).decode(line).replace(/^[\s\u0085]+/, '');
    if (decoded === '' || decoded.startsWith('#')) continue;
    const eq = decoded.indexOf('=');
    const key = eq < 0 ? decoded : decoded.slice(0, eq);
    if (/[ \t]/.test(key)) throw new Error(`variable '${key}' contains whitespaces`);
    if (eq >= 0) labels[key] = decoded.slice(eq + 1);
  }
  return labels;
}

/** Labels as Docker would keep them: through the label file and the CLI's parser. */
const throughDocker = (labels: Record<string, string>) => readLikeDockerCli(labelFileText(labels));

/** Annotations as large as Kubernetes allows (256 KiB in all): many keys and one ~100 KiB value, multibyte text included. */
function bigAnnotations(): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (let i = 0; i < 130; i++) annotations[`example.com/note-${i}`] = `${i}: ` + 'ä€😀x'.repeat(100);
  annotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify({ spec: { data: '"quoted"\\ é😀'.repeat(6000) } });
  return annotations;
}

const sandboxInput = (extra: Partial<Parameters<typeof sandboxLabels>[0]> = {}) => ({
  metadata: { name: 'p', namespace: 'ns', uid: 'u', attempt: 3 },
  labels: { app: 'web', 'tricky,key': 'a=b,c' },
  annotations: { 'example.com/note': 'multi\nline' },
  logDirectory: '/var/log/pods/p',
  runtimeHandler: '',
  config: { hostname: 'h' },
  ...extra,
});

describe('sandbox and container labels', () => {
  test('sandbox labels round-trip losslessly, user labels are also set as-is', () => {
    const input = sandboxInput();
    const labels = sandboxLabels(input);
    assert.equal(labels[LABEL_TYPE], 'sandbox');
    assert.equal(labels.app, 'web');
    assert.equal(labels['tricky,key'], 'a=b,c');
    assert.equal(labels['io.kubernetes.pod.name'], 'p');
    assert.deepEqual(decodeSandboxLabels(labels), input);
    assert.deepEqual(decodeSandboxLabels(throughDocker(labels)), input);
    assert.equal(decodeSandboxLabels({ app: 'x' }), undefined, 'other containers are not sandboxes');
    assert.equal(decodeSandboxLabels(null), undefined);
  });

  test('annotations of the size Kubernetes allows come back byte for byte through the label file, each label under the part size', () => {
    const annotations = bigAnnotations();
    const size = Object.entries(annotations).reduce((sum, [k, v]) => sum + utf8Length(k) + utf8Length(v), 0);
    assert.ok(size > 240 * 1024 && size <= 256 * 1024, `${size} bytes of annotations`);
    const input = sandboxInput({ annotations, labels: { ...annotations, app: 'web' } });
    const labels = sandboxLabels(input);
    for (const [key, value] of Object.entries(labels)) assert.ok(utf8Length(value) <= LABEL_PART_BYTES, `${key}: ${utf8Length(value)} bytes`);
    assert.equal(labels[LABEL_ANNOTATIONS], undefined, 'the long value is in parts');
    assert.ok(Number(labels[`${LABEL_ANNOTATIONS}.parts`]) >= 8);
    assert.equal(labels['kubectl.kubernetes.io/last-applied-configuration'], undefined, 'a long user label is not mirrored');
    assert.equal(labels.app, 'web');
    const stored = throughDocker(labels);
    assert.deepEqual(stored, labels, 'the docker CLI reads every label back as written');
    assert.deepEqual(decodeSandboxLabels(stored), input);
  });

  test('a container with a 100 KiB annotation and labels no label-file line could carry as-is', () => {
    const input = {
      sandboxId: 'f'.repeat(64),
      metadata: { name: 'c', attempt: 1 },
      labels: { 'multi': 'one\ntwo', cr: 'ends\r', nul: 'a\0b', lone: 'x\uD800y', '#hash': 'v', 'has space': 'v', 'k=eq': 'v', ' lead': 'v', blank: '  both  ', empty: '' },
      annotations: { big: 'é'.repeat(50 * 1024), small: 'x' },
      logPath: '/var/log/pods/p/c/1.log',
      image: 'localhost:5000/busybox:latest',
      config: { command: ['sh', '-c', 'echo "$x"\n'] },
      pod: { name: 'p', namespace: 'ns', uid: 'u' },
    };
    const labels = containerLabels(input);
    assert.deepEqual(
      Object.keys(labels).filter((key) => key in input.labels),
      ['blank', 'empty'],
      'only labels a label-file line carries as they are are mirrored',
    );
    assert.equal(labels.blank, '  both  ');
    assert.equal(labels['io.kubernetes.container.name'], 'c');
    assert.deepEqual(decodeContainerLabels(throughDocker(labels)), input);
  });

  test("one of mascri's own values with a line break is stored as JSON parts and decoded exactly", () => {
    const input = sandboxInput({ logDirectory: '/var/log/pods/odd\ndir\r', runtimeHandler: 'x' });
    const labels = sandboxLabels(input);
    assert.equal(labels[LABEL_LOG_DIRECTORY], undefined);
    assert.equal(labels[`${LABEL_LOG_DIRECTORY}.parts`], '1,json');
    assert.deepEqual(decodeSandboxLabels(throughDocker(labels)), input);
  });

  test('labels written whole by earlier versions decode; incomplete parts are absent', () => {
    const old = { [LABEL_TYPE]: 'sandbox', [LABEL_CONFIG]: '{"hostname":"h"}', 'io.mascri.annotations': '{"a":"b"}' };
    const decoded = decodeSandboxLabels(old)!;
    assert.deepEqual(decoded.config, { hostname: 'h' });
    assert.deepEqual(decoded.annotations, { a: 'b' });
    assert.equal(getValue({ 'k.parts': '2', 'k.0': 'a', 'k.1': 'b' }, 'k'), 'ab');
    assert.equal(getValue({ 'k.parts': '2', 'k.0': 'a' }, 'k'), undefined);
    assert.equal(getValue({ 'k.parts': '1,json', 'k.0': '"a\\nb"' }, 'k'), 'a\nb');
    assert.equal(getValue({ 'k.parts': 'x', 'k.0': 'a' }, 'k'), undefined);
    assert.equal(getValue({}, 'k'), undefined);
  });

  test('the time mascri made the object comes back as written; objects of earlier versions have none', () => {
    const created = '2026-12-07T15:30:00.123Z';
    const sandbox = sandboxLabels(sandboxInput({ created }));
    assert.equal(sandbox[LABEL_CREATED], created);
    assert.equal(decodeSandboxLabels(throughDocker(sandbox))?.created, created);
    const container = containerLabels({ sandboxId: 's', metadata: { name: 'c', attempt: 0 }, labels: {}, annotations: {}, logPath: '', image: 'i', config: {}, pod: { name: 'p', namespace: 'ns', uid: 'u' }, created });
    assert.equal(decodeContainerLabels(throughDocker(container))?.created, created);
    assert.equal('created' in decodeSandboxLabels(sandboxLabels(sandboxInput()))!, false);
  });

  test("a user label with mascri's prefix is not mirrored: mascri's own labels win", () => {
    const labels = sandboxLabels(sandboxInput({ labels: { 'io.mascri.type': 'container' } as Record<string, string> }));
    assert.equal(labels[LABEL_TYPE], 'sandbox', "mascri's own labels win");
  });
});

describe('instances', () => {
  const containerInput = (instance?: string) => ({
    sandboxId: 'f'.repeat(64),
    metadata: { name: 'c', attempt: 0 },
    labels: {},
    annotations: {},
    logPath: '',
    image: 'i',
    config: {},
    pod: { name: 'p', namespace: 'ns', uid: 'u' },
    ...(instance === undefined ? {} : { instance }),
  });

  test('a named instance labels its sandboxes and containers; the default sets no instance label', () => {
    assert.equal(sandboxLabels(sandboxInput({ instance: 'node-a' }))[LABEL_INSTANCE], 'node-a');
    assert.equal(containerLabels(containerInput('node-a'))[LABEL_INSTANCE], 'node-a');
    assert.ok(!(LABEL_INSTANCE in sandboxLabels(sandboxInput())));
    assert.ok(!(LABEL_INSTANCE in sandboxLabels(sandboxInput({ instance: '' }))));
    assert.ok(!(LABEL_INSTANCE in containerLabels(containerInput())));
    assert.equal(instanceOf(throughDocker(containerLabels(containerInput('b')))), 'b');
    assert.equal(instanceOf(containerLabels(containerInput())), '');
    assert.equal(instanceOf(null), '');
  });

  test('a user label cannot claim an instance', () => {
    const labels = sandboxLabels(sandboxInput({ labels: { [LABEL_INSTANCE]: 'other' } }));
    assert.ok(!(LABEL_INSTANCE in labels));
    assert.ok(ownedBy('', labels));
  });

  test('each instance owns only its own containers; the default owns those without an instance label', () => {
    const mine = containerLabels(containerInput('a'));
    const theirs = sandboxLabels(sandboxInput({ instance: 'b' }));
    const unnamed = sandboxLabels(sandboxInput());
    assert.ok(ownedBy('a', mine));
    assert.ok(!ownedBy('a', theirs));
    assert.ok(!ownedBy('a', unnamed));
    assert.ok(ownedBy('', unnamed));
    assert.ok(!ownedBy('', mine), 'the default instance does not see named instances');
    assert.ok(!ownedBy('', { app: 'x' }), 'a container that is not mascri\'s belongs to no instance');
    assert.ok(!ownedBy('a', { [LABEL_INSTANCE]: 'a' }), 'an instance label without the type label is not a mascri container');
    assert.ok(!ownedBy('', null));
  });

  test('Docker filters on the instance label when there is one, else on every mascri container', () => {
    assert.equal(instanceLabelFilter('node-a'), `${LABEL_INSTANCE}=node-a`);
    assert.equal(instanceLabelFilter(''), LABEL_TYPE);
  });
});

describe('labelFileText', () => {
  test('one key=value line per label, in a stable order', () => {
    assert.equal(labelFileText({ b: '2', a: '1=x', c: '' }), 'a=1=x\nb=2\nc=\n');
    assert.equal(labelFileText({}), '');
  });

  test('a label the docker CLI would not read back as it is fails instead of being changed', () => {
    assert.throws(() => labelFileText({ k: 'a\nb' }), /"k" cannot be written to a label file/);
    assert.throws(() => labelFileText({ 'a b': 'v' }), /cannot be written/);
    assert.throws(() => labelFileText({ k: 'x'.repeat(64 * 1024) }), /cannot be written/);
  });
});

test('reserved keys', () => {
  assert.ok(isReservedLabel('io.mascri.type'));
  assert.ok(!isReservedLabel('app'));
});
