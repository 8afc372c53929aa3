import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isCreateRequest, parseEngineHost, patchCreateBody, withCreateRelay } from './create-relay.js';

test('parseEngineHost: unix and plain tcp engines; others cannot be relayed', () => {
  assert.deepEqual(parseEngineHost('unix:///var/run/docker.sock'), { kind: 'unix', socketPath: '/var/run/docker.sock' });
  assert.deepEqual(parseEngineHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
  assert.deepEqual(parseEngineHost('tcp://docker.example'), { kind: 'tcp', host: 'docker.example', port: 2375 });
  assert.deepEqual(parseEngineHost('tcp://[::1]:2376'), { kind: 'tcp', host: '::1', port: 2376 });
  assert.equal(parseEngineHost('ssh://user@host'), undefined);
  assert.equal(parseEngineHost('npipe:////./pipe/docker_engine'), undefined);
  assert.equal(parseEngineHost('unix://relative.sock'), undefined);
  assert.equal(parseEngineHost(''), undefined);
});

test('isCreateRequest: only POST to containers/create, with or without an API version', () => {
  assert.ok(isCreateRequest('POST', '/v1.41/containers/create?name=k8s_a_b_c_d_0'));
  assert.ok(isCreateRequest('POST', '/containers/create'));
  assert.ok(!isCreateRequest('GET', '/v1.41/containers/create'));
  assert.ok(!isCreateRequest('POST', '/v1.41/containers/abc/start'));
  assert.ok(!isCreateRequest('POST', '/v1.41/containers/create-something'));
  assert.ok(!isCreateRequest('HEAD', '/_ping'));
});

test('patchCreateBody sets the extras in HostConfig and keeps everything else', () => {
  const body = Buffer.from(JSON.stringify({ Image: 'busybox', HostConfig: { NetworkMode: 'container:x', MaskedPaths: null }, NetworkingConfig: {} }));
  const patched = JSON.parse(patchCreateBody(body, { MaskedPaths: ['/bin/ls'], ReadonlyPaths: ['/tmp'] }).toString());
  assert.deepEqual(patched, { Image: 'busybox', HostConfig: { NetworkMode: 'container:x', MaskedPaths: ['/bin/ls'], ReadonlyPaths: ['/tmp'] }, NetworkingConfig: {} });
  assert.deepEqual(JSON.parse(patchCreateBody(Buffer.from('{"Image":"x"}'), { ReadonlyPaths: ['/a'] }).toString()).HostConfig, { ReadonlyPaths: ['/a'] });
  // Config fields go to the top level of the request, not its HostConfig.
  const stdin = JSON.parse(patchCreateBody(Buffer.from('{"Image":"x","OpenStdin":true,"StdinOnce":true,"HostConfig":{"Init":false}}'), { Config: { StdinOnce: false } }).toString());
  assert.deepEqual(stdin, { Image: 'x', OpenStdin: true, StdinOnce: false, HostConfig: { Init: false } });
  // The environment and command too large for arguments replace what the CLI sent; the rest stays.
  const cli = '{"Image":"x","Env":[],"Cmd":null,"Entrypoint":null,"Labels":{"a":"b"},"HostConfig":{"Init":false}}';
  const env = ['BIG=' + 'é'.repeat(200 * 1024), 'LINES=a\nb\r\nc', 'EMPTY='];
  const processPatched = JSON.parse(patchCreateBody(Buffer.from(cli), { Config: { Env: env, Entrypoint: ['sh'], Cmd: ['-c', 'echo ${#1}', 'sh', 'z'.repeat(1000)] } }).toString());
  assert.deepEqual(processPatched, { Image: 'x', Env: env, Cmd: ['-c', 'echo ${#1}', 'sh', 'z'.repeat(1000)], Entrypoint: ['sh'], Labels: { a: 'b' }, HostConfig: { Init: false } });
  assert.throws(() => patchCreateBody(Buffer.from('[1]'), {}), /not a JSON object/);
  assert.throws(() => patchCreateBody(Buffer.from('{oops'), {}));
});

describe('withCreateRelay against a stand-in engine', () => {
  let dir: string;
  let engine: http.Server;
  const seen: Array<{ method: string; url: string; body: string; headers: http.IncomingHttpHeaders }> = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mascri-relay-test-'));
    engine = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body: Buffer.concat(chunks).toString(), headers: req.headers });
        if (req.url === '/drop') {
          // The engine goes away in the middle of its answer.
          res.writeHead(200, { 'content-length': '1000' });
          res.write('partial', () => res.socket?.destroy()); // once the part is sent
          return;
        }
        res.writeHead(req.url === '/_ping' ? 200 : 201, { 'content-type': 'application/json', 'api-version': '1.41' });
        res.end(req.url === '/_ping' ? 'OK' : JSON.stringify({ Id: 'abc', Warnings: [] }));
      });
    });
    await new Promise<void>((resolve) => engine.listen(join(dir, 'engine.sock'), resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => engine.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function request(dockerHost: string, method: string, path: string, body?: string, chunked = false): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders }> {
    const socketPath = dockerHost.slice('unix://'.length);
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (body !== undefined && !chunked) headers['content-length'] = String(Buffer.byteLength(body));
      const req = http.request({ socketPath, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString(), headers: res.headers }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined && chunked) {
        // Two writes without a length: the body arrives chunked and must be patched whole.
        req.write(body.slice(0, 5));
        req.end(body.slice(5));
      } else req.end(body);
    });
  }

  test('patches the create request (also when chunked), passes other requests through, answers as the engine does', async () => {
    seen.length = 0;
    let relaySocket = '';
    const outcome = await withCreateRelay({ kind: 'unix', socketPath: join(dir, 'engine.sock') }, { MaskedPaths: ['/bin/ls'] }, async (dockerHost) => {
      relaySocket = dockerHost.slice('unix://'.length);
      const ping = await request(dockerHost, 'HEAD', '/_ping');
      assert.equal(ping.status, 200);
      assert.equal(ping.headers['api-version'], '1.41');
      const created = await request(dockerHost, 'POST', '/v1.41/containers/create?name=x', JSON.stringify({ Image: 'busybox', HostConfig: { Init: false } }));
      assert.equal(created.status, 201);
      assert.deepEqual(JSON.parse(created.text), { Id: 'abc', Warnings: [] });
      await request(dockerHost, 'POST', '/v1.41/containers/create?name=y', JSON.stringify({ Image: 'busybox' }), true);
      await request(dockerHost, 'POST', '/v1.41/containers/abc/start', '');
      return 'done';
    });
    assert.deepEqual(outcome, { result: 'done', patched: 2 });
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), ['HEAD /_ping', 'POST /v1.41/containers/create?name=x', 'POST /v1.41/containers/create?name=y', 'POST /v1.41/containers/abc/start']);
    assert.deepEqual(JSON.parse(seen[1]!.body), { Image: 'busybox', HostConfig: { Init: false, MaskedPaths: ['/bin/ls'] } });
    assert.equal(seen[1]!.headers['content-length'], String(Buffer.byteLength(seen[1]!.body)));
    assert.deepEqual(JSON.parse(seen[2]!.body).HostConfig, { MaskedPaths: ['/bin/ls'] });
    assert.ok(!existsSync(dirname(relaySocket)), 'the relay socket and its directory are gone afterwards');
  });

  test('a body that is not JSON is refused with a message; an unreachable engine drops the connection', async () => {
    const outcome = await withCreateRelay({ kind: 'unix', socketPath: join(dir, 'engine.sock') }, { ReadonlyPaths: ['/tmp'] }, (dockerHost) =>
      request(dockerHost, 'POST', '/v1.41/containers/create', 'not json'),
    );
    assert.equal(outcome.patched, 0);
    assert.equal(outcome.result.status, 500);
    assert.match(JSON.parse(outcome.result.text).message, /could not patch the create request/);

    await assert.rejects(
      withCreateRelay({ kind: 'unix', socketPath: join(dir, 'absent.sock') }, { ReadonlyPaths: ['/tmp'] }, (dockerHost) => request(dockerHost, 'HEAD', '/_ping')),
      /socket hang up|ECONNRESET/,
    );
  });

  test('a client or an engine that goes away mid-request does not bring the relay down', { timeout: 10_000 }, async () => {
    const outcome = await withCreateRelay({ kind: 'unix', socketPath: join(dir, 'engine.sock') }, { MaskedPaths: ['/x'] }, async (dockerHost) => {
      const socketPath = dockerHost.slice('unix://'.length);
      // A client that announces a body and hangs up after part of it.
      await new Promise<void>((resolve) => {
        const req = http.request({ socketPath, method: 'POST', path: '/v1.41/containers/create', headers: { 'content-length': '100' } });
        req.on('error', () => resolve());
        req.write('{"Ima', () => {
          // Once the part is sent.
          req.destroy();
          resolve();
        });
      });
      await assert.rejects(request(dockerHost, 'GET', '/drop'));
      return (await request(dockerHost, 'HEAD', '/_ping')).status;
    });
    assert.equal(outcome.result, 200, 'the relay still answers');
  });
});
