import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { diskUsage, layerMountpoint, WritableLayerUsage, type DiskUsage } from './writable-layer.js';

test('disk usage counts allocated blocks and inodes, hard links once, without following symlinks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mascri-layer-'));
  try {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'data'), Buffer.alloc(64 * 1024, 1));
    linkSync(join(dir, 'sub', 'data'), join(dir, 'hardlink'));
    symlinkSync('/usr', join(dir, 'link-to-usr'));
    const usage = await diskUsage(dir);
    assert.equal(usage.inodes, 4n, 'dir, sub, data (once), the symlink');
    assert.ok(usage.bytes >= 64n * 1024n, `${usage.bytes} bytes`);
    assert.ok(usage.bytes < 1024n * 1024n, 'the symlink target is not walked');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing directory walks to nothing', async () => {
  assert.deepEqual(await diskUsage('/nonexistent/mascri'), { bytes: 0n, inodes: 0n });
});

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
