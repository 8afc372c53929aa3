/**
 * A decoded CRI message as the protobuf JSON mapping prints it (what crictl prints):
 * unset sub-messages left out, bytes as base64; keys are already camelCase, 64-bit
 * integers already strings and enums already names (see LOADER_OPTIONS).
 */
export function toProtoJson(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((item) => toProtoJson(item));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const converted = toProtoJson(item);
      if (converted !== undefined) out[key] = converted;
    }
    return out;
  }
  return value;
}
