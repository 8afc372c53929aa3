import type { Options } from '@grpc/proto-loader';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs/light.js';

/** The CRI .proto shipped beside this module (copied next to the build output). */
export const PROTO_PATH = join(dirname(fileURLToPath(import.meta.url)), 'api.proto');

/**
 * The same .proto as protobufjs reflection JSON, field names in camelCase, written next to the build
 * output by scripts/copy-assets.mjs: loading it needs neither the .proto parser nor proto-loader.
 */
export const PROTO_JSON_PATH = join(dirname(fileURLToPath(import.meta.url)), 'api.json');

/**
 * How messages look in JavaScript on both sides: camelCase fields, 64-bit integers
 * as decimal strings, enums by name, unset fields filled with defaults — the same
 * shapes as the protobuf JSON mapping crictl prints.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * One CRI method: its path, whether it streams, and the codecs of its messages, in proto-loader's
 * shapes (decoded per LOADER_OPTIONS; encoded from such objects).
 */
export interface CriMethodDefinition<Req = unknown, Res = unknown> {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestSerialize: (value: Req) => Buffer;
  requestDeserialize: (bytes: Buffer) => Req;
  responseSerialize: (value: Res) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
}

export type CriServiceName = 'RuntimeService' | 'ImageService';

const services = new Map<CriServiceName, Record<string, CriMethodDefinition>>();
let root: protobuf.Root | undefined;

/**
 * The methods of one CRI service, for the server (and the operator endpoint). The client loads the
 * package through proto-loader instead (proto.ts): grpc-js wants its package definition, whose
 * descriptor of every message the server would never read (about 2 MiB of its RSS).
 */
export function criService(name: CriServiceName): Record<string, CriMethodDefinition> {
  let service = services.get(name);
  if (!service) {
    service = {};
    for (const method of loadedRoot().lookupService(`runtime.v1.${name}`).methodsArray) {
      const request = method.resolvedRequestType!;
      const response = method.resolvedResponseType!;
      service[method.name] = {
        path: `/runtime.v1.${name}/${method.name}`,
        requestStream: !!method.requestStream,
        responseStream: !!method.responseStream,
        requestSerialize: serializer(request),
        requestDeserialize: deserializer(request),
        responseSerialize: serializer(response),
        responseDeserialize: deserializer(response),
      };
    }
    services.set(name, service);
  }
  return service;
}

/** The encoder of one CRI message type by its full name (e.g. `runtime.v1.Container`), from objects in LOADER_OPTIONS' shapes. */
export function criMessageSerializer(fullName: string): (value: unknown) => Buffer {
  return serializer(loadedRoot().lookupType(fullName));
}

/** LOADER_OPTIONS as protobufjs's toObject reads them (field names are camelCase in api.json already). */
const { keepCase: _keepCase, ...TO_OBJECT } = LOADER_OPTIONS as protobuf.IConversionOptions & { keepCase?: boolean };

function loadedRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.Root.fromJSON(JSON.parse(readFileSync(PROTO_JSON_PATH, 'utf8')) as protobuf.INamespace);
    root.resolveAll();
  }
  return root;
}

function serializer(type: protobuf.Type): (value: unknown) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`cannot encode ${type.name}: expected an object, got an array`);
    return type.encode(type.fromObject(value as Record<string, unknown>)).finish() as Buffer;
  };
}

function deserializer(type: protobuf.Type): (bytes: Buffer) => unknown {
  return (bytes) => type.toObject(type.decode(bytes), TO_OBJECT);
}
