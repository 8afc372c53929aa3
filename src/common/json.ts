/** Parsing JSON that comes from a file or a peer, where anything else is "not one". Pure. */

/** The JSON object `text` holds; undefined when it is not JSON or not an object (null and arrays are not). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}
