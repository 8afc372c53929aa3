/**
 * JSON as crictl prints it. Two shapes:
 * - lists and stats (`ps -o json`, `images -o json`, ...): Go's protojson with EmitDefaultValues,
 *   fields in .proto order, every scalar, list and map present, unset messages left out, map keys sorted;
 * - statuses (`inspect`, `inspectp`, `inspecti`, `info`, `imagefsinfo`): that JSON read back into a Go
 *   map and written with encoding/json: every object's keys sorted, `<`, `>` and `&` escaped.
 */
import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';
import { stringify as toYaml } from 'yaml';
import { PROTO_PATH } from '../cri/proto.js';

let cachedRoot: protobuf.Root | undefined;

/** The .proto as reflection, camelCase names: the keys the decoded messages have. */
function root(): protobuf.Root {
  if (!cachedRoot) {
    cachedRoot = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: false });
    cachedRoot.resolveAll();
  }
  return cachedRoot;
}

/** A CRI message type by its short name ("ListContainersResponse"). */
function messageType(name: string): Type {
  return root().lookupType(`runtime.v1.${name}`);
}

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/** A decoded message (proto-loader's output) as protojson with EmitDefaultValues prints it. */
export function protoJsonValue(typeName: string, message: unknown): unknown {
  return messageValue(messageType(typeName), message);
}

function messageValue(type: Type, message: unknown): Record<string, unknown> {
  const source = (message ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const value = source[field.name];
    if (field.map) {
      const map = (value ?? {}) as Record<string, unknown>;
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(map).sort()) sorted[key] = singleValue(field, map[key]);
      out[field.name] = sorted;
    } else if (field.repeated) {
      out[field.name] = ((value ?? []) as unknown[]).map((item) => singleValue(field, item));
    } else if (field.resolvedType instanceof protobuf.Type) {
      if (value !== null && value !== undefined) out[field.name] = messageValue(field.resolvedType, value);
    } else {
      out[field.name] = singleValue(field, value);
    }
  }
  return out;
}

function singleValue(field: Field, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageValue(resolved, value);
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'number') return resolved.valuesById[value] ?? value;
    return value ?? resolved.valuesById[0];
  }
  const type = field.type;
  if (LONG_TYPES.has(type)) return String(value ?? '0');
  switch (type) {
    case 'bool':
      return Boolean(value);
    case 'string':
      return value ?? '';
    case 'bytes':
      return value ? Buffer.from(value as Uint8Array).toString('base64') : '';
    case 'double':
    case 'float': {
      const n = Number(value ?? 0);
      return Number.isFinite(n) ? n : String(n);
    }
    default:
      return Number(value ?? 0);
  }
}

/** `-o json` of a list or stats answer: protojson, two-space indent. */
export function protoJson(typeName: string, message: unknown): string {
  return JSON.stringify(protoJsonValue(typeName, message), null, 2);
}

/**
 * `-o yaml`: crictl turns its JSON into YAML through a Go map (sigs.k8s.io/yaml), so keys come out
 * sorted, lists are not indented under their key, and strings YAML 1.1 would read as something
 * else (no, yes, times) are quoted. It ends with an empty line, as crictl's Println of it does.
 */
export function yamlOf(value: unknown): string {
  return toYaml(sortKeys(value), { version: '1.1', indentSeq: false });
}

/** Every object's keys sorted, recursively (encoding/json writes Go maps that way). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** encoding/json's output: keys sorted, `<` `>` `&` (and U+2028/9) escaped, two-space indent. */
export function goJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Prints a list or stats answer the way crictl's `-o json|yaml` does. */
export function printProto(typeName: string, message: unknown, format: 'json' | 'yaml'): void {
  const value = protoJsonValue(typeName, message);
  console.log(format === 'json' ? JSON.stringify(value, null, 2) : yamlOf(value));
}

/** Go's zero time.Time as RFC3339Nano: what crictl shows for a time that was never set. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * A status message as crictl's inspect commands shape it before writing: every top-level field of
 * the message present (an unset message as null), times (named in `times`) as RFC 3339.
 */
export function statusValue(typeName: string, message: unknown, times: Record<string, string> = {}): Record<string, unknown> {
  const json = protoJsonValue(typeName, message) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of messageType(typeName).fieldsArray) out[field.name] = field.name in times ? times[field.name] : (json[field.name] ?? null);
  return out;
}

/** camelCase back to the .proto's snake_case field name (the Go struct's json tag). */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * A message as Go's encoding/json writes the generated struct (crictl's `info` does this for
 * runtimeHandlers and features): snake_case names, zero values, empty lists and unset messages left out.
 */
export function goStructJson(typeName: string, message: unknown): Record<string, unknown> {
  return goStructValue(messageType(typeName), message);
}

function goStructValue(type: Type, message: unknown): Record<string, unknown> {
  const source = (message ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const value = source[field.name];
    if (value === null || value === undefined) continue;
    if (field.resolvedType instanceof protobuf.Type && !field.repeated && !field.map) {
      out[snakeCase(field.name)] = goStructValue(field.resolvedType, value);
      continue;
    }
    const json = field.map || field.repeated ? (protoJsonValue(type.name, { [field.name]: value }) as Record<string, unknown>)[field.name] : singleValue(field, value);
    const empty = json === false || json === 0 || json === '' || json === '0' || (Array.isArray(json) && json.length === 0) || (typeof json === 'object' && json !== null && Object.keys(json).length === 0);
    if (!empty) out[snakeCase(field.name)] = json;
  }
  return out;
}
