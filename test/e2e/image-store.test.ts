/**
 * Images from memory: ListImages and ImageStatus run no docker, yet follow what the docker CLI does
 * behind mascri's back (pull, tag, remove) within a second, and catch up after the daemon was away.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BUSYBOX, DaemonRelay, MascriServer, docker, dockerImageId, pushTestImage, uniqueSuffix, waitFor } from '../helpers.js';

/** How soon a change made with the docker CLI must show in mascri's answers (the promise). */
const WITHIN_MS = 1000;

describe('image store', () => {
  let relay: DaemonRelay;
  let server: MascriServer;
  const made: string[] = [];

  before(async () => {
    relay = new DaemonRelay();
    await relay.up();
    server = await MascriServer.start({ env: { DOCKER_HOST: relay.dockerHost } });
    await server.client.callImage('PullImage', { image: { image: BUSYBOX } });
  });
  after(async () => {
    await server.stop();
    await relay.dispose();
    for (const ref of made) await docker(['image', 'rm', '-f', ref]);
  });

  const listed = async (ref: string): Promise<boolean> => {
    const { images } = await server.client.callImage('ListImages', {});
    return images.some((image) => image.repoTags.includes(ref));
  };

  test('ListImages and ImageStatus run no docker command', async () => {
    // The pull in before() has an event, and the store looks at the image once more for it: let it.
    await waitFor('the pull event to be handled', async () => (/"msg":"docker image events handled"/.test(server.logs) ? true : undefined));
    const dockerCalls = () => server.logs.split('\n').filter((line) => line.includes('"msg":"docker"')).length;
    const before = dockerCalls();
    for (let i = 0; i < 20; i++) {
      await server.client.callImage('ListImages', {});
      await server.client.callImage('ListImages', { filter: { image: { image: BUSYBOX } } });
      const { image } = await server.client.callImage('ImageStatus', { image: { image: BUSYBOX } });
      assert.equal(image?.id, await dockerImageId(BUSYBOX));
      assert.equal((await server.client.callImage('ImageStatus', { image: { image: 'localhost:5000/not-here:1' } })).image, null);
    }
    assert.equal(dockerCalls() - before, 0, 'no docker call for 80 image reads');
  });

  test('an image pulled, tagged and removed with the docker CLI shows up (and goes) within a second', async () => {
    const pushed = await pushTestImage(`behind-${uniqueSuffix()}:1`);
    made.push(pushed);
    assert.equal((await docker(['pull', '--quiet', pushed])).code, 0);
    await waitFor('the pulled image in ListImages', async () => ((await listed(pushed)) ? true : undefined), WITHIN_MS);
    const { image } = await server.client.callImage('ImageStatus', { image: { image: pushed } });
    assert.equal(image?.id, await dockerImageId(pushed));

    const tag = `localhost:5000/behind-tag-${uniqueSuffix()}:2`;
    made.push(tag);
    assert.equal((await docker(['tag', pushed, tag])).code, 0);
    await waitFor('the new tag in ListImages', async () => ((await listed(tag)) ? true : undefined), WITHIN_MS);

    assert.equal((await docker(['image', 'rm', tag])).code, 0);
    await waitFor('the removed tag to leave ListImages', async () => ((await listed(tag)) ? undefined : true), WITHIN_MS);
    assert.ok(await listed(pushed), 'the image keeps its other tag');

    assert.equal((await docker(['image', 'rm', pushed])).code, 0);
    await waitFor('the removed image to leave ListImages', async () => ((await listed(pushed)) ? undefined : true), WITHIN_MS);
    assert.equal((await server.client.callImage('ImageStatus', { image: { image: pushed } })).image, null);
  });

  test('a pull and a removal through mascri show at once', async () => {
    const pushed = await pushTestImage(`through-${uniqueSuffix()}:1`);
    made.push(pushed);
    const { imageRef } = await server.client.callImage('PullImage', { image: { image: pushed } });
    assert.equal((await server.client.callImage('ImageStatus', { image: { image: pushed } })).image?.id, imageRef);
    assert.ok(await listed(pushed));
    await server.client.callImage('RemoveImage', { image: { image: pushed } });
    assert.equal(await listed(pushed), false);
    assert.equal((await server.client.callImage('ImageStatus', { image: { image: imageRef } })).image, null);
  });

  test('while the daemon is away the image calls are UNAVAILABLE; back, what changed meanwhile is seen', async () => {
    const tag = `localhost:5000/while-away-${uniqueSuffix()}:1`;
    made.push(tag);
    await relay.down();
    await waitFor('ListImages to say the daemon is unavailable', async () => {
      try {
        await server.client.callImage('ListImages', {});
        return undefined;
      } catch (error) {
        assert.equal((error as { code: number }).code, GrpcCode.UNAVAILABLE);
        return true;
      }
    });
    // Changed while mascri cannot see it: no event reaches mascri.
    assert.equal((await docker(['tag', BUSYBOX, tag])).code, 0);
    await relay.up();
    await waitFor('the reload to see the tag made while the daemon was away', async () => {
      try {
        return (await listed(tag)) ? true : undefined;
      } catch {
        return undefined; // the stream is being restarted
      }
    });
    assert.match(server.logs, /docker image events stream ended; restarting it with a full reload/);
  });
});
