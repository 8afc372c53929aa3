import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from './output.js';
import {
  countToShow,
  createdAgo,
  goTime,
  humanDuration,
  parseLabelSelector,
  parseSandboxState,
  podStateName,
  resolveIdPrefix,
  rfc3339Nano,
  runtimeHandlerName,
  selectSandboxes,
  sandboxStatusValue,
} from './sandboxes.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('humanDuration (Go units.HumanDuration)', () => {
  const cases: Array<[number, string]> = [
    [-5 * SECOND, 'Less than a second'],
    [999, 'Less than a second'],
    [SECOND, '1 second'],
    [59 * SECOND + 999, '59 seconds'],
    [MINUTE, 'About a minute'],
    [119 * SECOND, 'About a minute'],
    [2 * MINUTE, '2 minutes'],
    [59 * MINUTE, '59 minutes'],
    [60 * MINUTE, 'About an hour'],
    [89 * MINUTE, 'About an hour'],
    [90 * MINUTE, '2 hours'],
    [47 * HOUR, '47 hours'],
    [48 * HOUR, '2 days'],
    [13 * DAY, '13 days'],
    [14 * DAY, '2 weeks'],
    [59 * DAY, '8 weeks'],
    [60 * DAY, '2 months'],
    [729 * DAY, '24 months'],
    [730 * DAY, '2 years'],
  ];
  for (const [ms, text] of cases) {
    test(`${ms} ms is "${text}"`, () => assert.equal(humanDuration(ms), text));
  }

  test('the CREATED column reads "... ago" from nanoseconds', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const nanos = (ms: number) => (BigInt(ms) * 1_000_000n + 123_456n).toString();
    assert.equal(createdAgo(nanos(now - 5 * SECOND), now), '5 seconds ago');
    assert.equal(createdAgo(nanos(now - 70 * SECOND), now), 'About a minute ago');
    assert.equal(createdAgo(nanos(now - 3 * HOUR), now), '3 hours ago');
  });
});

describe('states, handlers, labels', () => {
  test('--state takes ready / notready in any case', () => {
    assert.equal(parseSandboxState('ready'), 'SANDBOX_READY');
    assert.equal(parseSandboxState('Ready'), 'SANDBOX_READY');
    assert.equal(parseSandboxState('NOTREADY'), 'SANDBOX_NOTREADY');
    assert.throws(() => parseSandboxState('running'), UsageError);
  });

  test('the STATE column prints crictl\'s words', () => {
    assert.equal(podStateName('SANDBOX_READY'), 'Ready');
    assert.equal(podStateName('SANDBOX_NOTREADY'), 'NotReady');
  });

  test('an empty runtime handler shows as (default)', () => {
    assert.equal(runtimeHandlerName(''), '(default)');
    assert.equal(runtimeHandlerName('runsc'), 'runsc');
  });

  test('--label k=v flags become a selector', () => {
    assert.deepEqual(parseLabelSelector(['app=demo', 'tier=web', 'empty=']), { app: 'demo', tier: 'web', empty: '' });
    assert.throws(() => parseLabelSelector(['app']), UsageError);
    assert.throws(() => parseLabelSelector(['=demo']), UsageError);
  });
});

describe('selecting pods like crictl', () => {
  const pod = (name: string, namespace: string, createdAt: string) => ({ metadata: { name, namespace, uid: '', attempt: 0 }, createdAt });
  const pods = [pod('web-1', 'default', '1000'), pod('db-1', 'prod', '3000'), pod('web-2', 'prod', '2000'), { metadata: null, createdAt: '4000' }];

  test('newest first; pods without metadata are left out', () => {
    assert.deepEqual(selectSandboxes(pods, {}).map((p) => p.metadata?.name), ['db-1', 'web-2', 'web-1']);
  });

  test('name and namespace are regular expressions', () => {
    assert.deepEqual(selectSandboxes(pods, { name: '^web' }).map((p) => p.metadata?.name), ['web-2', 'web-1']);
    assert.deepEqual(selectSandboxes(pods, { name: 'web', namespace: 'prod' }).map((p) => p.metadata?.name), ['web-2']);
    assert.throws(() => selectSandboxes(pods, { name: '(' }), UsageError);
  });

  test('--latest and --last', () => {
    assert.deepEqual(selectSandboxes(pods, { latest: true }).map((p) => p.metadata?.name), ['db-1']);
    assert.deepEqual(selectSandboxes(pods, { last: 2 }).map((p) => p.metadata?.name), ['db-1', 'web-2']);
    assert.equal(countToShow(3, false, 0), 3);
    assert.equal(countToShow(3, true, 0), 1);
    assert.equal(countToShow(3, true, 2), 2);
    assert.equal(countToShow(3, false, 10), 3);
  });

  test('nanosecond times compare exactly beyond 2^53', () => {
    const close = [pod('a', 'x', '1700000000000000001'), pod('b', 'x', '1700000000000000002')];
    assert.deepEqual(selectSandboxes(close, {}).map((p) => p.metadata?.name), ['b', 'a']);
  });
});

describe('times as crictl prints them', () => {
  test('RFC 3339 with trimmed nanoseconds, and Go\'s time format', () => {
    assert.equal(rfc3339Nano('1795427230526351254'), '2026-11-23T09:47:10.526351254Z');
    assert.equal(rfc3339Nano('1795427230500000000'), '2026-11-23T09:47:10.5Z');
    assert.equal(rfc3339Nano('1795427230000000000'), '2026-11-23T09:47:10Z');
    assert.equal(goTime('1795427230526351254'), '2026-11-23 09:47:10.526351254 +0000 UTC');
    assert.equal(goTime('0'), '1970-01-01 00:00:00 +0000 UTC');
  });

  test('inspectp shows createdAt as a time and every field, an unset message as null (as crictl does)', () => {
    const shown = sandboxStatusValue({
      id: 'abc', metadata: null, state: 'SANDBOX_READY', createdAt: '1795427230000000000', network: null, linux: null, labels: {}, annotations: {}, runtimeHandler: '', containersStatuses: [], timestamp: '0',
    } as never);
    assert.equal(shown.createdAt, '2026-11-23T09:47:10Z');
    assert.equal(shown.metadata, null);
    assert.equal(shown.network, null);
    assert.deepEqual(shown.labels, {});
    assert.equal(shown.runtimeHandler, '');
  });
});

describe('resolveIdPrefix', () => {
  const ids = ['abc111', 'abc222', 'def333'];
  const calls: string[] = [];
  /** A fake ListPodSandbox: matches by prefix, as the server does. */
  const lister = async (prefix: string) => {
    calls.push(prefix);
    return ids.filter((id) => id.startsWith(prefix));
  };

  test('a unique prefix becomes the full ID', async () => {
    assert.equal(await resolveIdPrefix('def', lister, 'sandbox'), 'def333');
    assert.equal(await resolveIdPrefix('abc1', lister, 'sandbox'), 'abc111');
    assert.equal(calls.at(-1), 'abc1');
  });

  test('a full ID stays itself', async () => {
    assert.equal(await resolveIdPrefix('abc222', lister, 'sandbox'), 'abc222');
  });

  test('an ambiguous prefix is a usage error', async () => {
    await assert.rejects(resolveIdPrefix('abc', lister, 'sandbox'), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /^ambiguous ID prefix "abc": it matches 2 sandboxes \(abc111, abc222\)/);
      return true;
    });
  });

  test('no match passes the text through for the runtime to answer', async () => {
    assert.equal(await resolveIdPrefix('zzz', lister, 'sandbox'), 'zzz');
  });

  test('a runtime that ignores the ID filter cannot turn a typo into some other pod', async () => {
    const ignoresFilter = async () => ['abc111'];
    assert.equal(await resolveIdPrefix('zzz', ignoresFilter, 'sandbox'), 'zzz');
  });

  test('an empty ID is refused before any call', async () => {
    const before = calls.length;
    await assert.rejects(resolveIdPrefix('', lister, 'sandbox'), UsageError);
    assert.equal(calls.length, before);
  });
});
