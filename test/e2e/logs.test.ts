/** CRI-format container logs: full and partial lines, stderr, and a restart of mascri in the middle. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { POLL_INTERVAL_MS } from '../../src/server/logs/container-log-copier.js';
import { MascriServer, TestPods, docker, shellContainer, waitFor, setUpServerWithBusybox } from '../helpers.js';

const CRI_LINE = /^(\S+) (stdout|stderr) (F|P) (.*)$/;

/** Whole lines in a file being written ('' when it does not exist yet): safe to count while a copy runs. */
function wholeLines(path: string): string[] {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  return text.split('\n').slice(0, -1);
}

function parseCriLog(path: string): Array<{ time: string; stream: string; tag: string; content: string }> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const match = CRI_LINE.exec(line);
      assert.ok(match, `not a CRI log line: ${line.slice(0, 120)}`);
      return { time: match[1]!, stream: match[2]!, tag: match[3]!, content: match[4]! };
    });
}

describe('container logs', () => {
  let server: MascriServer;
  let podId = '';
  let podConfig: Record<string, unknown> = {};
  const pods = new TestPods(() => server);
  const { created } = pods;

  setUpServerWithBusybox(pods, (started) => (server = started));
  before(async () => {
    ({ id: podId, config: podConfig } = await pods.pod('logs'));
  });

  async function runToExit(name: string, script: string): Promise<{ id: string; logPath: string }> {
    const { containerId } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer(name, script), sandboxConfig: podConfig });
    created.push(containerId);
    await server.client.callRuntime('StartContainer', { containerId });
    const status = await waitFor('exit', async () => {
      const { status } = await server.client.callRuntime('ContainerStatus', { containerId });
      return status!.state === 'CONTAINER_EXITED' ? status! : undefined;
    });
    await server.client.callRuntime('StopContainer', { containerId, timeout: '0' }); // flushes the log copy
    return { id: containerId, logPath: status.logPath };
  }

  test('stdout and stderr lines in the CRI format; a long line is split into P entries and joined again by `logs`', async () => {
    // A neighbour that keeps writing: its copied lines show the log copier still at work after the removal below.
    const ticker = await pods.container(podId, podConfig, shellContainer('ticker', 'while :; do echo tick; sleep 0.1; done'), true);
    const { id, logPath } = await runToExit('lines', 'echo first; echo oops >&2; head -c 20000 /dev/zero | tr "\\0" a; echo; echo last');
    const entries = parseCriLog(logPath);
    // Docker reads stdout and stderr from separate pipes: order is kept within a stream, not across them.
    const stdout = entries.filter((e) => e.stream === 'stdout');
    assert.deepEqual(stdout[0], { ...stdout[0]!, stream: 'stdout', tag: 'F', content: 'first' });
    assert.ok(entries.some((e) => e.stream === 'stderr' && e.tag === 'F' && e.content === 'oops'));
    const partial = stdout.filter((e) => e.tag === 'P');
    assert.ok(partial.length >= 1, 'the 20000-byte line has a partial entry');
    const joined = stdout.slice(stdout.indexOf(partial[0]!)).reduce((acc, e) => (acc.done ? acc : { text: acc.text + e.content, done: e.tag === 'F' }), { text: '', done: false });
    assert.equal(joined.text, 'a'.repeat(20000));
    assert.equal(stdout.at(-1)!.content, 'last');
    for (const e of entries) assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    const cli = await server.cli(['logs', id]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(cli.stdout.split('\n').filter(Boolean), ['first', 'a'.repeat(20000), 'last']);
    assert.equal(cli.stderr.trim(), 'oops', 'stderr lines go to stderr');
    // --tail 1 is the last line of the file, whichever stream: under load Docker may copy stderr's
    // "oops" after stdout's "last" (two pipes), and then that is the one printed (on stderr).
    const tail = await server.cli(['logs', '--tail', '1', id]);
    const lastEntry = entries.at(-1)!;
    assert.equal((lastEntry.stream === 'stdout' ? tail.stdout : tail.stderr).trim(), lastEntry.content);
    assert.equal((lastEntry.stream === 'stdout' ? tail.stderr : tail.stdout).trim(), '', 'one line only');
    const stamped = await server.cli(['logs', '-t', id.slice(0, 12)]);
    assert.match(stamped.stdout.split('\n')[0]!, /^\S+Z first$/);

    await server.client.callRuntime('RemoveContainer', { containerId: id });
    const removedAt = Date.now();
    assert.equal(existsSync(logPath), false, 'RemoveContainer removes the log file');
    // "Nothing writes it again" is checked once the copier has provably gone on working for longer
    // than its poll interval after the removal: a neighbour's line written after that has been copied.
    const tickerLog = (await server.client.callRuntime('ContainerStatus', { containerId: ticker })).status!.logPath;
    await waitFor(`a line of the neighbour's written ${POLL_INTERVAL_MS} ms after the removal, in its CRI log`, async () =>
      wholeLines(tickerLog).some((line) => Date.parse(line.split(' ')[0]!) > removedAt + POLL_INTERVAL_MS) ? true : undefined,
    );
    assert.equal(existsSync(logPath), false, 'RemoveContainer removes the log file, and nothing writes it again');
    await server.client.callRuntime('RemoveContainer', { containerId: ticker });
  });

  test('nothing is lost or repeated when mascri restarts while the container keeps writing', async () => {
    const { containerId } = await server.client.callRuntime('CreateContainer', {
      podSandboxId: podId,
      config: shellContainer('counter', 'i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo "n=$i"; sleep 0.05; done'),
      sandboxConfig: podConfig,
    });
    created.push(containerId);
    await server.client.callRuntime('StartContainer', { containerId });
    const logPath = (await server.client.callRuntime('ContainerStatus', { containerId })).status!.logPath;
    const copied = await waitFor('mascri to copy the first lines', async () => (wholeLines(logPath).length >= 5 ? wholeLines(logPath).length : undefined));
    // Kill mascri without a clean shutdown; the container goes on writing while it is down.
    const socket = server.socket;
    server.proc.kill('SIGKILL');
    await new Promise((resolve) => server.proc.once('exit', resolve));
    const behind = Math.min(60, copied + 10);
    await waitFor(`the counter to write ${behind} lines in all (Docker's log) while mascri is down`, async () => {
      const { stdout } = await docker(['logs', containerId]);
      return stdout.split('\n').filter(Boolean).length >= behind ? true : undefined;
    });
    server = await MascriServer.start({ socket, replacing: server });
    const status = await waitFor('the counter to finish', async () => {
      const { status } = await server.client.callRuntime('ContainerStatus', { containerId });
      return status!.state === 'CONTAINER_EXITED' ? status! : undefined;
    });
    await server.client.callRuntime('StopContainer', { containerId, timeout: '0' });
    const numbers = parseCriLog(status.logPath).map((e) => e.content);
    assert.deepEqual(numbers, Array.from({ length: 60 }, (_, i) => `n=${i + 1}`), 'every line exactly once, in order');
  });

  test('ReopenContainerLog starts a new file after rotation without losing lines', async () => {
    const { containerId } = await server.client.callRuntime('CreateContainer', {
      podSandboxId: podId,
      config: shellContainer('rotated', 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "r=$i"; sleep 0.05; done; sleep 1000'),
      sandboxConfig: podConfig,
    });
    created.push(containerId);
    await server.client.callRuntime('StartContainer', { containerId });
    const { status } = await server.client.callRuntime('ContainerStatus', { containerId });
    await waitFor('the first lines in the log file', async () => (wholeLines(status!.logPath).length >= 5 ? true : undefined));
    const { renameSync } = await import('node:fs');
    renameSync(status!.logPath, `${status!.logPath}.1`);
    await server.client.callRuntime('ReopenContainerLog', { containerId });
    await waitFor('the 40th line in the log files', async () =>
      [...wholeLines(`${status!.logPath}.1`), ...wholeLines(status!.logPath)].some((line) => line.endsWith(' r=40')) ? true : undefined,
    );
    await server.client.callRuntime('StopContainer', { containerId, timeout: '0' });
    const lines = [...parseCriLog(`${status!.logPath}.1`), ...parseCriLog(status!.logPath)].map((e) => e.content);
    assert.deepEqual(lines, Array.from({ length: 40 }, (_, i) => `r=${i + 1}`));
  });
});
