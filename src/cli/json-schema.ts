/**
 * `runp|create|run|pull jsonschema`: the JSON schema of crictl's config files, made from the .proto
 * in the shape crictl's (invopop/jsonschema over the Go types) has: snake_case properties, one
 * definition per message, integers for enums and numbers, no additional properties.
 */
import type { Command } from 'commander';
import protobuf from 'protobufjs';
import type { Field, Type } from 'protobufjs';
import { PROTO_PATH } from '../cri/proto.js';

let cachedRoot: protobuf.Root | undefined;

function root(): protobuf.Root {
  if (!cachedRoot) {
    cachedRoot = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
    cachedRoot.resolveAll();
  }
  return cachedRoot;
}

type Schema = Record<string, unknown>;

function scalarSchema(field: Field): Schema {
  switch (field.type) {
    case 'string':
      return { type: 'string' };
    case 'bool':
      return { type: 'boolean' };
    case 'bytes':
      // crictl writes KeyValue.value (environment values) as plain strings.
      return field.parent?.name === 'KeyValue' ? { type: 'string' } : { type: 'string', contentEncoding: 'base64' };
    case 'double':
    case 'float':
      return { type: 'number' };
    default:
      return { type: 'integer' };
  }
}

function elementSchema(field: Field, defs: Map<string, Schema>): Schema {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    define(resolved, defs);
    return { $ref: `#/$defs/${resolved.name}` };
  }
  if (resolved instanceof protobuf.Enum) return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  return scalarSchema(field);
}

function define(type: Type, defs: Map<string, Schema>): void {
  if (defs.has(type.name)) return;
  const properties: Schema = {};
  defs.set(type.name, {});
  for (const field of type.fieldsArray) {
    if (field.map) properties[field.name] = { additionalProperties: elementSchema(field, defs), type: 'object' };
    else if (field.repeated) properties[field.name] = { items: elementSchema(field, defs), type: 'array' };
    else properties[field.name] = elementSchema(field, defs);
  }
  defs.set(type.name, { properties, additionalProperties: false, type: 'object' });
}

/** The schema of one CRI message (e.g. "PodSandboxConfig"), as crictl prints it. */
export function jsonSchemaOf(typeName: string): Schema {
  const type = root().lookupType(`runtime.v1.${typeName}`);
  const defs = new Map<string, Schema>();
  define(type, defs);
  const kebab = typeName.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
  const sorted: Schema = {};
  for (const name of [...defs.keys()].sort()) sorted[name] = defs.get(name);
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `https://k8s.io/cri-api/pkg/apis/runtime/v1/${kebab}`,
    $ref: `#/$defs/${typeName}`,
    $defs: sorted,
  };
}

/**
 * Adds crictl's `jsonschema` (alias `js`) subcommand: one schema for `types` of one entry; with
 * two (pod and container), --pod / --container choose.
 */
export function addJsonSchemaCommand(parent: Command, description: string, types: ['PodSandboxConfig'] | ['PodSandboxConfig', 'ContainerConfig']): void {
  const sub = parent.command('jsonschema').alias('js').description(description);
  if (types.length === 2) {
    sub
      .option('-p, --pod', 'Print the pod JSON schema, which will be generated from the PodSandboxConfig of the CRI API of this mascri')
      .option('-c, --container', 'Print the container JSON schema, which will be generated from the ContainerConfig of the CRI API of this mascri');
  }
  sub.action((options: { pod?: boolean; container?: boolean }, command: Command) => {
    if (types.length === 1) return console.log(JSON.stringify(jsonSchemaOf(types[0]), null, 2));
    if (!options.pod && !options.container) return command.outputHelp();
    if (options.pod) console.log(JSON.stringify(jsonSchemaOf('PodSandboxConfig'), null, 2));
    if (options.container) console.log(JSON.stringify(jsonSchemaOf('ContainerConfig'), null, 2));
  });
}
