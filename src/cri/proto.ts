import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, PROTO_PATH } from './definition.js';
import type { ProtoGrpcType } from './generated/api.js';

export { LOADER_OPTIONS, PROTO_PATH } from './definition.js';

let cached: ProtoGrpcType | undefined;

/**
 * The loaded runtime.v1 package (RuntimeService, ImageService and every message) for grpc-js
 * clients, through proto-loader. The server does not load it (definition.ts: criService).
 */
export function loadCri(): ProtoGrpcType {
  cached ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS)) as unknown as ProtoGrpcType;
  return cached;
}
