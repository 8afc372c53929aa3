import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/**
 * `bytes` random bytes as hex or base64url. node:crypto is loaded at the first call: the server needs
 * it only for streaming tokens and exec markers, and its modules cost `mascri serve` about 0.8 MiB of
 * RSS from the start.
 */
export function randomString(bytes: number, encoding: 'hex' | 'base64url'): string {
  const { randomBytes } = load('node:crypto') as typeof import('node:crypto');
  return randomBytes(bytes).toString(encoding);
}
