import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelFileText } from './labels.js';
import { tempPrefix } from './children.js';

/** Labels up to this size go to docker as `--label` arguments; larger ones through a label file. */
export const LABEL_ARGS_MAX_BYTES = 64 * 1024;

/**
 * Runs `fn` with the arguments that give a docker create/run `labels`: `--label key=value` each
 * while they are small (a file costs three filesystem calls and the CLI's read on every pod start),
 * else `--label-file <path>`, written in a fresh private directory (0700, the file 0600) and removed
 * as soon as `fn` ends, whatever its outcome. Either way a label a label file could not carry as it
 * is fails first (both must give Docker the same labels). No labels, no arguments.
 */
export async function withLabelFile<T>(labels: Record<string, string>, fn: (args: string[]) => Promise<T>): Promise<T> {
  if (Object.keys(labels).length === 0) return fn([]);
  const text = labelFileText(labels);
  if (Buffer.byteLength(text, 'utf8') <= LABEL_ARGS_MAX_BYTES) {
    return fn(Object.keys(labels).sort().flatMap((key) => ['--label', `${key}=${labels[key]}`]));
  }
  const dir = await mkdtemp(join(tmpdir(), `${tempPrefix()}labels-`));
  try {
    const path = join(dir, 'labels');
    await writeFile(path, text, { mode: 0o600, flag: 'wx' });
    return await fn(['--label-file', path]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
