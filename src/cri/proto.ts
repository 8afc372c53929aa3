import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProtoGrpcType } from './generated/api.js';

/** The CRI .proto shipped beside this module (copied next to the build output). */
export const PROTO_PATH = join(dirname(fileURLToPath(import.meta.url)), 'api.proto');

/**
 * How messages look in JavaScript on both sides: camelCase fields, 64-bit integers
 * as decimal strings, enums by name, unset fields filled with defaults — the same
 * shapes as the protobuf JSON mapping crictl prints.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: ProtoGrpcType | undefined;

/** The loaded runtime.v1 package (RuntimeService, ImageService and every message). */
export function loadCri(): ProtoGrpcType {
  if (!cached) {
    const definition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached;
}
