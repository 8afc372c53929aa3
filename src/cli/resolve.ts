import type { CriClient } from '../cri/client.js';
import { UsageError, truncateId } from './output.js';

/** Lists the IDs of the objects whose ID starts with a prefix (CRI list filters match IDs by prefix). */
export type IdLister = (prefix: string) => Promise<string[]>;

/**
 * The full ID a unique prefix names. An exact match wins; several matches are an error; with no
 * match the text is returned unchanged, so the runtime answers for it (NOT_FOUND, or success for
 * an idempotent stop or remove).
 */
export async function resolveIdPrefix(given: string, list: IdLister, kind: string): Promise<string> {
  if (given === '') throw new UsageError(`${kind} ID cannot be empty`);
  // Only IDs that really start with the text count, in case a runtime ignores the ID filter.
  const matches = [...new Set((await list(given)).filter((id) => id.startsWith(given)))];
  if (matches.includes(given)) return given;
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    const shown = matches.slice(0, 5).map((id) => truncateId(id)).join(', ');
    throw new UsageError(`ambiguous ID prefix "${given}": it matches ${matches.length} ${kind.endsWith('x') ? `${kind}es` : `${kind}s`} (${shown}${matches.length > 5 ? ', ...' : ''}); give more characters`);
  }
  return given;
}

/** The full ID of a pod sandbox given by ID or unique prefix (see resolveIdPrefix). */
export function resolveSandboxId(client: CriClient, given: string): Promise<string> {
  return resolveIdPrefix(
    given,
    async (prefix) => (await client.callRuntime('ListPodSandbox', { filter: { id: prefix } })).items.map((pod) => pod.id),
    'sandbox',
  );
}

/** The full ID of a container given by ID or unique prefix (see resolveIdPrefix). */
export function resolveContainerId(client: CriClient, given: string): Promise<string> {
  return resolveIdPrefix(
    given,
    async (prefix) => (await client.callRuntime('ListContainers', { filter: { id: prefix } })).containers.map((c) => c.id),
    'container',
  );
}
