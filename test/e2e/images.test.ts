/** ImageService end to end: mascri serve on a temporary socket, driven through the typed gRPC client, against the real engine. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { status as GrpcCode } from '@grpc/grpc-js';
import { BUSYBOX_NOBODY, BUSYBOX_UID1000, MascriServer, docker, dockerImageId, pushTestImage, uniqueSuffix } from '../helpers.js';

describe('ImageService over gRPC', () => {
  let server: MascriServer;
  const created: string[] = [];

  before(async () => {
    server = await MascriServer.start();
  });

  after(async () => {
    for (const ref of created) await docker(['rmi', '-f', ref]);
    await server.stop();
  });

  test('PullImage returns the image ID that Docker has, and ListImages lists it', async () => {
    const ref = await pushTestImage(`e2e-pull:${uniqueSuffix()}`);
    created.push(ref);
    assert.equal(await dockerImageId(ref), '', 'the test image starts absent locally');

    const pulled = await server.client.callImage('PullImage', { image: { image: ref } });
    assert.match(pulled.imageRef, /^sha256:[0-9a-f]{64}$/);
    assert.equal(pulled.imageRef, await dockerImageId(ref));

    const all = await server.client.callImage('ListImages', {});
    const listed = all.images.find((image) => image.id === pulled.imageRef);
    assert.ok(listed, 'ListImages includes the pulled image');
    assert.ok(listed.repoTags.includes(ref));
    assert.ok(Number(listed.size) > 0);
    assert.deepEqual(listed.uid, { value: '1000' });

    const filtered = await server.client.callImage('ListImages', { filter: { image: { image: ref } } });
    assert.deepEqual(filtered.images.map((image) => image.id), [pulled.imageRef]);
  });

  test('ImageStatus reports tags, digests, size and the configured user', async () => {
    await server.client.callImage('PullImage', { image: { image: BUSYBOX_NOBODY } });
    await server.client.callImage('PullImage', { image: { image: BUSYBOX_UID1000 } });

    const nobody = await server.client.callImage('ImageStatus', { image: { image: BUSYBOX_NOBODY }, verbose: true });
    assert.ok(nobody.image);
    assert.equal(nobody.image.id, await dockerImageId(BUSYBOX_NOBODY));
    assert.ok(nobody.image.repoTags.includes(BUSYBOX_NOBODY));
    assert.ok(nobody.image.repoDigests.some((digest) => digest.startsWith('localhost:5000/busybox@sha256:')));
    assert.equal(nobody.image.username, 'nobody');
    assert.equal(nobody.image.uid, null);
    assert.ok(nobody.info.info, 'verbose adds the inspect JSON');
    assert.equal(JSON.parse(nobody.info.info!).Id, nobody.image.id);

    const numeric = await server.client.callImage('ImageStatus', { image: { image: BUSYBOX_UID1000 }, verbose: false });
    assert.deepEqual(numeric.image?.uid, { value: '1000' });
    assert.equal(numeric.image?.username, '');
    assert.deepEqual(numeric.info, {});

    const byId = await server.client.callImage('ImageStatus', { image: { image: nobody.image.id } });
    assert.equal(byId.image?.id, nobody.image.id, 'an image can be named by its ID');
  });

  test('ImageStatus of an absent image is an empty answer, not an error', async () => {
    const response = await server.client.callImage('ImageStatus', { image: { image: `localhost:5000/absent-${uniqueSuffix()}:1` } });
    assert.equal(response.image, null);
  });

  test('RemoveImage removes the image with all its tags, and removing it again succeeds', async () => {
    const ref = await pushTestImage(`e2e-rmi:${uniqueSuffix()}`);
    const second = `${ref}-alias`;
    created.push(ref, second);
    const { imageRef } = await server.client.callImage('PullImage', { image: { image: ref } });
    assert.equal((await docker(['tag', ref, second])).code, 0);

    await server.client.callImage('RemoveImage', { image: { image: ref } });
    assert.equal(await dockerImageId(ref), '');
    assert.equal(await dockerImageId(second), '', 'every tag of the image is gone');
    const after = await server.client.callImage('ListImages', {});
    assert.ok(!after.images.some((image) => image.repoTags.includes(ref)));
    assert.equal(await dockerImageId(imageRef), '', 'the image itself is gone');

    await server.client.callImage('RemoveImage', { image: { image: ref } });
  });

  test('a missing image is NOT_FOUND and a bad reference INVALID_ARGUMENT, with Docker\'s words', async () => {
    await assert.rejects(
      server.client.callImage('PullImage', { image: { image: 'localhost:5000/does-not-exist:1' } }),
      (error: { code: number; details: string }) => {
        assert.equal(error.code, GrpcCode.NOT_FOUND);
        assert.match(error.details, /does-not-exist:1/);
        assert.match(error.details, /not found|manifest unknown/);
        return true;
      },
    );
    await assert.rejects(server.client.callImage('PullImage', { image: { image: 'Bad//Ref' } }), (error: { code: number; details: string }) => {
      assert.equal(error.code, GrpcCode.INVALID_ARGUMENT);
      assert.match(error.details, /invalid reference format/);
      return true;
    });
    await assert.rejects(server.client.callImage('PullImage', { image: { image: '' } }), (error: { code: number }) => error.code === GrpcCode.INVALID_ARGUMENT);
  });

  test('PullImage with credentials passes them to Docker without leaving them anywhere', async () => {
    const ref = await pushTestImage(`e2e-auth:${uniqueSuffix()}`);
    created.push(ref);
    const secret = `s3cret-${uniqueSuffix()}`;
    const before = readdirSync('/dev/shm').filter((name) => /^mascri-\d+-auth-/.test(name));
    const pulled = await server.client.callImage('PullImage', { image: { image: ref }, auth: { username: 'tester', password: secret } });
    assert.equal(pulled.imageRef, await dockerImageId(ref));
    const afterPull = readdirSync('/dev/shm').filter((name) => /^mascri-\d+-auth-/.test(name));
    assert.deepEqual(afterPull, before, 'the temporary Docker config is deleted');
    assert.ok(!server.logs.includes(secret), 'the password never reaches the log');
    assert.ok(server.logs.includes('PullImage'), 'the debug log has a line per RPC');
  });

  test('ImageFsInfo reports the Docker image filesystem', async () => {
    const info = await server.client.callImage('ImageFsInfo', {});
    const [fs] = info.imageFilesystems;
    assert.ok(fs);
    const root = (await docker(['info', '--format', '{{.DockerRootDir}}'])).stdout.trim();
    assert.equal(fs.fsId?.mountpoint, root);
    assert.ok(Number(fs.usedBytes?.value) > 0);
    assert.ok(Number(fs.inodesUsed?.value) > 0);
    assert.ok(Number(fs.timestamp) > 1.6e18, 'timestamp is in nanoseconds');
    const [containers] = info.containerFilesystems;
    assert.equal(containers?.fsId?.mountpoint, root, 'container writable layers live on the same filesystem');
    assert.ok(Number(containers?.usedBytes?.value) >= 0);
  });
});
