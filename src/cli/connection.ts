import type { ServiceError } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { GrpcCode, grpcCodeName } from '../common/errors.js';
import { CriClient, DEFAULT_ENDPOINT, socketPath } from '../cri/client.js';
import { UsageError, parseDuration } from './output.js';

/** The global options every client command shares (crictl's names). */
export interface GlobalOptions {
  runtimeEndpoint?: string;
  imageEndpoint?: string;
  timeout?: string;
  debug?: boolean;
}

export interface Endpoints {
  runtime: string;
  image: string;
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT = '2s';

/** Flags first, then CONTAINER_RUNTIME_ENDPOINT / IMAGE_SERVICE_ENDPOINT, then mascri's socket. */
export function resolveEndpoints(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Endpoints {
  const runtime = options.runtimeEndpoint || env.CONTAINER_RUNTIME_ENDPOINT || DEFAULT_ENDPOINT;
  const image = options.imageEndpoint || env.IMAGE_SERVICE_ENDPOINT || runtime;
  const timeoutMs = parseDuration(options.timeout ?? DEFAULT_TIMEOUT);
  return { runtime, image, timeoutMs };
}

/** A client for the resolved endpoints. */
export function connect(options: GlobalOptions): { client: CriClient; endpoints: Endpoints } {
  const endpoints = resolveEndpoints(options);
  return { client: new CriClient(endpoints.runtime, endpoints.image, endpoints.timeoutMs), endpoints };
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as ServiceError).code === 'number' && 'details' in error;
}

/** True for a gRPC error raised because nothing answered at the endpoint (not an error from the runtime). */
export function isConnectionFailure(error: unknown): boolean {
  return isServiceError(error) && error.code === GrpcCode.UNAVAILABLE && /No connection established|connect E|ECONNREFUSED|ENOENT|failed to connect/i.test(error.details);
}

/** One readable line for a failed command: the gRPC code and the runtime's message, or how to reach the runtime. */
export function describeError(error: unknown, endpoint: string): string {
  if (error instanceof UsageError) return error.message;
  if (isConnectionFailure(error)) {
    const path = socketPath(endpoint);
    const why = path && !existsSync(path) ? `${path} does not exist` : (error as ServiceError).details;
    return (
      `cannot reach a CRI runtime at ${endpoint} (${why}). ` +
      `Is the server running? Start it with: mascri serve --listen ${endpoint}  ` +
      `(or point -r/--runtime-endpoint or CONTAINER_RUNTIME_ENDPOINT at a running runtime)`
    );
  }
  if (isServiceError(error)) return `${grpcCodeName(error.code)}: ${error.details}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
