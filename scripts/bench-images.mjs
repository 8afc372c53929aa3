// Extra images for the benchmark's ListImages: `count` distinct images (a config of their own each,
// told apart by a label; the layer is busybox's, shared) in one `docker save`-format archive that
// both `docker load` and containerd's `ctr images import` read. Extra tags of one image would not
// do: the CRI lists an image once, with all its tags. Used by scripts/bench.mjs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The label that marks the images, with the run as its value: `docker images --filter label=...` finds them. */
export const IMAGE_LABEL = 'io.mascri.bench-image';

/** Writes the archive into `dir` and answers its path and the images' references. */
export function makeImageArchive({ dir, base, count, run }) {
  const work = join(dir, 'images');
  mkdirSync(work, { recursive: true });
  execFileSync('sh', ['-c', 'docker save "$1" | tar -x -C "$2"', 'sh', base, work]);
  const [saved] = JSON.parse(readFileSync(join(work, 'manifest.json'), 'utf8'));
  const baseConfig = JSON.parse(readFileSync(join(work, saved.Config), 'utf8'));
  rmSync(join(work, saved.Config));
  rmSync(join(work, 'repositories'), { force: true });
  const manifest = [];
  const refs = [];
  for (let i = 0; i < count; i++) {
    const config = structuredClone(baseConfig);
    config.config.Labels = { ...config.config.Labels, [IMAGE_LABEL]: run, 'io.mascri.bench-image-index': String(i) };
    const text = JSON.stringify(config);
    const name = `${createHash('sha256').update(text).digest('hex')}.json`;
    writeFileSync(join(work, name), text);
    const ref = `localhost:5000/mascri-bench-image-${i}:${run}`;
    refs.push(ref);
    manifest.push({ Config: name, RepoTags: [ref], Layers: saved.Layers });
  }
  writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
  const archive = join(dir, 'images.tar');
  execFileSync('tar', ['-cf', archive, '-C', work, '.']);
  rmSync(work, { recursive: true, force: true });
  return { archive, refs };
}

/** Loads the archive into the Docker engine. */
export function loadIntoDocker(archive) {
  execFileSync('docker', ['load', '-q', '-i', archive], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Imports the archive into a containerd (the CRI's namespace, k8s.io), whose CRI sees them from its image events. */
export function importIntoContainerd(archive, socket) {
  execFileSync('ctr', ['--address', socket, '--namespace', 'k8s.io', 'images', 'import', archive], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Removes the run's images from the Docker engine. */
export function removeFromDocker(run) {
  const ids = execFileSync('docker', ['images', '-q', '--no-trunc', '--filter', `label=${IMAGE_LABEL}=${run}`]).toString().split('\n').filter(Boolean);
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 50) execFileSync('docker', ['rmi', '-f', ...unique.slice(i, i + 50)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return unique.length;
}
