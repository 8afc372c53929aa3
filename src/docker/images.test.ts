import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { MascriError } from '../common/errors.js';
import { DockerCli } from './cli.js';
import { DockerError } from './errors.js';
import { DockerImages, dockerAuthEntry, hasCredentials } from './images.js';

const root = mkdtempSync(join(tmpdir(), 'mascri-images-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CONTEXT_HOST = 'unix:///var/run/docker.sock';
let counter = 0;

/**
 * A stand-in docker: answers `docker context inspect` with CONTEXT_HOST, and for any other
 * command records its arguments, DOCKER_CONFIG, DOCKER_HOST and a copy of $DOCKER_CONFIG/config.json
 * (with its mode and its directory's mode) into `out`, then runs `tail` (sh code).
 */
function standIn(tail = 'exit 0'): { bin: string; out: string; read(name: string): string | undefined } {
  const dir = join(root, `case-${++counter}`);
  const out = join(dir, 'out');
  mkdirSync(out, { recursive: true });
  const bin = join(dir, 'docker');
  writeFileSync(
    bin,
    `#!/bin/sh
OUT='${out}'
echo "$1" >> "$OUT/calls"
if [ "$1" = context ]; then echo '{"Host":"${CONTEXT_HOST}"}'; exit 0; fi
printf '%s\\n' "$@" > "$OUT/args"
printf '%s' "\${DOCKER_CONFIG-<unset>}" > "$OUT/docker-config"
printf '%s' "\${DOCKER_HOST-<unset>}" > "$OUT/docker-host"
if [ -n "$DOCKER_CONFIG" ]; then
  cp "$DOCKER_CONFIG/config.json" "$OUT/config.json"
  stat -c %a "$DOCKER_CONFIG/config.json" > "$OUT/config-mode"
  stat -c %a "$DOCKER_CONFIG" > "$OUT/dir-mode"
fi
${tail}
`,
  );
  chmodSync(bin, 0o755);
  return {
    bin,
    out,
    read: (name) => (existsSync(join(out, name)) ? readFileSync(join(out, name), 'utf8') : undefined),
  };
}

/** The environment variables these tests change, restored after each test. */
const saved: Record<string, string | undefined> = {};
beforeEach(() => {
  for (const key of ['DOCKER_HOST', 'DOCKER_CONFIG']) saved[key] = process.env[key];
  delete process.env.DOCKER_HOST;
  delete process.env.DOCKER_CONFIG;
});
afterEach(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('hasCredentials', () => {
  test('anything to authenticate with counts', () => {
    assert.equal(hasCredentials({ username: 'u' }), true);
    assert.equal(hasCredentials({ password: 'p' }), true);
    assert.equal(hasCredentials({ auth: 'dTpw' }), true);
    assert.equal(hasCredentials({ identityToken: 't' }), true);
    assert.equal(hasCredentials({ registryToken: 't' }), true);
  });

  test('nothing, empty strings or only a server address do not', () => {
    assert.equal(hasCredentials({}), false);
    assert.equal(hasCredentials({ username: '', password: '', auth: '', identityToken: '', registryToken: '' }), false);
    assert.equal(hasCredentials({ serverAddress: 'localhost:5000' }), false);
  });
});

describe('dockerAuthEntry', () => {
  test('username and password become base64 "user:password"', () => {
    const entry = dockerAuthEntry({ username: 'alice', password: 's3cr:et' });
    assert.deepEqual(entry, { auth: Buffer.from('alice:s3cr:et').toString('base64') });
    assert.equal(Buffer.from(entry.auth!, 'base64').toString(), 'alice:s3cr:et');
  });

  test('a username alone still gives "user:"', () => {
    assert.deepEqual(dockerAuthEntry({ username: 'alice' }), { auth: Buffer.from('alice:').toString('base64') });
  });

  test('a given auth string is kept as it is, over username/password', () => {
    assert.deepEqual(dockerAuthEntry({ auth: 'Z2l2ZW46YXV0aA==', username: 'x', password: 'y' }), { auth: 'Z2l2ZW46YXV0aA==' });
  });

  test('identity and registry tokens use the names Docker reads', () => {
    assert.deepEqual(dockerAuthEntry({ identityToken: 'id-tok', registryToken: 'reg-tok' }), { identitytoken: 'id-tok', registrytoken: 'reg-tok' });
    assert.deepEqual(dockerAuthEntry({ username: 'u', password: 'p', identityToken: 'id-tok' }), {
      auth: Buffer.from('u:p').toString('base64'),
      identitytoken: 'id-tok',
    });
  });

  test('no credentials: an empty entry', () => {
    assert.deepEqual(dockerAuthEntry({}), {});
  });
});

describe('DockerImages.pull', () => {
  test('with credentials: a private temporary DOCKER_CONFIG holds them under the registry host, and is gone afterwards', async () => {
    const docker = standIn();
    await new DockerImages(new DockerCli(docker.bin)).pull('localhost:5000/busybox:latest', { username: 'alice', password: 'wonderland' });

    assert.equal(docker.read('args'), 'pull\n--quiet\n--\nlocalhost:5000/busybox:latest\n');
    const configDir = docker.read('docker-config')!;
    assert.notEqual(configDir, '<unset>');
    assert.match(configDir, /mascri-\d+-auth-/);
    const config = JSON.parse(docker.read('config.json')!);
    assert.deepEqual(config, { auths: { 'localhost:5000': { auth: Buffer.from('alice:wonderland').toString('base64') } } });
    assert.equal(docker.read('config-mode')!.trim(), '600');
    assert.equal(docker.read('dir-mode')!.trim(), '700');
    assert.equal(existsSync(configDir), false, `${configDir} must be removed after the pull`);
  });

  test('with credentials and no DOCKER_HOST: the current context\'s endpoint is kept', async () => {
    const docker = standIn();
    await new DockerImages(new DockerCli(docker.bin)).pull('localhost:5000/busybox:latest', { auth: 'YTpi' });
    assert.equal(docker.read('calls'), 'context\npull\n');
    assert.equal(docker.read('docker-host'), CONTEXT_HOST);
  });

  test('with credentials and DOCKER_HOST set: no context lookup, DOCKER_HOST passes through', async () => {
    process.env.DOCKER_HOST = 'unix:///tmp/mascri-test-docker.sock';
    const docker = standIn();
    await new DockerImages(new DockerCli(docker.bin)).pull('localhost:5000/busybox:latest', { auth: 'YTpi' });
    assert.equal(docker.read('calls'), 'pull\n');
    assert.equal(docker.read('docker-host'), 'unix:///tmp/mascri-test-docker.sock');
  });

  test('Docker Hub credentials go under https://index.docker.io/v1/', async () => {
    const docker = standIn();
    await new DockerImages(new DockerCli(docker.bin)).pull('busybox', { identityToken: 'tok' });
    assert.equal(docker.read('args'), 'pull\n--quiet\n--\nbusybox\n');
    assert.deepEqual(JSON.parse(docker.read('config.json')!), { auths: { 'https://index.docker.io/v1/': { identitytoken: 'tok' } } });
  });

  test('a given server address is the key', async () => {
    const docker = standIn();
    await new DockerImages(new DockerCli(docker.bin)).pull('localhost:5000/busybox:latest', { auth: 'YTpi', serverAddress: ' registry.internal:5000 ' });
    assert.deepEqual(JSON.parse(docker.read('config.json')!), { auths: { 'registry.internal:5000': { auth: 'YTpi' } } });
  });

  test('without credentials: no DOCKER_CONFIG and no context lookup', async () => {
    const docker = standIn();
    const images = new DockerImages(new DockerCli(docker.bin));
    await images.pull('localhost:5000/busybox:latest');
    assert.equal(docker.read('docker-config'), '<unset>');
    assert.equal(docker.read('calls'), 'pull\n');
    assert.equal(docker.read('args'), 'pull\n--quiet\n--\nlocalhost:5000/busybox:latest\n');
    // An auth config carrying nothing is the same as none.
    await images.pull('localhost:5000/busybox:latest', { serverAddress: 'localhost:5000', username: '', password: '' });
    assert.equal(docker.read('docker-config'), '<unset>');
    assert.equal(docker.read('config.json'), undefined);
  });

  test('a failed pull with credentials still removes the temporary config and reports Docker\'s words', async () => {
    const docker = standIn('echo "Error response from daemon: Head \\"https://localhost:5000/v2/busybox/manifests/latest\\": unauthorized: authentication required" >&2; exit 1');
    await assert.rejects(
      new DockerImages(new DockerCli(docker.bin)).pull('localhost:5000/busybox:latest', { username: 'alice', password: 'wrong' }),
      (error: unknown) => {
        assert.ok(error instanceof DockerError);
        assert.equal(error.kind, 'unauthenticated');
        assert.equal(error.code, status.UNAUTHENTICATED);
        assert.match(error.message, /authentication required/);
        return true;
      },
    );
    const configDir = docker.read('docker-config')!;
    assert.match(configDir, /mascri-\d+-auth-/);
    assert.equal(existsSync(configDir), false);
  });

  test('credentials with an invalid reference: INVALID_ARGUMENT before any docker call', async () => {
    const docker = standIn();
    await assert.rejects(new DockerImages(new DockerCli(docker.bin)).pull('Bad//Ref', { username: 'a', password: 'b' }), (error: unknown) => {
      assert.ok(error instanceof MascriError);
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.match(error.message, /Bad\/\/Ref/);
      return true;
    });
    assert.equal(docker.read('calls'), undefined);
  });
});

describe('DockerImages.inspect and list', () => {
  test('inspect answers the image, or undefined for not-found and invalid-argument', async () => {
    const docker = standIn(`case "$6" in
  busybox) echo '{"Id":"sha256:aaa","RepoTags":["busybox:latest"]}' ;;
  Bad//Ref) echo 'invalid reference format: repository name (/Ref) must be lowercase' >&2; exit 1 ;;
  down) echo 'Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?' >&2; exit 1 ;;
  *) echo "Error response from daemon: No such image: $6" >&2; exit 1 ;;
esac`);
    const images = new DockerImages(new DockerCli(docker.bin));
    assert.deepEqual(await images.inspect('busybox'), { Id: 'sha256:aaa', RepoTags: ['busybox:latest'] });
    assert.equal(docker.read('args'), 'image\ninspect\n--format\n{{json .}}\n--\nbusybox\n');
    assert.equal(await images.inspect('nosuch'), undefined);
    assert.equal(await images.inspect('Bad//Ref'), undefined);
    await assert.rejects(images.inspect('down'), (error: unknown) => error instanceof DockerError && error.kind === 'unavailable');
  });

  test('list inspects every listed ID once; an image gone meanwhile leaves the others', async () => {
    const docker = standIn(`if [ "$1" = image ] && [ "$2" = ls ]; then printf 'sha256:a\\nsha256:b\\nsha256:a\\n\\n'; exit 0; fi
echo '{"Id":"sha256:a"}'
echo 'Error response from daemon: No such image: sha256:b' >&2
exit 1`);
    const images = await new DockerImages(new DockerCli(docker.bin)).list();
    assert.deepEqual(images, [{ Id: 'sha256:a' }]);
    assert.equal(docker.read('args'), 'image\ninspect\n--format\n{{json .}}\n--\nsha256:a\nsha256:b\n');
  });

  test('list with no images makes one call', async () => {
    const docker = standIn();
    assert.deepEqual(await new DockerImages(new DockerCli(docker.bin)).list(), []);
    assert.equal(docker.read('calls'), 'image\n');
  });
});
