/** The server's lifecycle: socket handling, a second server, signals, Version/Status, UNIMPLEMENTED with a reason. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BIN, MascriServer, mascri, uniqueSuffix, type ServeOptions } from '../helpers.js';

/** A server of an instance of its own: one server per instance, and these run side by side. */
function startServer(options: ServeOptions = {}): Promise<MascriServer> {
  return MascriServer.start({ ...options, extraArgs: ['--instance', `srv-${uniqueSuffix()}`, ...(options.extraArgs ?? [])] });
}

describe('mascri serve', () => {
  const servers: MascriServer[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const server of servers) await server.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('creates the socket directory and a socket with mode 0660; Version names mascri', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mascri-e2e-'));
    dirs.push(dir);
    const socket = join(dir, 'nested', 'run', 'mascri.sock');
    const server = await startServer({ socket });
    servers.push(server);
    assert.equal(statSync(socket).mode & 0o777, 0o660);
    const version = await server.client.callRuntime('Version', { version: '0.1.0' });
    assert.equal(version.runtimeName, 'mascri');
    assert.equal(version.runtimeApiVersion, 'v1');
    assert.equal(version.version, '0.1.0');
    assert.match(version.runtimeVersion, /^\d+\.\d+\.\d+/);
  });

  test('a second server on the same socket exits non-zero with a clear message; the first keeps serving', async () => {
    const first = await startServer();
    servers.push(first);
    const second = await mascri(['serve', '--listen', first.endpoint], { timeoutMs: 20_000 });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /already listening on/);
    const version = await first.client.callRuntime('Version', {});
    assert.equal(version.runtimeName, 'mascri');
    assert.ok(existsSync(first.socket), 'the first server\'s socket is still there');
  });

  test('a stale socket file left by a killed server is replaced', async () => {
    const first = await startServer();
    const socket = first.socket;
    // SIGKILL leaves the socket file behind, as a crash would.
    first.proc.kill('SIGKILL');
    await new Promise((resolve) => first.proc.once('exit', resolve));
    assert.ok(existsSync(socket));
    const second = await startServer({ socket });
    servers.push(second);
    assert.equal((await second.client.callRuntime('Version', {})).runtimeName, 'mascri');
    await first.stop(); // removes the temporary directory after the test
  });

  test('SIGINT and SIGTERM close the socket cleanly and exit 0', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const server = await startServer();
      const socket = server.socket;
      const code = await server.stop(signal);
      assert.equal(code, 0, `exit code after ${signal}`);
      assert.ok(!existsSync(socket), `socket removed after ${signal}`);
    }
  });

  test('Status says RuntimeReady and NetworkReady while Docker answers; verbose adds docker info', async () => {
    const server = await startServer();
    servers.push(server);
    const status = await server.client.callRuntime('Status', { verbose: true });
    const conditions = Object.fromEntries(status.status!.conditions.map((c) => [c.type, c.status]));
    assert.deepEqual(conditions, { RuntimeReady: true, NetworkReady: true });
    const info = JSON.parse(status.info.docker!);
    assert.ok(info.ServerVersion);
  });

  test('CheckpointContainer checks the container first (operator.test.ts has its refusal); Stream* RPCs answer and end', async () => {
    const server = await startServer();
    servers.push(server);
    await assert.rejects(server.client.callRuntime('CheckpointContainer', { containerId: 'x' }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.NOT_FOUND);
      assert.match(error.details, /checkpointing container "x": no container with that ID/);
      return true;
    });
    // StreamContainerStats used to be the unimplemented example here; it now streams ListContainerStats.
    const batches = await new Promise<unknown[]>((resolve, reject) => {
      const received: unknown[] = [];
      const stream = server.client.runtime.StreamContainerStats({});
      stream.on('data', (batch: unknown) => received.push(batch));
      stream.on('end', () => resolve(received));
      stream.on('error', reject);
    });
    assert.ok(batches.length >= 1);
  });

  test('a path that is not a socket is refused with a clear message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mascri-e2e-'));
    dirs.push(dir);
    const file = join(dir, 'not-a-socket');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'x'));
    const result = await mascri(['serve', '--listen', `unix://${file}`], { timeoutMs: 20_000 });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /is not a socket/);
  });

  test('an unknown --log-level is refused before anything starts', async () => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--listen', 'unix:///tmp/never-created.sock', '--log-level', 'loud'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // 'close' comes after the exit and after stderr has been read to its end.
    const code = await new Promise((resolve) => proc.once('close', resolve));
    assert.notEqual(code, 0);
    assert.match(stderr, /log-level/);
    assert.ok(!existsSync('/tmp/never-created.sock'));
  });
});
