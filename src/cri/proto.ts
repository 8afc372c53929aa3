import * as grpc from '@grpc/grpc-js';
import { loadCriDefinition } from './definition.js';
import type { ProtoGrpcType } from './generated/api.js';

export { LOADER_OPTIONS, PROTO_PATH } from './definition.js';

let cached: ProtoGrpcType | undefined;

/** The loaded runtime.v1 package (RuntimeService, ImageService and every message). */
export function loadCri(): ProtoGrpcType {
  if (!cached) {
    cached = grpc.loadPackageDefinition(loadCriDefinition()) as unknown as ProtoGrpcType;
  }
  return cached;
}
