import assert from 'node:assert/strict';
import { test } from 'node:test';
import { layerMountpoint, WritableLayerUsage, type DiskUsage } from './writable-layer.js';

test('walks are cached for a few seconds, refreshed in the background, and never run twice at once', async () => {
  let now = 0;
  let walks = 0;
  let release: (() => void) | undefined;
  const walk = (): Promise<DiskUsage> => {
    walks++;
    return new Promise((resolve) => (release = () => resolve({ bytes: BigInt(walks), inodes: 1n })));
  };
  const layers = new WritableLayerUsage(walk, () => now, 20);
  const first = layers.usage('c', '/x');
  const again = layers.usage('c', '/x');
  assert.equal(await first, undefined, 'a slow first walk is not waited for');
  assert.equal(await again, undefined);
  assert.equal(walks, 1);
  release!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await layers.usage('c', '/x'), { bytes: 1n, inodes: 1n }, 'the finished walk is answered');
  now = 6000;
  assert.deepEqual(await layers.usage('c', '/x'), { bytes: 1n, inodes: 1n }, 'stale figure while refreshing');
  assert.equal(walks, 2);
  release!();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await layers.usage('c', '/x'), { bytes: 2n, inodes: 1n });
});

test('the layer filesystem is the Docker root the overlay2 directory lives in', () => {
  assert.equal(layerMountpoint('/var/lib/docker/overlay2/abc/diff'), '/var/lib/docker');
  assert.equal(layerMountpoint('/data/docker/overlay2/abc/diff'), '/data/docker');
  assert.equal(layerMountpoint('/elsewhere/diff'), '/elsewhere/diff');
});
