/**
 * When the Docker daemon goes away: Status says RuntimeReady false, image calls fail with UNAVAILABLE,
 * the server keeps running, and everything recovers when the daemon is back. The daemon is reached
 * through a relay the test can cut, so the real engine keeps running for the other tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BUSYBOX, DaemonRelay, MascriServer, waitFor } from '../helpers.js';

describe('Docker daemon unreachable', () => {
  let relay: DaemonRelay;
  let server: MascriServer;
  before(async () => {
    relay = new DaemonRelay();
    await relay.up();
    server = await MascriServer.start({ env: { DOCKER_HOST: relay.dockerHost } });
  });
  after(async () => {
    await server.stop();
    await relay.dispose();
  });

  test('RuntimeReady false and UNAVAILABLE while down; recovered when back', async () => {
    const ready = await server.client.callRuntime('Status', {});
    assert.equal(ready.status!.conditions.find((c) => c.type === 'RuntimeReady')?.status, true);

    await relay.down();
    const down = await server.client.callRuntime('Status', {});
    const runtimeReady = down.status!.conditions.find((c) => c.type === 'RuntimeReady')!;
    assert.equal(runtimeReady.status, false);
    assert.equal(runtimeReady.reason, 'DockerDaemonNotReachable');
    assert.match(runtimeReady.message, /Cannot connect to the Docker daemon/);
    // The image reads answer from memory while its event stream runs: once mascri has seen the
    // stream end, they go to Docker and fail as the writes do.
    await waitFor('the image store to notice the daemon is gone', async () =>
      server.client.callImage('ListImages', {}).then(
        () => undefined,
        () => true,
      ),
    );
    for (const call of [
      () => server.client.callImage('ListImages', {}),
      () => server.client.callImage('ImageStatus', { image: { image: BUSYBOX } }),
      () => server.client.callImage('PullImage', { image: { image: BUSYBOX } }),
      () => server.client.callImage('RemoveImage', { image: { image: 'localhost:5000/whatever:1' } }),
    ]) {
      await assert.rejects(call(), (error: { code: number; details: string }) => {
        assert.equal(error.code, GrpcCode.UNAVAILABLE, error.details);
        assert.match(error.details, /Docker daemon/);
        return true;
      });
    }
    // Version and ImageFsInfo never fail while the server lives.
    assert.equal((await server.client.callRuntime('Version', {})).runtimeName, 'mascri');
    await server.client.callImage('ImageFsInfo', {});

    const info = await server.cli(['info']);
    assert.equal(info.code, 0, info.stderr);
    assert.equal(JSON.parse(info.stdout).status.conditions[0].status, false);
    const images = await server.cli(['images']);
    assert.notEqual(images.code, 0);
    assert.match(images.stderr, /Unavailable/);

    await relay.up();
    const back = await server.client.callRuntime('Status', {});
    assert.equal(back.status!.conditions.find((c) => c.type === 'RuntimeReady')?.status, true);
    const list = await waitFor('the image store to reload', async () => server.client.callImage('ListImages', {}).catch(() => undefined));
    assert.ok(list.images.length > 0);
  });
});
