import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LogLineJoiner,
  fixedNanoTimestamp,
  formatForDisplay,
  parseCriLogLine,
  parseRfc3339,
  parseSince,
  previousLogPath,
  TailBuffer,
  type CriLogEntry,
  type LogLine,
  type LogSelection,
} from './cri-log.js';
import { parseTail } from './logs.js';

const T0 = '2026-11-23T10:00:00.123456789Z';
const T0_MS = Date.UTC(2026, 10, 23, 10, 0, 0) + 123.456789;

function entries(text: string): CriLogEntry[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const entry = parseCriLogLine(line);
      assert.ok(entry, line);
      return entry;
    });
}

/** Whole lines, as `logs` makes them: each entry pushed through a joiner, then the unfinished lines drained. */
function joinPartials(entries: CriLogEntry[]): LogLine[] {
  const joiner = new LogLineJoiner();
  const lines = entries.map((entry) => joiner.push(entry)).filter((line) => line !== undefined);
  return [...lines, ...joiner.drain()];
}

/** What `logs` keeps of whole lines: each pushed into a tail buffer. */
function selectLines(lines: LogLine[], selection: LogSelection): LogLine[] {
  const buffer = new TailBuffer(selection);
  for (const line of lines) buffer.push(line);
  return buffer.result();
}

function at(second: number): string {
  return `2026-11-23T10:00:${String(second).padStart(2, '0')}Z`;
}

test('CRI log lines parse into time, stream, tag and content (spaces and tabs kept)', () => {
  const entry = parseCriLogLine(`${T0} stdout F  two  spaces\tand a tab `)!;
  assert.equal(entry.timestamp, T0);
  assert.ok(Math.abs(entry.time - T0_MS) < 1e-3);
  assert.equal(entry.stream, 'stdout');
  assert.equal(entry.partial, false);
  assert.equal(entry.content, ' two  spaces\tand a tab ');
  assert.deepEqual(parseCriLogLine(`${T0} stderr P part`), { timestamp: T0, time: entry.time, stream: 'stderr', partial: true, content: 'part' });
  assert.equal(parseCriLogLine(`${T0} stdout F `)!.content, '');
  assert.equal(parseCriLogLine(`${T0} stdout F`)!.content, '');
  assert.equal(parseCriLogLine(`${T0} stdout F:extra:tags x`)!.content, 'x');
  for (const bad of ['', 'garbage', `${T0} stdin F x`, `${T0} stdout X x`, `${T0}`]) assert.equal(parseCriLogLine(bad), undefined, bad);
});

test('Docker json-file lines are read too (a runtime may point log_path at them)', () => {
  assert.deepEqual(parseCriLogLine(`{"log":"hi\\n","stream":"stderr","time":"${T0}"}`), { timestamp: T0, time: parseRfc3339(T0), stream: 'stderr', partial: false, content: 'hi' });
  assert.equal(parseCriLogLine(`{"log":"hi","stream":"stdout","time":"${T0}"}`)!.partial, true);
  assert.equal(parseCriLogLine('{"broken'), undefined);
});

test('RFC 3339 times with any number of fraction digits and zones', () => {
  assert.equal(parseRfc3339('2026-11-23T10:00:00Z'), Date.UTC(2026, 10, 23, 10));
  assert.equal(parseRfc3339('2026-11-23T12:00:00.5+02:00'), Date.UTC(2026, 10, 23, 10) + 500);
  assert.equal(parseRfc3339('2026-11-23T09:30:00-00:30'), Date.UTC(2026, 10, 23, 10));
  assert.ok(Number.isNaN(parseRfc3339('yesterday')));
});

test('P entries join the entries that follow on the same stream, without added newlines', () => {
  const lines = joinPartials(
    entries(
      [
        `${at(1)} stdout P hel`,
        `${at(2)} stderr F an error`,
        `${at(3)} stdout P lo `,
        `${at(4)} stdout F world`,
        `${at(5)} stdout F next`,
        `${at(6)} stderr P unfinished`,
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    lines.map((line) => [line.stream, line.content, line.complete, line.timestamp]),
    [
      ['stderr', 'an error', true, at(2)],
      ['stdout', 'hello world', true, at(1)],
      ['stdout', 'next', true, at(5)],
      ['stderr', 'unfinished', false, at(6)],
    ],
  );
});

test('the joiner streams: a line comes out when its F entry arrives; drain gives the unfinished ones', () => {
  const joiner = new LogLineJoiner();
  const [a, b, c] = entries(`${at(1)} stdout P a\n${at(2)} stdout P b\n${at(3)} stdout F c`);
  assert.equal(joiner.push(a!), undefined);
  assert.equal(joiner.push(b!), undefined);
  assert.equal(joiner.push(c!)!.content, 'abc');
  assert.deepEqual(joiner.drain(), []);
  joiner.push(a!);
  assert.deepEqual(joiner.drain().map((line) => line.content), ['a']);
});

function lines(count: number): LogLine[] {
  return joinPartials(entries(Array.from({ length: count }, (_, i) => `${at(i)} stdout F line ${i}`).join('\n')));
}

test('--tail keeps the last N lines (whole lines, not entries); -1 keeps all, 0 none', () => {
  const all = lines(10);
  assert.deepEqual(selectLines(all, { tail: 3 }).map((line) => line.content), ['line 7', 'line 8', 'line 9']);
  assert.equal(selectLines(all, { tail: -1 }).length, 10);
  assert.equal(selectLines(all, {}).length, 10);
  assert.equal(selectLines(all, { tail: 0 }).length, 0);
  assert.equal(selectLines(all, { tail: 50 }).length, 10);
  assert.equal(selectLines(lines(1000), { tail: 1 })[0]!.content, 'line 999');
  const joined = joinPartials(entries(`${at(1)} stdout F a\n${at(2)} stdout P b\n${at(3)} stdout F c`));
  assert.deepEqual(selectLines(joined, { tail: 1 }).map((line) => line.content), ['bc']);
});

test('--since keeps lines from that time on; combined with --tail, the last N of those', () => {
  const all = lines(10);
  const since = Date.parse(at(6));
  assert.deepEqual(selectLines(all, { sinceMs: since }).map((line) => line.content), ['line 6', 'line 7', 'line 8', 'line 9']);
  assert.deepEqual(selectLines(all, { sinceMs: since, tail: 2 }).map((line) => line.content), ['line 8', 'line 9']);
  assert.deepEqual(selectLines(all, { sinceMs: Date.parse(at(8)), tail: 5 }).map((line) => line.content), ['line 8', 'line 9']);
});

test('--since takes an RFC 3339 time or a duration back from now', () => {
  const now = Date.UTC(2026, 10, 23, 10, 0, 0);
  assert.equal(parseSince('2026-11-23T09:00:00Z', now), Date.UTC(2026, 10, 23, 9));
  assert.equal(parseSince('10s', now), now - 10_000);
  assert.equal(parseSince('5m', now), now - 300_000);
  assert.equal(parseSince('1h30m', now), now - 5_400_000);
  assert.equal(parseSince('last tuesday', now), undefined);
});

test('display: content and newline; -t prefixes the timestamp with fixed nanoseconds, like crictl', () => {
  const [line] = joinPartials(entries(`2026-11-23T10:00:00.1Z stdout F hello`));
  assert.equal(formatForDisplay(line!), 'hello\n');
  assert.equal(formatForDisplay(line!, { timestamps: true }), '2026-11-23T10:00:00.100000000Z hello\n');
  const [unfinished] = joinPartials(entries(`${T0} stdout P no newline`));
  assert.equal(formatForDisplay(unfinished!), 'no newline');
  assert.equal(fixedNanoTimestamp('2026-11-23T10:00:00Z'), '2026-11-23T10:00:00.000000000Z');
  assert.equal(fixedNanoTimestamp('2026-11-23T10:00:00.123456789+02:00'), '2026-11-23T10:00:00.123456789+02:00');
  assert.equal(fixedNanoTimestamp('odd'), 'odd');
});

test('--previous reads the previous attempt beside the current log, as crictl does', () => {
  assert.equal(previousLogPath('/var/log/pods/ns_web_uid/app/2.log', 2), '/var/log/pods/ns_web_uid/app/1.log');
  assert.equal(previousLogPath('/var/log/pods/ns_web_uid/app/1.log', 1), '/var/log/pods/ns_web_uid/app/0.log');
  assert.equal(previousLogPath('/var/log/pods/ns_web_uid/app/0.log', 0), undefined);
});

test('--tail accepts whole numbers only', () => {
  assert.equal(parseTail('10'), 10);
  assert.equal(parseTail('-1'), -1);
  assert.throws(() => parseTail('ten'), /invalid --tail/);
  assert.throws(() => parseTail('1.5'), /invalid --tail/);
});
