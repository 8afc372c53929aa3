/** The mascri client's image commands against a real server and engine, checked against `docker images`. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MascriServer, docker, dockerImageId, mascri, pushTestImage, uniqueSuffix } from '../helpers.js';

describe('mascri image commands', () => {
  let server: MascriServer;
  const created: string[] = [];
  before(async () => {
    server = await MascriServer.start();
  });
  after(async () => {
    for (const ref of created) await docker(['rmi', '-f', ref]);
    await server.stop();
  });

  test('pull, images, inspecti and rmi walk an image through its life', async () => {
    const ref = await pushTestImage(`e2e-cli:${uniqueSuffix()}`);
    created.push(ref);
    const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];

    const pull = await server.cli(['pull', ref]);
    assert.equal(pull.code, 0, pull.stderr);
    const id = await dockerImageId(ref);
    assert.equal(pull.stdout.trim(), `Image is up to date for ${id}`);

    const table = await server.cli(['images']);
    assert.equal(table.code, 0, table.stderr);
    const [head, ...rows] = table.stdout.split('\n');
    assert.deepEqual(head!.split(/\s{2,}/), ['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']);
    const row = rows.map((line) => line.split(/\s{2,}/)).find((cells) => cells[0] === repo && cells[1] === tag);
    assert.ok(row, `images lists ${ref}:\n${table.stdout}`);
    assert.equal(row[2], id.slice('sha256:'.length, 'sha256:'.length + 13));
    assert.match(row[3]!, /^[\d.]+(B|kB|MB|GB)$/);

    // docker images shows the same image.
    const dockerView = await docker(['images', '--no-trunc', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']);
    assert.ok(dockerView.stdout.split('\n').includes(`${ref} ${id}`));

    const quiet = await server.cli(['images', '-q']);
    assert.ok(quiet.stdout.split('\n').includes(id));

    const json = JSON.parse((await server.cli(['images', '-o', 'json', ref])).stdout);
    assert.equal(json.images.length, 1);
    assert.equal(json.images[0].id, id);
    assert.equal(typeof json.images[0].size, 'string', '64-bit integers print as strings, as crictl does');
    assert.ok(Array.isArray(json.images[0].repoTags), 'keys are camelCase');

    const yaml = await server.cli(['images', '-o', 'yaml', ref]);
    assert.match(yaml.stdout, /repoTags:\n\s+- localhost:5000\/e2e-cli:/);

    const digests = await server.cli(['images', '--digests', '--no-trunc', ref]);
    assert.match(digests.stdout.split('\n')[0]!, /IMAGE\s+TAG\s+DIGEST\s+IMAGE ID\s+SIZE/);
    assert.ok(digests.stdout.includes(id.slice('sha256:'.length)));

    const inspect = await server.cli(['inspecti', ref]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const status = JSON.parse(inspect.stdout);
    assert.equal(status.status.id, id);
    assert.equal(status.info.Id, id, 'verbose info is embedded as an object');

    const rmi = await server.cli(['rmi', ref]);
    assert.equal(rmi.code, 0, rmi.stderr);
    assert.match(rmi.stdout, new RegExp(`Deleted: ${ref.replace(/[.]/g, '\\.')}`));
    assert.equal(await dockerImageId(ref), '');
  });

  test('a missing image: pull fails with NotFound, inspecti and rmi report it absent (as crictl)', async () => {
    const pull = await server.cli(['pull', 'localhost:5000/does-not-exist:1']);
    assert.notEqual(pull.code, 0);
    assert.match(pull.stderr, /^time="[^"]+" level=error msg="pulling image: rpc error: code = NotFound desc = .*does-not-exist:1/);
    assert.equal(pull.stderr.trim().split('\n').length, 1, 'one line, crictl\'s');

    const inspect = await server.cli(['inspecti', 'localhost:5000/does-not-exist:1']);
    assert.equal(inspect.code, 1);
    assert.match(inspect.stderr, /msg="no such image \\"localhost:5000\/does-not-exist:1\\" present"/);

    const rmi = await server.cli(['rmi', 'localhost:5000/does-not-exist:1']);
    assert.equal(rmi.code, 1);
    assert.match(rmi.stderr, /msg="no such image localhost:5000\/does-not-exist:1"/);
  });

  test('a bad reference fails with InvalidArgument', async () => {
    const pull = await server.cli(['pull', 'Bad//Ref']);
    assert.notEqual(pull.code, 0);
    assert.match(pull.stderr, /code = InvalidArgument desc = .*invalid reference format/);
  });

  test('version, info and imagefsinfo print what crictl prints', async () => {
    const version = await server.cli(['version']);
    assert.match(version.stdout, /^Version: {2}0\.1\.0\nRuntimeName: {2}mascri\nRuntimeVersion: {2}\S+\nRuntimeApiVersion: {2}v1$/);
    const info = JSON.parse((await server.cli(['info'])).stdout);
    assert.deepEqual(info.status.conditions.map((c: { type: string; status: boolean }) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]]);
    assert.ok(info.docker.ServerVersion);
    const fs = JSON.parse((await server.cli(['imagefsinfo'])).stdout);
    assert.ok(Number(fs.status.imageFilesystems[0].usedBytes.value) > 0);
  });

  test('environment variables choose the endpoint like crictl\'s', async () => {
    const viaEnv = await mascri(['version'], { env: { CONTAINER_RUNTIME_ENDPOINT: server.endpoint } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    const imageViaEnv = await mascri(['images', '-q'], { env: { CONTAINER_RUNTIME_ENDPOINT: 'unix:///nonexistent/x.sock', IMAGE_SERVICE_ENDPOINT: server.endpoint } });
    assert.equal(imageViaEnv.code, 0, imageViaEnv.stderr);
  });

  test('a wrong endpoint is crictl\'s connection error, naming the socket tried', async () => {
    const result = await mascri(['-r', 'unix:///tmp/mascri-nothing-here.sock', 'images']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /msg="validate service connection: validate CRI v1 image API for endpoint \\"unix:\/\/\/tmp\/mascri-nothing-here\.sock\\": rpc error: code = Unavailable desc = connection error: desc = \\"transport: Error while dialing: dial unix \/tmp\/mascri-nothing-here\.sock: connect: no such file or directory\\"/,
    );
  });

  test('bad usage is a clear error (crictl\'s images shows a table for any other -o; pods refuses it)', async () => {
    const result = await server.cli(['pods', '-o', 'xml']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /listing pod sandboxes: unsupported output format \\"xml\\"/);
    assert.match((await server.cli(['images', '-o', 'xml'])).stdout, /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE/);
  });

  test('images --filter as crictl has it, and images sorted by reference', async () => {
    const listed = JSON.parse((await server.cli(['images', '-o', 'json', '-f', 'dangling=false'])).stdout) as { images: Array<{ repoTags: string[] }> };
    const firstTags = listed.images.map((image) => image.repoTags[0]!);
    assert.ok(firstTags.length > 0);
    assert.deepEqual(firstTags, [...firstTags].sort(), 'sorted by (first) reference, as crictl sorts');
    const busybox = (await server.cli(['images', '-f', 'reference=busybox'])).stdout.split('\n').slice(1).filter(Boolean);
    assert.ok(busybox.length > 0 && busybox.every((line) => line.includes('busybox')), busybox.join('\n'));
    const unknown = await server.cli(['images', '-f', 'label=x']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /listing images: filter images: unknown filter flag: label=x/);
  });
});
