/** The sandbox commands (runp, pods, inspectp, stopp, rmp) with the fixtures, against a real server and engine. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HTTPD, MascriServer, ROOT, docker, dockerContainerNames, removeContainers, waitFor } from '../helpers.js';

const FIXTURE = join(ROOT, 'fixtures', 'sandbox-config.json');
const HOSTNET = join(ROOT, 'fixtures', 'sandbox-config-hostnet.json');
const PORTS = join(ROOT, 'fixtures', 'sandbox-config-ports.json');
const HTTPD_CONFIG = join(ROOT, 'fixtures', 'container-config-httpd.json');

function uidOf(file: string): string {
  return (JSON.parse(readFileSync(file, 'utf8')) as { metadata: { uid: string } }).metadata.uid;
}

/** Removes whatever an earlier, interrupted run left for these fixture pods. */
async function removeFixturePods(): Promise<void> {
  for (const file of [FIXTURE, HOSTNET, PORTS]) {
    const ids = (await docker(['ps', '-aq', '--filter', `label=io.kubernetes.pod.uid=${uidOf(file)}`])).stdout.split('\n').filter(Boolean);
    await removeContainers(ids);
  }
}

describe('mascri sandbox commands', () => {
  let server: MascriServer;
  const scratch = mkdtempSync(join(tmpdir(), 'mascri-e2e-cli-'));
  const leftovers: string[] = [];

  before(async () => {
    await removeFixturePods();
    server = await MascriServer.start();
  });
  after(async () => {
    await removeFixturePods();
    rmSync(scratch, { recursive: true, force: true });
    for (const file of [FIXTURE, HOSTNET, PORTS]) {
      const dir = (JSON.parse(readFileSync(file, 'utf8')) as { log_directory: string }).log_directory;
      rmSync(dir, { recursive: true, force: true });
    }
    await server.stop();
    for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
  });

  test('runp, pods, inspectp, restart, stopp, rmp: the whole sandbox life through the CLI', async () => {
    const runp = await server.cli(['runp', FIXTURE]);
    assert.equal(runp.code, 0, runp.stderr);
    const id = runp.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);

    const pods = await server.cli(['pods', '--label', 'app=demo']);
    const [head, row] = pods.stdout.split('\n');
    assert.deepEqual(head!.split(/\s{2,}/), ['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME']);
    const cells = row!.split(/\s{2,}/);
    assert.equal(cells[0], id.slice(0, 13));
    assert.match(cells[1]!, /ago$/);
    assert.deepEqual(cells.slice(2), ['Ready', 'demo-pod', 'default', '1', '(default)']);

    const dockerPs = await docker(['ps', '--format', '{{.Names}}']);
    assert.ok(dockerPs.stdout.split('\n').includes('k8s_POD_demo-pod_default_demo-pod-uid-1_1'));

    const inspect = JSON.parse((await server.cli(['inspectp', id.slice(0, 8)])).stdout);
    assert.equal(inspect.status.id, id);
    assert.match(inspect.status.network.ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(inspect.status.linux.namespaces.options.pid, 'CONTAINER');
    assert.deepEqual(inspect.status.labels, { app: 'demo' });
    assert.deepEqual(inspect.status.annotations, { 'example.com/note': 'golden path' });
    assert.equal(inspect.info.docker.Id, id);

    // Kill the server (no clean shutdown) and start another on the same socket: nothing is lost.
    const before = (await server.cli(['pods', '-o', 'json'])).stdout;
    const socket = server.socket;
    const dir = server.dir;
    server.proc.kill('SIGKILL');
    await new Promise((resolve) => server.proc.once('exit', resolve));
    server = await MascriServer.start({ socket, replacing: server });
    const afterRestart = (await server.cli(['pods', '-o', 'json'])).stdout;
    assert.deepEqual(JSON.parse(afterRestart), JSON.parse(before));
    if (dir) leftovers.push(dir); // it holds the socket the new server reuses

    const stopp = await server.cli(['stopp', id]);
    assert.equal(stopp.code, 0, stopp.stderr);
    const stopped = await server.cli(['pods', '--id', id]);
    assert.match(stopped.stdout, /NotReady/);
    assert.equal((await server.cli(['stopp', id])).code, 0, 'stopp again succeeds');

    const rmp = await server.cli(['rmp', id]);
    assert.equal(rmp.code, 0, rmp.stderr);
    assert.deepEqual(await dockerContainerNames('demo-pod-uid-1'), []);
    const again = await server.cli(['pods', '-q', '--id', id]);
    assert.equal(again.stdout.trim(), '');
  });

  test('host network and port mapping fixtures; the port serves HTTP once a web container joins', async () => {
    const hostnet = await server.cli(['runp', HOSTNET]);
    assert.equal(hostnet.code, 0, hostnet.stderr);
    const hostStatus = JSON.parse((await server.cli(['inspectp', hostnet.stdout.trim()])).stdout);
    assert.equal(hostStatus.status.network.ip, '');
    assert.equal(hostStatus.status.linux.namespaces.options.network, 'NODE');

    const ports = await server.cli(['runp', PORTS]);
    assert.equal(ports.code, 0, ports.stderr);
    const podId = ports.stdout.trim();
    assert.equal((await docker(['port', podId, '80/tcp'])).stdout.trim(), '127.0.0.1:18081');
    assert.equal((await server.cli(['pull', HTTPD])).code, 0);
    const create = await server.cli(['create', podId, HTTPD_CONFIG, PORTS]);
    assert.equal(create.code, 0, create.stderr);
    assert.equal((await server.cli(['start', create.stdout.trim()])).code, 0);
    const page = await waitFor('httpd\'s page on the host port 18081', async () => {
      const text = await fetch('http://127.0.0.1:18081/').then((r) => r.text(), () => '');
      return text.includes('hello from mascri httpd') ? text : undefined;
    });
    assert.match(page, /hello from mascri httpd/);

    for (const id of [hostnet.stdout.trim(), podId]) assert.equal((await server.cli(['rmp', '-f', id])).code, 0);
  });

  test('two pods in parallel, and rmp -a -f removes every sandbox', async () => {
    const configs = ['par-one', 'par-two'].map((name) => {
      const file = join(scratch, `${name}.json`);
      writeFileSync(file, JSON.stringify({ metadata: { name, namespace: 'e2e-cli', uid: `${name}-${process.pid}`, attempt: 0 }, linux: {} }));
      return file;
    });
    const results = await Promise.all(configs.map((file) => server.cli(['runp', file])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const ids = results.map((r) => r.stdout.trim());
    const listed = (await server.cli(['pods', '-q'])).stdout.split('\n');
    for (const id of ids) assert.ok(listed.includes(id));
    const rmp = await server.cli(['rmp', '-a', '-f']);
    assert.equal(rmp.code, 0, rmp.stderr);
    assert.equal((await server.cli(['pods', '-q'])).stdout.trim(), '');
    for (const id of ids) assert.equal((await docker(['inspect', id])).code, 1);
  });

  test('camelCase names and enum names are honoured where crictl would ignore or reject them', async () => {
    const file = join(scratch, 'camel.json');
    writeFileSync(file, JSON.stringify({
      metadata: { name: 'camel', namespace: 'e2e-cli', uid: `camel-${process.pid}`, attempt: 0 },
      logDirectory: join(scratch, 'camel-logs'),
      linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'POD', ipc: 'POD' } } },
    }));
    const runp = await server.cli(['runp', file]);
    assert.equal(runp.code, 0, runp.stderr);
    const status = JSON.parse((await server.cli(['inspectp', runp.stdout.trim()])).stdout);
    assert.equal(status.status.linux.namespaces.options.network, 'NODE');
    assert.equal((await server.cli(['rmp', '-f', runp.stdout.trim()])).code, 0);
  });

  test('a malformed config names the file and the field, and nothing is created', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['unknown.json', { metadata: { name: 'x', namespace: 'n', uid: 'u-unknown' }, linux: { secrity_context: {} } }, /unknown\.json.*linux\.secrity_context/],
      ['wrongtype.json', { metadata: { name: 'x', namespace: 'n', uid: 'u-wrong', attempt: 'first' } }, /wrongtype\.json.*metadata\.attempt/],
      ['nometa.json', { hostname: 'x' }, /nometa\.json.*metadata/],
      ['badenum.json', { metadata: { name: 'x', namespace: 'n', uid: 'u-enum' }, linux: { security_context: { namespace_options: { network: 'NODES' } } } }, /badenum\.json.*network/],
    ];
    for (const [name, content, pattern] of cases) {
      const file = join(scratch, name);
      writeFileSync(file, JSON.stringify(content));
      const result = await server.cli(['runp', file]);
      assert.notEqual(result.code, 0, name);
      assert.match(result.stderr, pattern);
    }
    const notJson = join(scratch, 'broken.json');
    writeFileSync(notJson, '{ "metadata": { "name": "x", }');
    const broken = await server.cli(['runp', notJson]);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /broken\.json/);
    for (const uid of ['u-unknown', 'u-wrong', 'u-enum']) assert.deepEqual(await dockerContainerNames(uid), [], `no container was created for ${uid}`);
  });
});
