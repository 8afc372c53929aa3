import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { silentLogger } from '../common/logger.js';
import { CriClient } from '../cri/client.js';
import { createDockerAdapter, type DockerAdapter } from '../docker/adapter.js';
import { DockerCli } from '../docker/cli.js';
import { DockerError } from '../docker/errors.js';
import type { RegistryAuth } from '../docker/images.js';
import type { DockerImageInspect, DockerInfo } from '../docker/types.js';
import { criService } from '../cri/definition.js';
import type { UnaryImplementation } from './transport/grpc-server.js';
import { MascriServer, implement } from './server.js';

const POD_INFRA_IMAGE = 'localhost:5000/pause:3.10';
const BUSYBOX_ID = 'sha256:' + 'b'.repeat(64);
const PAUSE_ID = 'sha256:' + 'a'.repeat(64);

const BUSYBOX: DockerImageInspect = {
  Id: BUSYBOX_ID,
  RepoTags: ['busybox:latest', '<none>:<none>'],
  RepoDigests: ['busybox@sha256:' + 'd'.repeat(64)],
  Created: '2026-11-23T09:47:10.526351254Z',
  Size: 4261550,
  Config: { User: '1000:1000' },
};
const PAUSE: DockerImageInspect = {
  Id: PAUSE_ID,
  RepoTags: [POD_INFRA_IMAGE],
  RepoDigests: [],
  Created: '2026-11-23T09:47:10Z',
  Size: 736000,
  Config: { User: '65535:65535' },
};

/** What the fake Docker does and what it was asked; reset before each test. */
const fake = {
  dockerDown: false,
  pulls: [] as Array<{ ref: string; auth: RegistryAuth | undefined }>,
  removed: [] as string[],
};

const INFO: DockerInfo = { ID: 'fake', ServerVersion: '27.3.1', DockerRootDir: '/', CgroupDriver: 'systemd', CgroupVersion: '2', SecurityOptions: ['name=seccomp,profile=builtin'] };

const dir = mkdtempSync(join(tmpdir(), 'mascri-server-'));
const socket = join(dir, 'run', 'mascri.sock');
const endpoint = `unix://${socket}`;

/**
 * The docker binary the fake's DockerCli names: the container store runs `docker events`
 * with it (sleeping until the server stops it); nothing else should run it.
 */
const dockerStandIn = join(dir, 'docker');
writeFileSync(dockerStandIn, '#!/bin/sh\nif [ "$1" = events ]; then exec sleep 60; fi\necho "unexpected docker call: $*" >&2\nexit 1\n');
chmodSync(dockerStandIn, 0o755);

/** The real host and children (this host's /proc), as a server has them. */
const { host, children } = createDockerAdapter(dockerStandIn);

/** A fake Docker adapter: canned answers, DockerErrors in Docker's words; the real host. */
const docker = {
  cli: new DockerCli(dockerStandIn),
  host,
  children,
  system: {
    async info(): Promise<DockerInfo> {
      if (fake.dockerDown) throw new DockerError('unavailable', 'Cannot connect to the Docker daemon at unix:///nonexistent.sock. Is the docker daemon running?');
      return INFO;
    },
    async version() {
      return { Client: { Version: '27.3.1' }, Server: { Version: '27.3.1' } };
    },
  },
  images: {
    async pull(ref: string, auth?: RegistryAuth): Promise<void> {
      fake.pulls.push({ ref, auth });
      if (ref === 'localhost:5000/plain-error') throw new Error('the fake was told to fail');
      if (ref.startsWith('localhost:5000/does-not-exist')) {
        throw new DockerError('not-found', `manifest for ${ref} not found: manifest unknown: manifest unknown`, ['pull', '--quiet', '--', ref]);
      }
    },
    async inspect(ref: string): Promise<DockerImageInspect | undefined> {
      if (['busybox', 'busybox:latest', BUSYBOX_ID].includes(ref)) return BUSYBOX;
      if (ref === POD_INFRA_IMAGE) return PAUSE;
      return undefined;
    },
    async inspectAll(refs: readonly string[]): Promise<DockerImageInspect[]> {
      const found = await Promise.all(refs.map((ref) => docker.images.inspect(ref)));
      return found.filter((image) => image !== undefined);
    },
    async list(): Promise<DockerImageInspect[]> {
      return [BUSYBOX, PAUSE];
    },
    async remove(ref: string): Promise<boolean> {
      fake.removed.push(ref);
      return true;
    },
  },
  // No events: the store's stream never ends and never says anything.
  events: { follow: () => ({ start: () => undefined, stop: () => undefined }), followImages: () => ({ start: () => undefined, stop: () => undefined }) },
  containers: {
    async list() {
      return [];
    },
    async inspect() {
      return [];
    },
    async inspectOne() {
      return undefined;
    },
  },
} as unknown as DockerAdapter;

/** Asserts a gRPC failure with `code` whose details match `details`. */
async function rejectsWith(promise: Promise<unknown>, code: number, details: RegExp): Promise<ServiceError> {
  let caught: ServiceError | undefined;
  await assert.rejects(promise, (error: ServiceError) => {
    caught = error;
    assert.equal(error.code, code, `code ${error.code} (${error.details})`);
    assert.match(error.details, details);
    return true;
  });
  return caught!;
}

/** This run's instance name (servers of one instance refuse to run side by side on a host). */
const UNIT_INSTANCE = `unit-${process.pid}`;

describe('MascriServer over a unix socket with a fake Docker', () => {
  let server: MascriServer;
  let client: CriClient;

  before(async () => {
    // A variable, not a literal: options this version of the server does not know are ignored.
    // An instance of its own: one server per instance on a host, and other test runs may be serving the default one.
    const options = { listen: endpoint, docker, log: silentLogger, podInfraImage: POD_INFRA_IMAGE, stateDir: join(dir, 'state'), http: { host: '127.0.0.1', port: 0 }, instance: UNIT_INSTANCE };
    server = await MascriServer.start(options);
    client = new CriClient(endpoint, endpoint, 5000);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    assert.equal(existsSync(socket), false, 'stop() removes the socket file');
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake.dockerDown = false;
    fake.pulls = [];
    fake.removed = [];
  });

  test('the socket directory is created and the socket has mode 0660', () => {
    assert.ok(statSync(socket).isSocket());
    assert.equal(statSync(socket).mode & 0o777, 0o660);
  });

  test('Version names mascri and CRI v1', async () => {
    const version = await client.callRuntime('Version', { version: '0.1.0' });
    assert.equal(version.runtimeName, 'mascri');
    assert.equal(version.runtimeApiVersion, 'v1');
    assert.equal(version.version, '0.1.0');
    assert.match(version.runtimeVersion, /^\d+\.\d+\.\d+/);
  });

  test('Status: RuntimeReady and NetworkReady while docker info answers', async () => {
    const response = await client.callRuntime('Status', {});
    const conditions = response.status!.conditions;
    assert.deepEqual(
      conditions.map((c) => [c.type, c.status, c.reason]),
      [
        ['RuntimeReady', true, ''],
        ['NetworkReady', true, ''],
      ],
    );
    assert.deepEqual(response.info, {});
  });

  test('Status verbose adds the config, docker info and host summary', async () => {
    const response = await client.callRuntime('Status', { verbose: true });
    assert.deepEqual(JSON.parse(response.info.config!), { instance: UNIT_INSTANCE, podInfraImage: POD_INFRA_IMAGE, dockerCli: dockerStandIn, podCidr: '' });
    assert.deepEqual(JSON.parse(response.info.docker!), INFO);
    const host = JSON.parse(response.info.host!);
    assert.equal(host.cgroupDriver, 'systemd');
    assert.equal(host.seccomp, true);
  });

  test('Status: not ready, with a reason and Docker\'s words, when docker info fails', async () => {
    fake.dockerDown = true;
    const response = await client.callRuntime('Status', {});
    const runtime = response.status!.conditions.find((c) => c.type === 'RuntimeReady')!;
    const network = response.status!.conditions.find((c) => c.type === 'NetworkReady')!;
    assert.equal(runtime.status, false);
    assert.equal(runtime.reason, 'DockerDaemonNotReachable');
    assert.match(runtime.message, /Cannot connect to the Docker daemon/);
    assert.equal(network.status, false);
    assert.ok(network.reason.length > 0);
  });

  test('PullImage answers the image ID and hands the credentials to Docker', async () => {
    const response = await client.callImage('PullImage', { image: { image: 'busybox' }, auth: { username: 'alice', password: 'wonderland' } });
    assert.equal(response.imageRef, BUSYBOX_ID);
    assert.equal(fake.pulls.length, 1);
    assert.equal(fake.pulls[0]!.ref, 'busybox');
    assert.equal(fake.pulls[0]!.auth?.username, 'alice');
    assert.equal(fake.pulls[0]!.auth?.password, 'wonderland');
  });

  test('PullImage: Docker\'s not-found reaches the client as NOT_FOUND with Docker\'s words', async () => {
    const ref = 'localhost:5000/does-not-exist:1';
    const error = await rejectsWith(client.callImage('PullImage', { image: { image: ref } }), status.NOT_FOUND, /manifest for localhost:5000\/does-not-exist:1 not found: manifest unknown/);
    assert.ok(error.details.includes(`pulling image "${ref}"`), error.details);
    assert.deepEqual(fake.pulls.map((p) => p.ref), [ref]);
  });

  test('PullImage with an empty reference is INVALID_ARGUMENT and never reaches Docker', async () => {
    await rejectsWith(client.callImage('PullImage', { image: { image: '  ' } }), status.INVALID_ARGUMENT, /image reference is empty/);
    assert.equal(fake.pulls.length, 0);
  });

  test('ImageStatus of an absent image: no image, no error', async () => {
    const response = await client.callImage('ImageStatus', { image: { image: 'nosuch:latest' } });
    assert.equal(response.image, null);
    assert.deepEqual(response.info, {});
  });

  test('ImageStatus of a present image: the CRI image; verbose adds Docker\'s inspect', async () => {
    const response = await client.callImage('ImageStatus', { image: { image: 'busybox' }, verbose: true });
    const image = response.image!;
    assert.equal(image.id, BUSYBOX_ID);
    assert.deepEqual(image.repoTags, ['busybox:latest']);
    assert.equal(image.size, '4261550');
    assert.equal(image.uid?.value, '1000');
    assert.equal(image.pinned, false);
    assert.deepEqual(JSON.parse(response.info.info!), BUSYBOX);
  });

  test('ListImages: every image, the pod infra image pinned; a filter narrows the list', async () => {
    const all = await client.callImage('ListImages', {});
    assert.deepEqual(
      all.images.map((image) => [image.id, image.pinned]),
      [
        [BUSYBOX_ID, false],
        [PAUSE_ID, true],
      ],
    );
    const filtered = await client.callImage('ListImages', { filter: { image: { image: 'docker.io/library/busybox:latest' } } });
    assert.deepEqual(filtered.images.map((image) => image.id), [BUSYBOX_ID]);
  });

  test('a plain Error thrown by Docker code becomes INTERNAL, prefixed with what was being done', async () => {
    await rejectsWith(client.callImage('PullImage', { image: { image: 'localhost:5000/plain-error' } }), status.INTERNAL, /^pulling image "localhost:5000\/plain-error": the fake was told to fail$/);
  });

  test('RemoveImage removes through Docker (by the ID the name resolves to)', async () => {
    await client.callImage('RemoveImage', { image: { image: 'busybox' } });
    assert.deepEqual(fake.removed, [BUSYBOX_ID]);
  });

  test('ImageFsInfo sums the image sizes', async () => {
    const response = await client.callImage('ImageFsInfo', {});
    assert.equal(response.imageFilesystems.length, 1);
    assert.equal(response.imageFilesystems[0]!.usedBytes?.value, String(BUSYBOX.Size + PAUSE.Size));
    assert.equal(response.imageFilesystems[0]!.fsId?.mountpoint, '/');
  });

  test('CheckpointContainer: NOT_FOUND for an unknown container (see runtime-info.test.ts for the refusal)', async () => {
    await rejectsWith(client.callRuntime('CheckpointContainer', { containerId: 'x' }), status.NOT_FOUND, /checkpointing container "x": no container with that ID/);
  });

  test('an RPC without a handler answers UNIMPLEMENTED naming itself', async () => {
    const impl = implement('RuntimeService', criService('RuntimeService'), {}, silentLogger);
    const call = { request: {}, signal: new AbortController().signal, cancelled: false };
    const answer = await (impl.Version as UnaryImplementation)(call).then(
      () => null,
      (error: Partial<StatusObject>) => error,
    );
    assert.equal(answer?.code, status.UNIMPLEMENTED);
    assert.match(answer?.details ?? '', /RuntimeService\.Version/);
  });

  test('a handler that takes the signal gets the call\'s own; the others a signal that never aborts, and the call\'s is never made', async () => {
    const signals: AbortSignal[] = [];
    const impl = implement('RuntimeService', criService('RuntimeService'), {
      RuntimeService: {
        Version: async () => ({ version: '0.1.0', runtimeName: 'x', runtimeVersion: '1', runtimeApiVersion: 'v1' }),
        ExecSync: async (_request, signal) => {
          signals.push(signal);
          return { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 };
        },
      },
    }, silentLogger);
    const own = new AbortController();
    let made = 0;
    const call = (controller: AbortController) => ({
      request: {},
      cancelled: false,
      get signal() {
        made++;
        return controller.signal;
      },
    });
    await (impl.Version as UnaryImplementation)(call(own));
    assert.equal(made, 0, 'Version does not take a signal: none made');
    await (impl.ExecSync as UnaryImplementation)(call(own));
    assert.equal(made, 1);
    assert.equal(signals[0], own.signal);
  });

  test('each unary call is told to unaryCalls as it begins and ends, answered, failed or unimplemented (the idle collector waits for none in flight)', async () => {
    const seen: string[] = [];
    let release = () => undefined as void;
    const impl = implement(
      'RuntimeService',
      criService('RuntimeService'),
      {
        RuntimeService: {
          Version: () => new Promise((resolve) => (release = () => resolve({ version: '0.1.0', runtimeName: 'x', runtimeVersion: '1', runtimeApiVersion: 'v1' }))),
          Status: async () => {
            throw new Error('broken');
          },
        },
      },
      silentLogger,
      undefined,
      { callStarted: () => seen.push('started'), callEnded: () => seen.push('ended') },
    );
    const call = { request: {}, signal: new AbortController().signal, cancelled: false };
    const version = (impl.Version as UnaryImplementation)(call);
    assert.deepEqual(seen, ['started'], 'in flight until its handler answers');
    release();
    await version;
    await (impl.Status as UnaryImplementation)(call).catch(() => undefined);
    await (impl.RuntimeConfig as UnaryImplementation)(call).catch(() => undefined); // no handler: UNIMPLEMENTED
    assert.deepEqual(seen, ['started', 'ended', 'started', 'ended', 'started', 'ended']);
  });

  test('RuntimeConfig reports Docker\'s cgroup driver; UpdateRuntimeConfig accepts the pod CIDR', async () => {
    const config = await client.callRuntime('RuntimeConfig', {});
    assert.equal(config.linux?.cgroupDriver, 'SYSTEMD');
    await client.callRuntime('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr: '10.244.0.0/24' } } });
  });

  test('StreamImages sends what ListImages answers, then ends', async () => {
    const listed = await client.callImage('ListImages', {});
    const batches: Array<{ images: unknown[] }> = [];
    await new Promise<void>((resolve, reject) => {
      const stream = client.image.StreamImages({});
      stream.on('data', (batch: { images: unknown[] }) => batches.push(batch));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    assert.deepEqual(batches.flatMap((b) => b.images), listed.images);
  });

  test('the operator endpoint: /healthz, /metrics with per-method counts, and the CRI as JSON', async () => {
    const base = server.operator!.url;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'ok\n');

    await client.callRuntime('Version', {});
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^mascri_grpc_requests_total\{method="RuntimeService\/Version",code="OK"\} [1-9]\d*$/m);
    assert.match(metrics, /^mascri_grpc_request_duration_seconds_count\{method="RuntimeService\/Version"\} [1-9]/m);
    assert.match(metrics, new RegExp(`^mascri_build_info\\{version="[^"]+",instance_name="${UNIT_INSTANCE}",docker_cli="[^"]+"\\} 1$`, 'm'));

    const images = await fetch(`${base}/v1/image/list`, { method: 'POST', body: '{}' });
    assert.equal(images.status, 200);
    assert.deepEqual(((await images.json()) as { images: Array<{ id: string }> }).images.map((i) => i.id), [BUSYBOX_ID, PAUSE_ID]);

    const missing = await fetch(`${base}/v1/runtime/sandbox/status`, { method: 'POST', body: JSON.stringify({ pod_sandbox_id: 'nope' }) });
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, 'NotFound');

    assert.equal((await fetch(`${base}/v1/image/list`, { method: 'POST', body: '{not json' })).status, 400);
    assert.equal((await fetch(`${base}/v1/image/list`)).status, 405);
    assert.equal((await fetch(`${base}/nowhere`)).status, 404);
  });

});

describe('MascriServer with an instance name', () => {
  test('Status verbose shows the instance', async () => {
    const instanceDir = mkdtempSync(join(tmpdir(), 'mascri-instance-'));
    const instanceEndpoint = `unix://${join(instanceDir, 'mascri.sock')}`;
    const server = await MascriServer.start({ listen: instanceEndpoint, docker, log: silentLogger, podInfraImage: POD_INFRA_IMAGE, stateDir: join(instanceDir, 'state'), instance: `${UNIT_INSTANCE}-a` });
    const client = new CriClient(instanceEndpoint, instanceEndpoint, 5000);
    try {
      const response = await client.callRuntime('Status', { verbose: true });
      assert.equal(JSON.parse(response.info.config!).instance, `${UNIT_INSTANCE}-a`);
    } finally {
      client.close();
      await server.stop();
      rmSync(instanceDir, { recursive: true, force: true });
    }
  });

  test('a name that is not a DNS label is refused with INVALID_ARGUMENT before the socket is claimed', async () => {
    const instanceDir = mkdtempSync(join(tmpdir(), 'mascri-instance-'));
    const path = join(instanceDir, 'mascri.sock');
    try {
      await assert.rejects(
        MascriServer.start({ listen: `unix://${path}`, docker, log: silentLogger, podInfraImage: POD_INFRA_IMAGE, stateDir: join(instanceDir, 'state'), instance: 'Node_A' }),
        (error: { code: number; message: string }) => error.code === status.INVALID_ARGUMENT && /instance name "Node_A" is not valid/.test(error.message),
      );
      assert.equal(existsSync(path), false);
    } finally {
      rmSync(instanceDir, { recursive: true, force: true });
    }
  });
});
