/**
 * Pulls from a registry that requires authentication: a private docker-registry with htpasswd
 * (bcrypt) on 127.0.0.1:5001, started by this test. Credentials reach Docker only for the pull.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execa } from 'execa';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BUSYBOX, MascriServer, dockerImageId, uniqueSuffix, waitFor } from '../helpers.js';
import bcrypt from 'bcryptjs';

const USER = 'tester';
const PASSWORD = `pw-${uniqueSuffix()}`;
const REGISTRY = '127.0.0.1:5001';

describe('a registry that requires authentication', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-auth-registry-'));
  let registry: ChildProcess | undefined;
  let server: MascriServer;
  const ref = `${REGISTRY}/private/busybox:${uniqueSuffix()}`;

  before(async () => {
    // bcrypt is the only hash docker-registry's htpasswd accepts.
    writeFileSync(join(dir, 'htpasswd'), `${USER}:${bcrypt.hashSync(PASSWORD, 8)}\n`);
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'config.yml'), [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }`,
      `http: { addr: ${REGISTRY} }`,
      `auth: { htpasswd: { realm: mascri-test, path: ${join(dir, 'htpasswd')} } }`,
      '',
    ].join('\n'));
    registry = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
    await waitFor('the registry to ask for credentials', async () => ((await fetch(`http://${REGISTRY}/v2/`).then((r) => r.status, () => 0)) === 401 ? true : undefined));
    // Put an image there with the test's own, throw-away Docker login.
    const login = join(dir, 'docker-config');
    mkdirSync(login);
    const env = { DOCKER_CONFIG: login };
    await execa('docker', ['login', '--username', USER, '--password-stdin', REGISTRY], { input: PASSWORD, env });
    await execa('docker', ['pull', '-q', BUSYBOX]);
    await execa('docker', ['tag', BUSYBOX, ref]);
    await execa('docker', ['push', '-q', ref], { env });
    await execa('docker', ['rmi', ref]);
    server = await MascriServer.start();
  });
  after(async () => {
    await execa('docker', ['rmi', ref], { reject: false });
    await server?.stop();
    registry?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  test('without credentials the pull is UNAUTHENTICATED; wrong ones too', async () => {
    await assert.rejects(server.client.callImage('PullImage', { image: { image: ref } }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.UNAUTHENTICATED, error.details);
      return true;
    });
    await assert.rejects(server.client.callImage('PullImage', { image: { image: ref }, auth: { username: USER, password: 'wrong' } }), (error: { code: number }) => error.code === GrpcCode.UNAUTHENTICATED);
    assert.equal(await dockerImageId(ref), '');
  });

  test('username and password, or a base64 auth string, pull the image; nothing is kept or logged', async () => {
    const shmBefore = readdirSync('/dev/shm').filter((name) => /^mascri-\d+-auth-/.test(name));
    const pulled = await server.client.callImage('PullImage', { image: { image: ref }, auth: { username: USER, password: PASSWORD } });
    assert.equal(pulled.imageRef, await dockerImageId(ref));
    await execa('docker', ['rmi', ref]);
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    const again = await server.client.callImage('PullImage', { image: { image: ref }, auth: { auth } });
    assert.equal(again.imageRef, pulled.imageRef);
    assert.deepEqual(readdirSync('/dev/shm').filter((name) => /^mascri-\d+-auth-/.test(name)), shmBefore, 'the temporary Docker config is gone');
    assert.ok(!server.logs.includes(PASSWORD) && !server.logs.includes(auth), 'credentials never reach the log');
  });

  test('mascri pull --creds works like crictl pull --creds', async () => {
    await execa('docker', ['rmi', ref], { reject: false });
    const refused = await server.cli(['pull', ref]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Unauthenticated/);
    const pulled = await server.cli(['pull', '--creds', `${USER}:${PASSWORD}`, ref]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout.trim(), `Image is up to date for ${await dockerImageId(ref)}`);
  });
});
