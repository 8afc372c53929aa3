/**
 * The operator endpoint (`mascri serve --http`: /healthz, /metrics, the CRI as JSON over HTTP),
 * RuntimeConfig, CheckpointContainer's reason, the Stream* list RPCs, and the `events`,
 * `runtimeconfig` and `info` commands, against the real engine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BIN, BUSYBOX, DaemonRelay, MascriServer, docker, dockerImageId, mascri, removeContainers, sandboxConfig, shellContainer, waitFor } from '../helpers.js';

/** A port nobody listens on now: listen on port 0, note the port, close. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** POSTs `body` as JSON and returns the status and the parsed answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests read the answer's fields as the CRI JSON names them, unchecked
async function post(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

/** The value of one sample line of a metrics text, or 0 when absent. */
function sampleValue(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Everything a server stream sends until it ends. */
function collect<T>(stream: NodeJS.EventEmitter): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.on('data', (item: T) => items.push(item));
    stream.on('end', () => resolve(items));
    stream.on('error', reject);
  });
}

describe('operator endpoint and runtime config', () => {
  let server: MascriServer;
  let base = '';
  const containers: string[] = [];
  const logDirs: string[] = [];

  before(async () => {
    const port = await freePort();
    server = await MascriServer.start({ extraArgs: ['--http', `127.0.0.1:${port}`] });
    base = `http://127.0.0.1:${port}`;
    await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
  });
  after(async () => {
    await removeContainers(containers);
    for (const dir of logDirs) rmSync(dir, { recursive: true, force: true });
    await server?.stop();
  });

  /** Resolves once the server has one more GetContainerEvents stream open than `before` (count them with eventStreams()). */
  const eventStreams = () => server.logs.split('\n').filter((line) => line.includes('"msg":"stream opened"') && line.includes('GetContainerEvents')).length;
  const subscribed = (before: number) => waitFor('the events stream to open', async () => (eventStreams() > before ? true : undefined), 10_000);

  /** A pod through gRPC, cleaned up after the suite. */
  async function pod(name: string): Promise<{ id: string; config: Record<string, unknown> }> {
    const config = sandboxConfig(name);
    logDirs.push(config.logDirectory as string);
    const { podSandboxId } = await server.client.callRuntime('RunPodSandbox', { config });
    containers.push(podSandboxId);
    return { id: podSandboxId, config };
  }

  test('GET /healthz answers ok while Docker answers', async () => {
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'ok\n');
    assert.match(server.logs, /serving the operator endpoint/);
  });

  test('GET /metrics counts RPCs per method and code, docker calls per subcommand, and pods and containers', async () => {
    const before = await (await fetch(`${base}/metrics`)).text();
    const versionSeries = 'mascri_grpc_requests_total{method="RuntimeService/Version",code="OK"}';
    for (let i = 0; i < 3; i++) await server.client.callRuntime('Version', {});
    await assert.rejects(server.client.callRuntime('PodSandboxStatus', { podSandboxId: 'no-such-pod' }));
    await server.client.callImage('ImageStatus', { image: { image: BUSYBOX } });
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.equal(sampleValue(text, versionSeries) - sampleValue(before, versionSeries), 3);
    assert.ok(sampleValue(text, 'mascri_grpc_requests_total{method="RuntimeService/PodSandboxStatus",code="NotFound"}') >= 1);
    assert.ok(sampleValue(text, 'mascri_grpc_errors_total{code="NotFound"}') >= 1);
    assert.ok(sampleValue(text, 'mascri_grpc_request_duration_seconds_count{method="RuntimeService/Version"}') >= 3);
    assert.match(text, /^mascri_grpc_request_duration_seconds_bucket\{le="\+Inf",method="ImageService\/ImageStatus"\} [1-9]/m);
    // The pull in before() and the store's start ran docker.
    assert.ok(sampleValue(text, 'mascri_docker_calls_total{command="pull",ok="true"}') >= 1, text);
    assert.ok(sampleValue(text, 'mascri_docker_call_duration_seconds_count{command="pull"}') >= 1);
    assert.match(text, /^mascri_pods\{state="SANDBOX_READY"\} \d+$/m);
    assert.match(text, /^mascri_containers\{state="CONTAINER_RUNNING"\} \d+$/m);
    assert.match(text, /^mascri_process_memory_bytes\{kind="heap_used"\} [1-9]\d*$/m);
    assert.match(text, /^mascri_build_info\{version="\d+\.\d+\.\d+[^"]*",instance_name="[^"]*",docker_cli="[^"]+"\} 1$/m);
    assert.match(text, /^process_cpu_seconds_total [\d.e+-]+$/m);
  });

  test('the pods gauge follows a pod started through gRPC', async () => {
    const metric = async () => sampleValue(await (await fetch(`${base}/metrics`)).text(), 'mascri_pods{state="SANDBOX_READY"}');
    const ready = await metric();
    await pod('gauge');
    assert.equal(await metric(), ready + 1);
  });

  test('POST /v1/image/status answers the image as JSON, with the ID Docker has', async () => {
    const { status, json } = await post(`${base}/v1/image/status`, { image: { image: BUSYBOX } });
    assert.equal(status, 200);
    assert.equal(json.image.id, await dockerImageId(BUSYBOX));
    assert.ok(json.image.repoTags.includes(BUSYBOX));
    assert.equal(typeof json.image.size, 'string', '64-bit integers are strings, as in the protobuf JSON mapping');
  });

  test('a sandbox created, listed, inspected, stopped and removed over HTTP', async () => {
    const config = sandboxConfig('http');
    logDirs.push(config.logDirectory as string);
    const created = await post(`${base}/v1/runtime/sandbox/create`, { config });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const id: string = created.json.podSandboxId;
    containers.push(id);
    assert.match(id, /^[0-9a-f]{64}$/);

    const listed = await post(`${base}/v1/runtime/sandbox/list`, { filter: { id } });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.json.items.map((p: { id: string }) => p.id), [id]);
    assert.equal(listed.json.items[0].state, 'SANDBOX_READY');
    // The same answer as gRPC gives.
    const overGrpc = await server.client.callRuntime('ListPodSandbox', { filter: { id } });
    assert.equal(overGrpc.items[0]!.metadata!.name, listed.json.items[0].metadata.name);

    const inspected = await post(`${base}/v1/runtime/sandbox/status`, { pod_sandbox_id: id, verbose: true }); // snake_case too
    assert.equal(inspected.status, 200);
    assert.equal(inspected.json.status.id, id);
    assert.equal(inspected.json.status.metadata.namespace, 'e2e');

    assert.equal((await post(`${base}/v1/runtime/sandbox/stop`, { podSandboxId: id })).status, 200);
    const stopped = await post(`${base}/v1/runtime/sandbox/status`, { podSandboxId: id });
    assert.equal(stopped.json.status.state, 'SANDBOX_NOTREADY');
    const removed = await post(`${base}/v1/runtime/sandbox/remove`, { podSandboxId: id });
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.json, {});
    const gone = await post(`${base}/v1/runtime/sandbox/status`, { podSandboxId: id });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.code, 'NotFound');
    assert.match(gone.json.message, new RegExp(id));
  });

  test('errors over HTTP: gRPC codes become HTTP statuses with { code, message }', async () => {
    const missing = await post(`${base}/v1/runtime/container/status`, { containerId: 'no-such-container' });
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(missing.json).sort(), ['code', 'message']);
    assert.equal(missing.json.code, 'NotFound');

    const unknownField = await post(`${base}/v1/runtime/sandbox/create`, { config: { metadata: { name: 'x' } }, bogus: 1 });
    assert.equal(unknownField.status, 400);
    assert.equal(unknownField.json.code, 'InvalidArgument');
    assert.match(unknownField.json.message, /unknown field "bogus"/);

    const badReference = await post(`${base}/v1/image/pull`, { image: { image: 'UPPER/Case::bad' } });
    assert.equal(badReference.status, 400);

    const wrongMethod = await fetch(`${base}/v1/runtime/version`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    const version = await post(`${base}/v1/runtime/version`, {});
    assert.equal(version.json.runtimeName, 'mascri');
  });

  test('RuntimeConfig reports the cgroup driver Docker reports', async () => {
    const driver = (await docker(['info', '--format', '{{.CgroupDriver}}'])).stdout.trim();
    const config = await server.client.callRuntime('RuntimeConfig', {});
    assert.equal(config.linux?.cgroupDriver, driver === 'systemd' ? 'SYSTEMD' : 'CGROUPFS');
    const overHttp = await post(`${base}/v1/runtime/config`, {});
    assert.equal(overHttp.json.linux.cgroupDriver, config.linux?.cgroupDriver);
  });

  test('UpdateRuntimeConfig records the pod CIDR (Status verbose shows it) and logs it; a malformed one is INVALID_ARGUMENT', async () => {
    await server.client.callRuntime('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr: '10.88.0.0/16' } } });
    await waitFor('the log line', async () => (/"podCidr":"10\.88\.0\.0\/16"/.test(server.logs) ? true : undefined), 2000);
    const status = await server.client.callRuntime('Status', { verbose: true });
    assert.equal(JSON.parse(status.info.config!).podCidr, '10.88.0.0/16');
    await assert.rejects(server.client.callRuntime('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr: '10.88.0.0' } } }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.INVALID_ARGUMENT);
      assert.match(error.details, /pod_cidr "10\.88\.0\.0"/);
      return true;
    });
  });

  test('CheckpointContainer answers UNIMPLEMENTED naming what this host lacks; CheckpointPod and RestorePod refuse saying why', async () => {
    const experimental = (await docker(['info', '--format', '{{.ExperimentalBuild}}'])).stdout.trim() === 'true';
    const { id: podId, config } = await pod('checkpoint');
    const { containerId } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('checkpointed', 'sleep 1000'), sandboxConfig: config });
    containers.push(containerId);
    await server.client.callRuntime('StartContainer', { containerId });
    const refused = (code: number, pattern: RegExp) => (error: { code: number; details: string }) => {
      assert.equal(error.code, code, error.details);
      assert.match(error.details, pattern);
      return true;
    };
    await assert.rejects(
      server.client.callRuntime('CheckpointContainer', { containerId, location: '/tmp/x.tar' }),
      refused(GrpcCode.UNIMPLEMENTED, experimental ? /^CheckpointContainer is not supported by mascri on this host: / : /^CheckpointContainer is not supported by mascri on this host: .*experimental features/),
    );
    await assert.rejects(server.client.callRuntime('CheckpointContainer', { containerId: 'any', location: '/tmp/x.tar' }), refused(GrpcCode.NOT_FOUND, /no container with that ID/));
    await assert.rejects(server.client.callRuntime('CheckpointPod', { podSandboxId: podId, outputPath: '/tmp/pod.tar' }), refused(GrpcCode.UNIMPLEMENTED, /^CheckpointPod is not supported by mascri: /));
    await assert.rejects(server.client.callRuntime('RestorePod', { checkpointPath: '/tmp/pod.tar' }), refused(GrpcCode.UNIMPLEMENTED, /^RestorePod is not supported by mascri: /));
  });

  test('Stream* RPCs send the same items as their List* RPCs, then end', async () => {
    const { id: podId, config } = await pod('stream');
    const { containerId } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('streamed', 'sleep 1000'), sandboxConfig: config });
    containers.push(containerId);

    const listedContainers = await server.client.callRuntime('ListContainers', {});
    const streamedContainers = await collect<{ containers: Array<{ id: string }> }>(server.client.runtime.StreamContainers({}));
    assert.deepEqual(streamedContainers.flatMap((b) => b.containers), listedContainers.containers);
    assert.ok(streamedContainers.every((b) => b.containers.length <= 100));
    assert.ok(listedContainers.containers.some((c) => c.id === containerId));

    const filter = { id: podId };
    const listedPods = await server.client.callRuntime('ListPodSandbox', { filter });
    const streamedPods = await collect<{ podSandboxes: unknown[] }>(server.client.runtime.StreamPodSandboxes({ filter }));
    assert.deepEqual(streamedPods.flatMap((b) => b.podSandboxes), listedPods.items);
    assert.equal(listedPods.items.length, 1);

    // ListImages does not promise an order: compare the images by ID.
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    const listedImages = await server.client.callImage('ListImages', {});
    const streamedImages = await collect<{ images: Array<{ id: string }> }>(server.client.image.StreamImages({}));
    assert.deepEqual(streamedImages.flatMap((b) => b.images).sort(byId), [...listedImages.images].sort(byId));

    const streamedStats = await collect<{ containerStats: Array<{ attributes: { id: string } }> }>(server.client.runtime.StreamContainerStats({ filter: { podSandboxId: podId } }));
    const listedStats = await server.client.callRuntime('ListContainerStats', { filter: { podSandboxId: podId } });
    assert.deepEqual(
      streamedStats.flatMap((b) => b.containerStats.map((s) => s.attributes.id)).sort(),
      listedStats.stats.map((s) => s.attributes!.id).sort(),
    );
  });

  test('mascri events prints created, started, stopped and deleted for a container run meanwhile through gRPC; -t does not cut it', async () => {
    const { id: podId, config } = await pod('events');
    const streamsBefore = eventStreams();
    const proc = spawn(process.execPath, [BIN, '-r', server.endpoint, '-t', '500ms', 'events', '-o', 'table', '--no-trunc'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      await waitFor('the header', async () => (stdout.startsWith('TIME') ? true : undefined), 10_000);
      await subscribed(streamsBefore);
      // The client's call began before the server opened the stream: a deadline of -t would end it before this + 500 ms.
      const cutOffBy = Date.now() + 500;
      const { containerId } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('evented', 'sleep 1000'), sandboxConfig: config });
      containers.push(containerId);
      await server.client.callRuntime('StartContainer', { containerId });
      await server.client.callRuntime('StopContainer', { containerId, timeout: '0' });
      await server.client.callRuntime('RemoveContainer', { containerId });
      const lines = await waitFor('four events', async () => {
        const mine = stdout.split('\n').filter((line) => line.includes(containerId));
        return mine.length >= 4 ? mine : undefined;
      });
      assert.deepEqual(
        lines.map((line) => line.split(/\s+/)[1]),
        ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT'],
      );
      for (const line of lines) {
        const [time, , container, podColumn] = line.split(/\s+/);
        assert.match(time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
        assert.equal(container, containerId);
        assert.equal(podColumn, podId);
      }
      // A stream has no deadline: it still prints an event made after -t would have cut it. Until
      // one is printed, another container is created and removed (once the last one's are printed).
      let marker = '';
      await waitFor('an event made after the -t timeout to be printed', async () => {
        assert.equal(proc.exitCode, null, `mascri events ended: ${stderr}`);
        const printed = stdout.split('\n');
        if (printed.some((line) => Date.parse(line.split(/\s+/)[0]!) > cutOffBy)) return true;
        if (marker && !printed.some((line) => line.includes(marker) && line.includes('CONTAINER_DELETED_EVENT'))) return undefined;
        ({ containerId: marker } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('marker', 'sleep 1000'), sandboxConfig: config }));
        containers.push(marker);
        await server.client.callRuntime('RemoveContainer', { containerId: marker });
        return undefined;
      });
      assert.equal(proc.exitCode, null, 'still running after the -t timeout');
    } finally {
      proc.kill('SIGINT');
    }
    assert.equal(await exited, 0, stderr);
  });

  test('mascri events -o json prints one protobuf JSON object per event (indented, as crictl prints them)', async () => {
    const { id: podId, config } = await pod('events-json');
    const streamsBefore = eventStreams();
    const proc = spawn(process.execPath, [BIN, '-r', server.endpoint, 'events', '-o', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    try {
      await subscribed(streamsBefore);
      const { containerId } = await server.client.callRuntime('CreateContainer', { podSandboxId: podId, config: shellContainer('json-evented', 'sleep 1000'), sandboxConfig: config });
      containers.push(containerId);
      const event = await waitFor('the created event', async () => {
        // Each event is an indented object starting with "{" at the start of a line.
        const text = stdout.split(/^(?=\{)/m).find((chunk) => chunk.includes(containerId) && /^\}\s*$/m.test(chunk));
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an event of `mascri events -o json`, read field by field
        return text ? (JSON.parse(text) as Record<string, any>) : undefined;
      });
      assert.equal(event.containerEventType, 'CONTAINER_CREATED_EVENT');
      assert.equal(event.podSandboxStatus.id, podId);
      assert.match(event.createdAt, /^\d+$/);
    } finally {
      proc.kill('SIGINT');
    }
    assert.equal(await exited, 0);
  });

  test('mascri runtimeconfig and mascri info', async () => {
    const driver = (await docker(['info', '--format', '{{.CgroupDriver}}'])).stdout.trim() === 'systemd' ? 'SYSTEMD' : 'CGROUPFS';
    const table = await server.cli(['runtimeconfig']);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout.trim(), `cgroup driver:   ${driver}`, 'crictl\'s runtime-config line');
    const json = await server.cli(['runtimeconfig', '-o', 'json']);
    assert.deepEqual(JSON.parse(json.stdout), { linux: { cgroupDriver: driver } });
    const yaml = await server.cli(['runtimeconfig', '-o', 'yaml']);
    assert.match(yaml.stdout, new RegExp(`cgroupDriver: ${driver}`));

    const info = await server.cli(['info']);
    assert.equal(info.code, 0, info.stderr);
    const parsed = JSON.parse(info.stdout);
    assert.deepEqual(parsed.status.conditions.map((c: { type: string; status: boolean }) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]]);
    assert.equal(parsed.host.cgroupDriver, driver === 'SYSTEMD' ? 'systemd' : 'cgroupfs');
    assert.ok(parsed.docker.ServerVersion);
    const infoYaml = await server.cli(['info', '-o', 'yaml']);
    assert.match(infoYaml.stdout, /RuntimeReady/);
    assert.match(infoYaml.stdout, /privilegedAllowed/);
  });
});

describe('operator endpoint: health and address checks', () => {
  test('/healthz answers 503 with the reason while the daemon is down, and ok again once it is back', async () => {
    const relay = new DaemonRelay();
    await relay.up();
    const port = await freePort();
    const server = await MascriServer.start({ env: { DOCKER_HOST: relay.dockerHost }, extraArgs: ['--http', `127.0.0.1:${port}`] });
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      await relay.down();
      const down = await waitFor('503', async () => {
        const response = await fetch(`http://127.0.0.1:${port}/healthz`);
        return response.status === 503 ? response.text() : undefined;
      }, 10_000);
      assert.match(down, /^docker daemon not reachable: .*(Cannot connect|connect)/i);
      await relay.up();
      await waitFor('200 again', async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined), 10_000);
    } finally {
      await server.stop();
      await relay.dispose();
    }
  });

  test('a non-loopback --http is refused before anything starts, unless --http-allow-remote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mascri-e2e-'));
    try {
      const socket = join(dir, 'mascri.sock');
      const refused = await mascri(['serve', '--listen', `unix://${socket}`, '--http', '0.0.0.0:0'], { timeoutMs: 20_000 });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--http 0\.0\.0\.0:0 is not a loopback address.*--http-allow-remote/);
      assert.ok(!existsSync(socket), 'no socket was created');
      const malformed = await mascri(['serve', '--listen', `unix://${socket}`, '--http', '9090'], { timeoutMs: 20_000 });
      assert.equal(malformed.code, 2);
      assert.match(malformed.stderr, /is not HOST:PORT/);

      const port = await freePort();
      const allowed = await MascriServer.start({ socket, extraArgs: ['--http', `0.0.0.0:${port}`, '--http-allow-remote'] });
      try {
        assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
      } finally {
        await allowed.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
