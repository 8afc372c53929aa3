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
