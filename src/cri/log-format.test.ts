import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertDockerLogLines, formatCriLogLines, parseDockerLogLine } from './log-format.js';

const TIME = '2026-11-23T10:00:00.123456789Z';

test('a whole stdout line becomes an F entry without its newline', () => {
  assert.equal(formatCriLogLines({ log: 'hello\n', stream: 'stdout', time: TIME }), `${TIME} stdout F hello\n`);
});

test('a line Docker split (no trailing newline) becomes a P entry', () => {
  assert.equal(formatCriLogLines({ log: 'abc', stream: 'stdout', time: TIME }), `${TIME} stdout P abc\n`);
});

test('stderr keeps its stream', () => {
  assert.equal(formatCriLogLines({ log: 'oops\n', stream: 'stderr', time: TIME }), `${TIME} stderr F oops\n`);
});

test('an empty line is an F entry with empty content', () => {
  assert.equal(formatCriLogLines({ log: '\n', stream: 'stdout', time: TIME }), `${TIME} stdout F \n`);
});

test('an empty partial entry says nothing', () => {
  assert.equal(formatCriLogLines({ log: '', stream: 'stdout', time: TIME }), '');
});

test('spaces, tabs and unicode pass through unchanged', () => {
  const content = '  a\tb  c  ü 日本 🙂 ';
  assert.equal(formatCriLogLines({ log: content + '\n', stream: 'stdout', time: TIME }), `${TIME} stdout F ${content}\n`);
});

test('like containerd, only the final "\\n" is removed: a "\\r" stays', () => {
  assert.equal(formatCriLogLines({ log: 'dos\r\n', stream: 'stdout', time: TIME }), `${TIME} stdout F dos\r\n`);
});

test('an entry holding several lines becomes one CRI entry per line', () => {
  assert.equal(formatCriLogLines({ log: 'a\nb\nc', stream: 'stdout', time: TIME }), `${TIME} stdout F a\n${TIME} stdout F b\n${TIME} stdout P c\n`);
});

test("Docker's time is passed through unchanged (trailing zeros already trimmed)", () => {
  assert.equal(formatCriLogLines({ log: 'x\n', stream: 'stdout', time: '2026-11-23T10:00:00.1Z' }), '2026-11-23T10:00:00.1Z stdout F x\n');
});

test('Docker json-file lines parse; anything else is undefined', () => {
  assert.deepEqual(parseDockerLogLine(`{"log":"a\\u0009b\\n","stream":"stderr","time":"${TIME}"}`), { log: 'a\tb\n', stream: 'stderr', time: TIME });
  assert.deepEqual(parseDockerLogLine(`{"log":"x\\n","stream":"stdout","time":"${TIME}","attrs":{"k":"v"}}`), { log: 'x\n', stream: 'stdout', time: TIME });
  for (const bad of ['', 'not json', '[]', 'null', '"x"', '{"log":"x","stream":"stdout"}', `{"log":1,"stream":"stdout","time":"${TIME}"}`, `{"log":"x","stream":"stdin","time":"${TIME}"}`, `{"log":"x","stream":"stdout","time":""}`, '{"log":"x","stream":"std']) {
    assert.equal(parseDockerLogLine(bad), undefined, bad);
  }
});

test('whole Docker lines convert in order; malformed ones are counted and skipped', () => {
  const text = [
    `{"log":"one\\n","stream":"stdout","time":"${TIME}"}`,
    'garbage',
    `{"log":"two","stream":"stderr","time":"${TIME}"}`,
    '',
  ].join('\n');
  assert.deepEqual(convertDockerLogLines(text), { output: `${TIME} stdout F one\n${TIME} stderr P two\n`, malformed: 1 });
});
