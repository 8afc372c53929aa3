import * as protoLoader from '@grpc/proto-loader';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

let cached: protoLoader.PackageDefinition | undefined;

/**
 * The loaded CRI: each service ("runtime.v1.RuntimeService") as its methods' definitions (path,
 * streaming, encoders and decoders). Needs no grpc-js: the server speaks gRPC itself.
 */
export function loadCriDefinition(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  return cached;
}

/** The methods of one CRI service. */
export function criService(name: 'RuntimeService' | 'ImageService'): protoLoader.ServiceDefinition {
  return loadCriDefinition()[`runtime.v1.${name}`] as protoLoader.ServiceDefinition;
}
