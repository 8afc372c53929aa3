import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { executeTemplate } from './go-template.js';
import { formatLogLine, rfc3339Local } from './log-line.js';
import { goJson, protoJsonValue, statusValue } from './protojson.js';
import { renderTabwriter } from './tabwriter.js';

describe('crictl\'s tables (text/tabwriter, minwidth 20, padding 3)', () => {
  test('every cell but the last is padded to its column', () => {
    assert.equal(
      renderTabwriter([
        ['IMAGE', 'TAG', 'IMAGE ID', 'SIZE'],
        ['localhost:5000/busybox', 'latest', '040bd7a8d213c', '1.98MB'],
      ]),
      'IMAGE                    TAG                 IMAGE ID            SIZE\nlocalhost:5000/busybox   latest              040bd7a8d213c       1.98MB',
    );
    assert.equal(renderTabwriter([['cgroup driver:', 'CGROUPFS']], 10), 'cgroup driver:   CGROUPFS');
  });
});

describe('protojson as crictl prints it', () => {
  test('fields in .proto order, defaults present, unset messages left out, map keys sorted', () => {
    const value = protoJsonValue('Container', { id: 'c', labels: { b: '2', a: '1' }, annotations: {}, metadata: null, state: 'CONTAINER_RUNNING', createdAt: '5' }) as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['id', 'podSandboxId', 'image', 'imageRef', 'state', 'createdAt', 'labels', 'annotations', 'imageId'].filter((k) => k in value));
    assert.equal(value.metadata, undefined);
    assert.equal(value.imageRef, '');
    assert.equal(value.createdAt, '5');
    assert.deepEqual(Object.keys(value.labels as object), ['a', 'b']);
  });

  test('a status: every top-level field, an unset message as null; encoding/json sorts keys and escapes <>&', () => {
    const status = statusValue('ContainerStatus', { id: 'x', state: 'CONTAINER_CREATED' }, { createdAt: 'T' });
    assert.equal(status.user, null);
    assert.equal(status.createdAt, 'T');
    assert.equal(goJson({ b: '<none>', a: { d: 1, c: '&' } }), '{\n  "a": {\n    "c": "\\u0026",\n    "d": 1\n  },\n  "b": "\\u003cnone\\u003e"\n}');
  });
});

describe('Go templates (crictl -o go-template)', () => {
  const data = { status: { state: 'CONTAINER_RUNNING', labels: { b: '2', a: '1' }, mounts: [{ p: '/x' }, { p: '/y' }] }, info: { pid: 42 } };
  test('fields, range, if/else, functions and pipes', () => {
    assert.equal(executeTemplate('{{.status.state}} {{.info.pid}}', data), 'CONTAINER_RUNNING 42');
    assert.equal(executeTemplate('{{range .status.mounts}}{{.p}};{{end}}', data), '/x;/y;');
    assert.equal(executeTemplate('{{range $k, $v := .status.labels}}{{$k}}={{$v}} {{end}}', data), 'a=1 b=2 ');
    assert.equal(executeTemplate('{{if eq .status.state "CONTAINER_RUNNING"}}up{{else}}down{{end}}', data), 'up');
    assert.equal(executeTemplate('{{.status.state | lower}} {{json .info}}', data), 'container_running {"pid":42}\n');
    assert.equal(executeTemplate('{{.status.labels}}', data), 'map[a:1 b:2]');
    assert.equal(executeTemplate('{{- " x " -}}  ', data), ' x ');
  });
  test('a missing key is an error (missingkey=error)', () => {
    assert.throws(() => executeTemplate('{{.status.nope}}', data), /map has no entry for key "nope"/);
  });
});

describe('stderr lines in logrus\'s shape', () => {
  test('quoted message, RFC 3339 time; the terminal form', () => {
    const now = new Date('2026-12-02T14:37:48.123Z');
    if (now.getTimezoneOffset() === 0) assert.equal(rfc3339Local(now), '2026-12-02T14:37:48Z');
    assert.match(formatLogLine('error', 'get x: rpc error: "q"', false, now), /^time="[^"]+" level=error msg="get x: rpc error: \\"q\\""$/);
    assert.match(formatLogLine('info', 'plain', false, now), / level=info msg=plain$/);
    assert.match(formatLogLine('error', 'boom', true, now), /^ERRO\[\d{4}\] boom$/);
  });
});
