import { GrpcCode, grpcCodeName } from '../../common/errors.js';
import { MessageJsonError, parseMessageJson } from '../../cri/message-json.js';
import { toProtoJson } from '../../cri/proto-json.js';
import type { CriMethodDefinition } from '../../cri/definition.js';
import { servedCriService } from '../served-encoding.js';
import { toServiceError } from '../errors.js';
import { unaryHandlerOf, type SomeCriHandlers, type StreamingMethod } from '../cri-handlers.js';
import type { CriMethod, CriServiceName } from '../cri-methods.js';

/** One unary CRI method served as JSON over HTTP (a misspelt method does not compile). */
export type CriRoute = { [S in CriServiceName]: { service: S; method: Exclude<CriMethod<S>, StreamingMethod<S>> } }[CriServiceName];

/** POST paths of the CRI JSON API (for trying the runtime with curl), each naming its RPC. */
export const CRI_ROUTES: Readonly<Record<string, CriRoute>> = {
  '/v1/runtime/version': { service: 'RuntimeService', method: 'Version' },
  '/v1/runtime/status': { service: 'RuntimeService', method: 'Status' },
  '/v1/runtime/config': { service: 'RuntimeService', method: 'RuntimeConfig' },
  '/v1/runtime/sandbox/create': { service: 'RuntimeService', method: 'RunPodSandbox' },
  '/v1/runtime/sandbox/list': { service: 'RuntimeService', method: 'ListPodSandbox' },
  '/v1/runtime/sandbox/status': { service: 'RuntimeService', method: 'PodSandboxStatus' },
  '/v1/runtime/sandbox/stop': { service: 'RuntimeService', method: 'StopPodSandbox' },
  '/v1/runtime/sandbox/remove': { service: 'RuntimeService', method: 'RemovePodSandbox' },
  '/v1/runtime/container/create': { service: 'RuntimeService', method: 'CreateContainer' },
  '/v1/runtime/container/start': { service: 'RuntimeService', method: 'StartContainer' },
  '/v1/runtime/container/stop': { service: 'RuntimeService', method: 'StopContainer' },
  '/v1/runtime/container/remove': { service: 'RuntimeService', method: 'RemoveContainer' },
  '/v1/runtime/container/list': { service: 'RuntimeService', method: 'ListContainers' },
  '/v1/runtime/container/status': { service: 'RuntimeService', method: 'ContainerStatus' },
  '/v1/image/pull': { service: 'ImageService', method: 'PullImage' },
  '/v1/image/list': { service: 'ImageService', method: 'ListImages' },
  '/v1/image/status': { service: 'ImageService', method: 'ImageStatus' },
  '/v1/image/remove': { service: 'ImageService', method: 'RemoveImage' },
  '/v1/image/fsinfo': { service: 'ImageService', method: 'ImageFsInfo' },
};

/** The HTTP status a gRPC code becomes on the JSON API. Pure. */
export function httpStatusFor(code: number): number {
  switch (code) {
    case GrpcCode.OK: return 200;
    case GrpcCode.INVALID_ARGUMENT: return 400;
    case GrpcCode.UNAUTHENTICATED: return 401;
    case GrpcCode.PERMISSION_DENIED: return 403;
    case GrpcCode.NOT_FOUND: return 404;
    case GrpcCode.ALREADY_EXISTS: return 409;
    case GrpcCode.FAILED_PRECONDITION: return 412;
    case GrpcCode.RESOURCE_EXHAUSTED: return 429;
    case GrpcCode.UNIMPLEMENTED: return 501;
    case GrpcCode.UNAVAILABLE: return 503;
    case GrpcCode.DEADLINE_EXCEEDED: return 504;
    default: return 500;
  }
}

/** What a JSON call answers: an HTTP status, the gRPC code behind it, and the JSON body. */
export interface CriJsonAnswer {
  status: number;
  code: number;
  body: unknown;
}

/** An error body: `{ "code": "NotFound", "message": "..." }`. */
export function errorBody(code: number, message: string): { code: string; message: string } {
  return { code: grpcCodeName(code), message };
}

/**
 * Runs one CRI method with the same handler the gRPC server uses. The body is the request message
 * in protobuf JSON (camelCase or snake_case, validated against the .proto); it goes through the
 * gRPC codec both ways, so the handler sees exactly what a gRPC call would give it, and the answer
 * is the response message as the protobuf JSON mapping prints it.
 */
export async function callCriJson(handlers: SomeCriHandlers, route: CriRoute, body: unknown, signal: AbortSignal): Promise<CriJsonAnswer> {
  const handler = unaryHandlerOf(handlers, route.service, route.method);
  const definition = methodDefinition(route);
  if (!handler || !definition) {
    const message = `${route.service}.${route.method} is not implemented by mascri`;
    return { status: httpStatusFor(GrpcCode.UNIMPLEMENTED), code: GrpcCode.UNIMPLEMENTED, body: errorBody(GrpcCode.UNIMPLEMENTED, message) };
  }
  let request: unknown;
  try {
    const message = parseMessageJson(`runtime.v1.${route.method}Request`, body ?? {}, 'request body');
    request = definition.requestDeserialize(definition.requestSerialize(message));
  } catch (error) {
    const message = error instanceof MessageJsonError ? error.message : `request body: ${error instanceof Error ? error.message : String(error)}`;
    return { status: 400, code: GrpcCode.INVALID_ARGUMENT, body: errorBody(GrpcCode.INVALID_ARGUMENT, message) };
  }
  try {
    const response: unknown = await handler(request, signal);
    const decoded = definition.responseDeserialize(definition.responseSerialize(response));
    return { status: 200, code: GrpcCode.OK, body: toProtoJson(decoded) ?? {} };
  } catch (error) {
    const status = toServiceError(error);
    const code = status.code ?? GrpcCode.INTERNAL;
    return { status: httpStatusFor(code), code, body: errorBody(code, status.details ?? 'internal error') };
  }
}

function methodDefinition(route: CriRoute): CriMethodDefinition | undefined {
  return servedCriService(route.service)[route.method];
}
