import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { MascriError } from '../common/errors.js';
import { prepareSocketPath, probeSocket } from './socket.js';

const dir = mkdtempSync(join(tmpdir(), 'mascri-socket-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((conn) => conn.destroy());
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Leaves a socket file nobody listens on, as a server killed with SIGKILL does. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ['-e', "require('net').createServer().listen(process.argv[1], () => console.log('listening'))", path],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the helper exited early with ${code}`)));
    child.stdout!.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.ok(lstatSync(path).isSocket(), 'the killed server left its socket file');
}

describe('probeSocket', () => {
  test('absent for a path that does not exist', async () => {
    assert.equal(await probeSocket(join(dir, 'nosuch.sock')), 'absent');
    assert.equal(await probeSocket(join(dir, 'no', 'such', 'dir.sock')), 'absent');
  });

  test('live while a server listens', async () => {
    const path = join(dir, 'live.sock');
    const server = await listen(path);
    try {
      assert.equal(await probeSocket(path), 'live');
    } finally {
      await close(server);
    }
  });

  test('stale when the socket file is left by a killed server', async () => {
    const path = join(dir, 'stale.sock');
    await staleSocket(path);
    assert.equal(await probeSocket(path), 'stale');
    assert.ok(existsSync(path), 'probing does not remove anything');
  });

  test('a regular file is refused with FAILED_PRECONDITION', async () => {
    const path = join(dir, 'regular-file');
    writeFileSync(path, 'not a socket');
    await assert.rejects(probeSocket(path), (error: unknown) => {
      assert.ok(error instanceof MascriError);
      assert.equal(error.code, status.FAILED_PRECONDITION);
      assert.match(error.message, /is not a socket/);
      return true;
    });
  });
});

describe('prepareSocketPath', () => {
  test('creates missing directories', async () => {
    const path = join(dir, 'nested', 'run', 'mascri.sock');
    await prepareSocketPath(path);
    assert.ok(lstatSync(join(dir, 'nested', 'run')).isDirectory());
    assert.equal(existsSync(path), false);
  });

  test('replaces a stale socket, after which a server can bind there', async () => {
    const path = join(dir, 'replace.sock');
    await staleSocket(path);
    await prepareSocketPath(path);
    assert.equal(existsSync(path), false);
    const server = await listen(path);
    await close(server);
  });

  test('refuses a live socket: another server is listening, and it keeps its socket', async () => {
    const path = join(dir, 'taken.sock');
    const server = await listen(path);
    try {
      await assert.rejects(prepareSocketPath(path), (error: unknown) => {
        assert.ok(error instanceof MascriError);
        assert.equal(error.code, status.ALREADY_EXISTS);
        assert.match(error.message, /another server is already listening on/);
        assert.ok(error.message.includes(path));
        return true;
      });
      assert.equal(await probeSocket(path), 'live');
    } finally {
      await close(server);
    }
  });

  test('refuses a regular file in the way', async () => {
    const path = join(dir, 'in-the-way');
    writeFileSync(path, '');
    await assert.rejects(prepareSocketPath(path), /is not a socket/);
    assert.ok(existsSync(path), 'the file is left alone');
  });
});
