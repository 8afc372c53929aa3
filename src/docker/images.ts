import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument } from '../common/errors.js';
import type { DockerCli } from './cli.js';
import { DockerError } from './errors.js';
import { parseJsonLines } from './cli.js';
import { authConfigKey, parseReference } from './reference.js';
import type { DockerImageInspect } from './types.js';
import { tempPrefix } from './children.js';

/** Registry credentials, as the CRI's AuthConfig carries them. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** base64("user:password"), as in Docker's config.json. */
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export const PULL_TIMEOUT_MS = 10 * 60_000;

/** Docker image operations: pull, inspect, list, remove. */
export class DockerImages {
  constructor(private readonly docker: DockerCli) {}

  /** Inspects one image by name, ID, ID prefix or digest; undefined when Docker has no such image. */
  async inspect(ref: string): Promise<DockerImageInspect | undefined> {
    try {
      const [image] = await this.docker.runJsonLines<DockerImageInspect>(['image', 'inspect', '--format', '{{json .}}', '--', ref]);
      return image;
    } catch (error) {
      if (error instanceof DockerError && error.kind === 'not-found') return undefined;
      if (error instanceof DockerError && error.kind === 'invalid-argument') return undefined;
      throw error;
    }
  }

  /** Every tagged or untagged top-level image, fully inspected (two docker calls). */
  async list(): Promise<DockerImageInspect[]> {
    const { stdout } = await this.docker.run(['image', 'ls', '--quiet', '--no-trunc']);
    const ids = [...new Set(stdout.split('\n').map((line) => line.trim()).filter(Boolean))];
    // An image removed between the two calls is left out.
    return this.inspectAll(ids);
  }

  /** Inspects images by name, ID or digest in one call; those Docker does not have are left out. */
  async inspectAll(refs: readonly string[]): Promise<DockerImageInspect[]> {
    if (refs.length === 0) return [];
    try {
      return await this.docker.runJsonLines<DockerImageInspect>(['image', 'inspect', '--format', '{{json .}}', '--', ...refs]);
    } catch (error) {
      // Docker prints the images it found and fails for the others: keep the found ones.
      if (error instanceof DockerError && (error.kind === 'not-found' || error.kind === 'invalid-argument')) return parseJsonLines<DockerImageInspect>(error.stdout);
      throw error;
    }
  }

  /**
   * Pulls an image. Credentials, when given, go to a private temporary Docker config
   * (memory-backed where the host has /dev/shm) that is deleted as soon as the pull ends.
   */
  async pull(ref: string, auth?: RegistryAuth, signal?: AbortSignal): Promise<void> {
    const args = ['pull', '--quiet', '--', ref];
    if (!auth || !hasCredentials(auth)) {
      await this.docker.run(args, { timeoutMs: PULL_TIMEOUT_MS, signal });
      return;
    }
    const parsed = parseReference(ref);
    if (!parsed) throw invalidArgument(`image reference "${ref}" is not a valid reference`);
    const server = auth.serverAddress?.trim() || authConfigKey(parsed);
    const env = await this.temporaryConfigEnv();
    const dir = await mkdtemp(join(await privateTempRoot(), `${tempPrefix()}auth-`));
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [server]: dockerAuthEntry(auth) } }), { mode: 0o600 });
      await this.docker.run(args, { timeoutMs: PULL_TIMEOUT_MS, signal, env: { ...env, DOCKER_CONFIG: dir } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * Removes an image with all its tags (the CRI removes images, not tags).
   * Returns false when there was no such image.
   */
  async remove(ref: string): Promise<boolean> {
    const image = await this.inspect(ref);
    if (!image) return false;
    const tags = (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>');
    try {
      // Untagging every name removes the image once the last one goes; an untagged image goes by ID.
      await this.docker.run(['image', 'rm', '--', ...(tags.length > 0 ? tags : [image.Id])]);
      if (tags.length > 0 && (await this.inspect(image.Id))) await this.docker.run(['image', 'rm', '--', image.Id]);
    } catch (error) {
      if (error instanceof DockerError && error.kind === 'not-found') return true;
      throw error;
    }
    return true;
  }

  /** Environment that keeps the current Docker endpoint when DOCKER_CONFIG points elsewhere. */
  private async temporaryConfigEnv(): Promise<Record<string, string>> {
    if (process.env.DOCKER_HOST) return {};
    try {
      const endpoint = await this.docker.runJson<{ Host?: string }>(['context', 'inspect', '--format', '{{json .Endpoints.docker}}'], { timeoutMs: 5000 });
      return endpoint.Host ? { DOCKER_HOST: endpoint.Host } : {};
    } catch {
      return {};
    }
  }
}

/** True when the auth config carries anything to authenticate with. */
export function hasCredentials(auth: RegistryAuth): boolean {
  return Boolean(auth.username || auth.password || auth.auth || auth.identityToken || auth.registryToken);
}

/** The config.json "auths" entry Docker understands for these credentials. */
export function dockerAuthEntry(auth: RegistryAuth): Record<string, string> {
  const entry: Record<string, string> = {};
  if (auth.auth) entry.auth = auth.auth;
  else if (auth.username || auth.password) entry.auth = Buffer.from(`${auth.username ?? ''}:${auth.password ?? ''}`).toString('base64');
  if (auth.identityToken) entry.identitytoken = auth.identityToken;
  if (auth.registryToken) entry.registrytoken = auth.registryToken;
  return entry;
}

async function privateTempRoot(): Promise<string> {
  try {
    await access('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}
