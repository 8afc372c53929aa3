/** CRI list filters, as pure predicates. */

/** True when every key=value of the selector is among the labels. */
export function matchesLabelSelector(labels: Record<string, string>, selector: Record<string, string> | undefined | null): boolean {
  for (const [key, value] of Object.entries(selector ?? {})) if (labels[key] !== value) return false;
  return true;
}

/** True when `id` is the wanted ID or starts with it (an empty filter matches everything). */
export function matchesIdPrefix(id: string, wanted: string | undefined | null): boolean {
  return !wanted || id.startsWith(wanted);
}

/** True when a list filter selects everything (absent, or every field empty). */
export function isEmptyFilter(filter: { id?: string; state?: unknown; labelSelector?: Record<string, string>; podSandboxId?: string } | null | undefined): boolean {
  if (!filter) return true;
  return !filter.id && !filter.state && !filter.podSandboxId && Object.keys(filter.labelSelector ?? {}).length === 0;
}
