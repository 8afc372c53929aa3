import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelFileText } from './labels.js';
import { tempPrefix } from './children.js';

/**
 * Runs `fn` with the arguments that give a docker create/run `labels` (`--label-file <path>`):
 * the file is written in a fresh private directory (0700, the file 0600) and removed as soon as
 * `fn` ends, whatever its outcome. No labels, no file.
 */
export async function withLabelFile<T>(labels: Record<string, string>, fn: (args: string[]) => Promise<T>): Promise<T> {
  if (Object.keys(labels).length === 0) return fn([]);
  const text = labelFileText(labels);
  const dir = await mkdtemp(join(tmpdir(), `${tempPrefix()}labels-`));
  try {
    const path = join(dir, 'labels');
    await writeFile(path, text, { mode: 0o600, flag: 'wx' });
    return await fn(['--label-file', path]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
