/** The crictl golden path through the mascri CLI: pull, runp, create, start, ps, logs, stop, ps -a, rm, rmp. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUSYBOX, MascriServer, ROOT, docker, removeContainers, uniqueSuffix, waitFor } from '../helpers.js';

describe('golden path through the CLI', () => {
  let server: MascriServer;
  const dir = mkdtempSync(join(tmpdir(), 'mascri-e2e-golden-'));
  const suffix = uniqueSuffix();
  const podFile = join(dir, 'pod.json');
  const exit3File = join(ROOT, 'fixtures', 'container-config-exit3.json');

  before(async () => {
    server = await MascriServer.start();
    writeFileSync(podFile, JSON.stringify({
      metadata: { name: `golden-${suffix}`, namespace: 'e2e', uid: `golden-${suffix}`, attempt: 0 },
      log_directory: join(dir, 'logs'),
      linux: {},
    }));
  });
  after(async () => {
    const left = (await docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=golden-${suffix}`])).stdout.split('\n').filter(Boolean);
    await removeContainers(left);
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  });

  test('pull -> runp -> create -> start -> ps -> logs -> stop -> ps -a -> rm -> stopp -> rmp', async () => {
    assert.equal((await server.cli(['pull', BUSYBOX])).code, 0);
    const runp = await server.cli(['runp', podFile]);
    assert.equal(runp.code, 0, runp.stderr);
    const podId = runp.stdout.trim();

    const create = await server.cli(['create', podId.slice(0, 12), join(ROOT, 'fixtures', 'container-config.json'), podFile]);
    assert.equal(create.code, 0, create.stderr);
    const id = create.stdout.trim();
    assert.equal((await server.cli(['start', id])).code, 0);

    const ps = await server.cli(['ps']);
    const row = ps.stdout.split('\n').find((line) => line.startsWith(id.slice(0, 13)));
    assert.ok(row, ps.stdout);
    const cells = row.split(/\s{2,}/);
    assert.equal(cells[1], BUSYBOX);
    assert.equal(cells[3], 'Running');
    assert.equal(cells[4], 'counter');
    assert.equal(cells[6], podId.slice(0, 13));
    // POD and NAMESPACE come from the kubelet's container labels, as in crictl: "unknown" without them.
    assert.deepEqual(cells.slice(7), ['unknown', 'unknown']);
    assert.deepEqual(ps.stdout.split('\n')[0]!.split(/\s{2,}/), ['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'NAMESPACE'], 'crictl\'s columns, nothing more');

    const logs = await waitFor('two lines in the counter\'s log', async () => {
      const logs = await server.cli(['logs', id]);
      return logs.code !== 0 || /^line 2 from /m.test(logs.stdout) ? logs : undefined;
    });
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /^line 1 from /m);
    assert.match(logs.stdout, /^line 2 from /m);

    assert.equal((await server.cli(['stop', '--timeout', '2', id])).code, 0);
    const psAll = await server.cli(['ps', '-a', '--show-exit-code', '--id', id]);
    const [exitHead, stoppedRow] = psAll.stdout.split('\n');
    assert.match(exitHead!, /\sNAMESPACE\s+EXIT$/, 'EXIT after crictl\'s columns, asked for');
    assert.equal(stoppedRow!.split(/\s{2,}/)[3], 'Exited');
    assert.match(stoppedRow!, /\s(137|143)$/, 'the exit code is shown');

    // A container that exits with code 3.
    const failing = await server.cli(['create', podId, exit3File, podFile]);
    assert.equal(failing.code, 0, failing.stderr);
    const failingId = failing.stdout.trim();
    assert.equal((await server.cli(['start', failingId])).code, 0);
    const state = await waitFor('the failing container to exit', async () => {
      const { stdout } = await server.cli(['ps', '-a', '--show-exit-code', '--id', failingId]);
      return /Exited/.test(stdout) ? stdout : undefined;
    });
    assert.match(state, /Exited\s.*\s3$/m);
    const inspect = JSON.parse((await server.cli(['inspect', failingId])).stdout);
    assert.equal(inspect.status.exitCode, 3);
    assert.equal(inspect.status.reason, 'Error');
    const failingLogs = await server.cli(['logs', failingId]);
    assert.equal(failingLogs.stdout.trim(), 'about to fail');
    assert.equal(failingLogs.stderr.trim(), 'failing');

    assert.equal((await server.cli(['rm', id, failingId])).code, 0);
    const refused = await server.cli(['rmp', podId]);
    assert.notEqual(refused.code, 0, 'a ready pod is refused without -f, as crictl does');
    assert.equal((await server.cli(['stopp', podId])).code, 0);
    assert.equal((await server.cli(['rmp', podId])).code, 0);
    const left = await docker(['ps', '-a', '--format', '{{.Names}}', '--filter', `label=io.kubernetes.pod.uid=golden-${suffix}`]);
    assert.equal(left.stdout.trim(), '', 'docker ps -a is empty of this pod\'s k8s_ containers');
  });

  test('run (runp + create + start in one) and rm -a', async () => {
    const podFile2 = join(dir, 'pod2.json');
    writeFileSync(podFile2, JSON.stringify({ metadata: { name: `run-${suffix}`, namespace: 'e2e', uid: `golden-${suffix}`, attempt: 1 }, linux: {} }));
    const run = await server.cli(['run', join(ROOT, 'fixtures', 'container-config.json'), podFile2]);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match((await server.cli(['ps', '--id', id])).stdout, /Running/);
    const refused = await server.cli(['rm', id]);
    assert.notEqual(refused.code, 0, 'a running container is refused without -f');
    assert.match(refused.stderr, /level=error msg="container \\"[0-9a-f]+\\" is running, please stop it first/, 'crictl\'s words');
    assert.equal((await server.cli(['rm', '-a', '-f'])).code, 0);
    assert.equal((await server.cli(['ps', '-a', '-q'])).stdout.trim(), '');
    assert.equal((await server.cli(['rmp', '-a', '-f'])).code, 0);
  });
});
