/** CRI messages from JSON by reflection over the .proto: shared by the client's config files and the server's JSON-over-HTTP endpoint. */
import protobuf from 'protobufjs';
import type { Enum, Field, MapField, Type } from 'protobufjs';
import { PROTO_PATH } from './definition.js';

/** A JSON value that does not fit the CRI message it should be; the message names the source and the field. */
export class MessageJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MessageJsonError';
  }
}

let cachedRoot: protobuf.Root | undefined;

/** The .proto as protobufjs reflection, snake_case names kept (what crictl's files use). */
function protoRoot(): protobuf.Root {
  if (!cachedRoot) {
    cachedRoot = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
    cachedRoot.resolveAll();
  }
  return cachedRoot;
}

/** A message type's fields by every name a file may use for them: snake_case and camelCase. */
const fieldIndexes = new WeakMap<Type, Map<string, Field>>();

function fieldIndex(type: Type): Map<string, Field> {
  let index = fieldIndexes.get(type);
  if (!index) {
    index = new Map();
    for (const field of type.fieldsArray) {
      index.set(field.name, field);
      index.set(protobuf.util.camelCase(field.name), field);
    }
    fieldIndexes.set(type, index);
  }
  return index;
}

/** Where in the file a value sits, for error messages: `linux.security_context.namespace_options.network`. */
class Location {
  constructor(
    readonly source: string,
    readonly path: string,
  ) {}

  child(key: string): Location {
    return new Location(this.source, this.path === '' ? key : `${this.path}.${key}`);
  }

  item(index: number | string): Location {
    return new Location(this.source, `${this.path}[${index}]`);
  }

  fail(problem: string): MessageJsonError {
    return new MessageJsonError(this.path === '' ? `${this.source}: ${problem}` : `${this.source}: field "${this.path}": ${problem}`);
  }
}

/**
 * Validates a JSON value (from a crictl-format file) against a CRI message type and returns
 * it in the shape the gRPC client sends: camelCase keys, 64-bit integers as decimal strings,
 * enums by name, bytes as Buffers. Accepts snake_case or camelCase names, enums by number
 * or name, 64-bit integers as numbers or strings; `null` means absent.
 */
export function parseMessageJson(typeName: string, value: unknown, source: string): Record<string, unknown> {
  const type = protoRoot().lookupType(typeName);
  return convertMessage(type, value, new Location(source, ''));
}

function convertMessage(type: Type, value: unknown, at: Location): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw at.fail(`expected an object (${type.name}), got ${describe(value)}`);
  }
  const index = fieldIndex(type);
  const out: Record<string, unknown> = {};
  const seen = new Map<Field, string>();
  for (const [key, item] of Object.entries(value)) {
    const field = index.get(key);
    if (!field) {
      const path = at.child(key).path;
      throw new MessageJsonError(`${at.source}: unknown field "${path}"${suggestion(key, type)}`);
    }
    const earlier = seen.get(field);
    if (earlier !== undefined) throw at.child(key).fail(`given twice (also as "${earlier}")`);
    seen.set(field, key);
    if (item === null || item === undefined) continue;
    out[protobuf.util.camelCase(field.name)] = convertField(field, item, at.child(key));
  }
  return out;
}

function convertField(field: Field, value: unknown, at: Location): unknown {
  if (field.map) {
    if (!isPlainObject(value)) throw at.fail(`expected an object (a map), got ${describe(value)}`);
    const keyType = (field as unknown as MapField).keyType;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (keyType !== 'string' && keyType !== 'bool' && !/^-?\d+$/.test(key)) throw at.item(key).fail(`map key must be an integer (${keyType})`);
      if (item === null) throw at.item(key).fail(`expected ${expected(field)}, got null`);
      out[key] = convertSingle(field, item, at.item(key));
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw at.fail(`expected an array, got ${describe(value)}`);
    return value.map((item, i) => {
      if (item === null) throw at.item(i).fail(`expected ${expected(field)}, got null`);
      return convertSingle(field, item, at.item(i));
    });
  }
  return convertSingle(field, value, at);
}

/** One value of a field's element type (a scalar, an enum or a message). */
function convertSingle(field: Field, value: unknown, at: Location): unknown {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return convertMessage(resolved, value, at);
  if (resolved instanceof protobuf.Enum) return convertEnum(resolved, value, at);
  if (field.type === 'bytes' && field.parent?.fullName === '.runtime.v1.KeyValue') {
    // crictl reads KeyValue.value (environment values) as a plain string, not base64.
    if (typeof value !== 'string') throw at.fail(`expected a string, got ${describe(value)}`);
    return Buffer.from(value, 'utf8');
  }
  return convertScalar(field.type, value, at);
}

/** An enum given by name ("NODE") or number (2), as its name. */
function convertEnum(type: Enum, value: unknown, at: Location): string {
  if (typeof value === 'string' && Object.hasOwn(type.values, value)) return value;
  if (typeof value === 'number' && Number.isInteger(value)) {
    const name = type.valuesById[value];
    if (name !== undefined) return name;
  }
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw at.fail(`expected an enum value (${type.name}: ${enumChoices(type)}), got ${describe(value)}`);
  }
  throw at.fail(`unknown enum value ${JSON.stringify(value)} (expected one of ${enumChoices(type)})`);
}

/** "POD, CONTAINER, NODE, TARGET or 0-3" */
function enumChoices(type: Enum): string {
  const numbers = [...new Set(Object.values(type.values))].sort((a, b) => a - b);
  const contiguous = numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1);
  const numberText = contiguous && numbers.length > 2 ? `${numbers[0]}-${numbers[numbers.length - 1]}` : numbers.join(', ');
  return `${Object.keys(type.values).join(', ')} or ${numberText}`;
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

function convertScalar(type: string, value: unknown, at: Location): unknown {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw at.fail(`expected a string, got ${describe(value)}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw at.fail(`expected true or false, got ${describe(value)}`);
      return value;
    case 'bytes':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) {
        throw at.fail(`expected base64-encoded bytes, got ${describe(value)}`);
      }
      return Buffer.from(value, 'base64');
    case 'double':
    case 'float':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && (['NaN', 'Infinity', '-Infinity'].includes(value) || (value.trim() !== '' && Number.isFinite(Number(value))))) {
        return Number(value);
      }
      throw at.fail(`expected a number, got ${describe(value)}`);
  }
  const range = INT_RANGES[type];
  if (!range) throw at.fail(`unsupported field type ${type}`);
  const integer = toBigInt(value);
  if (integer === undefined) throw at.fail(`expected an integer (${type}), got ${describe(value)}`);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw at.fail(`${describe(value)} is too large to be exact as a JSON number; write it as a string`);
  }
  if (integer < range[0] || integer > range[1]) throw at.fail(`${describe(value)} is out of range for ${type} (${range[0]} to ${range[1]})`);
  // 64-bit integers travel as decimal strings (longs: String), 32-bit ones as numbers.
  return type.endsWith('64') ? integer.toString() : Number(integer);
}

/** An integral JSON number or decimal string as a bigint; undefined for anything else. */
function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return BigInt(value.trim());
  return undefined;
}

function expected(field: Field): string {
  if (field.resolvedType instanceof protobuf.Type) return `an object (${field.resolvedType.name})`;
  if (field.resolvedType instanceof protobuf.Enum) return `an enum value (${field.resolvedType.name})`;
  return `a ${field.type}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** How a wrong value is shown in an error: strings quoted and shortened, containers by kind. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value);
  return String(value);
}

/** ` (did you mean "name"?)` when a field of the type is a near miss of the unknown key. */
function suggestion(key: string, type: Type): string {
  // Offer the spelling the key seems to use: camelCase when it has capitals, else snake_case.
  const names = type.fieldsArray.map((field) => (/[A-Z]/.test(key) ? protobuf.util.camelCase(field.name) : field.name));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best !== undefined && bestDistance <= Math.max(1, Math.floor(key.length / 4)) ? ` (did you mean "${best}"?)` : '';
}

/** Levenshtein distance, with adjacent transpositions (optimal string alignment). */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // A swap of two neighbours ("nmae") counts as one edit.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) current[j] = Math.min(current[j]!, beforePrevious[j - 2]! + 1);
    }
    [beforePrevious, previous] = [previous, current];
  }
  return previous[b.length]!;
}
