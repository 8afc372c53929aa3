import type { ServiceError } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { GrpcCode, grpcCodeName } from '../common/errors.js';
import { CriClient, DEFAULT_ENDPOINT, socketPath, type CallOptions } from '../cri/client.js';
import { ConfigFileError, DEFAULT_CONFIG_PATH, findConfig, type CrictlConfig } from './crictl-config.js';
import { UsageError, parseDuration } from './output.js';

/** The global options every client command shares (crictl's names). */
export interface GlobalOptions {
  config?: string;
  runtimeEndpoint?: string;
  imageEndpoint?: string;
  timeout?: string;
  debug?: boolean;
  maxRetries?: string;
}

/** What a client command works with: endpoints, call timeout, and the config file's settings. */
export interface Endpoints {
  runtime: string;
  image: string;
  timeoutMs: number;
  debug?: boolean;
  pullImageOnCreate?: boolean;
  disablePullOnRun?: boolean;
}

export const DEFAULT_TIMEOUT = '2s';
const DEFAULT_TIMEOUT_MS = 2000;

/** The config file path crictl uses: --config, then CRI_CONFIG_FILE, then /etc/crictl.yaml; and whether it was asked for. */
export function configPath(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): { path: string; explicit: boolean } {
  if (options.config !== undefined) return { path: options.config, explicit: true };
  if (env.CRI_CONFIG_FILE !== undefined && env.CRI_CONFIG_FILE !== '') return { path: env.CRI_CONFIG_FILE, explicit: true };
  return { path: DEFAULT_CONFIG_PATH, explicit: false };
}

/**
 * crictl's precedence: the flag, then the environment (CONTAINER_RUNTIME_ENDPOINT,
 * IMAGE_SERVICE_ENDPOINT), then the config file, then the default (mascri's socket; the image
 * endpoint defaults to the runtime endpoint). A timeout of 0 or less means the default, 2s.
 */
export function resolveEndpoints(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env, file?: CrictlConfig): Endpoints {
  const runtime = options.runtimeEndpoint || env.CONTAINER_RUNTIME_ENDPOINT || file?.['runtime-endpoint'] || DEFAULT_ENDPOINT;
  const image = options.imageEndpoint || env.IMAGE_SERVICE_ENDPOINT || file?.['image-endpoint'] || runtime;
  let timeoutMs: number;
  if (options.timeout !== undefined) timeoutMs = parseDuration(options.timeout);
  else timeoutMs = file && file.timeout > 0 ? file.timeout * 1000 : DEFAULT_TIMEOUT_MS;
  if (timeoutMs <= 0) timeoutMs = DEFAULT_TIMEOUT_MS;
  return {
    runtime,
    image,
    timeoutMs,
    debug: options.debug || file?.debug || false,
    pullImageOnCreate: file?.['pull-image-on-create'] ?? false,
    disablePullOnRun: file?.['disable-pull-on-run'] ?? false,
  };
}

/** The settings for a command: the config file found as crictl finds it, then resolveEndpoints. */
export function loadSettings(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Endpoints {
  const { path, explicit } = configPath(options, env);
  const loaded = findConfig(path, explicit);
  return resolveEndpoints(options, env, loaded?.config);
}

/** Which service a failed call went to: crictl validates each connection with its own call. */
export type CriService = 'runtime' | 'image';

/** An error with crictl's context around it ("get container status: ..."), outermost first. */
interface ContextError extends Error {
  crictlContext?: string[];
  criService?: CriService;
}

/** Adds crictl's wording around a failure of `work` ("listing images: rpc error: ..."). */
export async function withContext<T>(context: string, work: Promise<T> | (() => Promise<T>)): Promise<T> {
  try {
    return await (typeof work === 'function' ? work() : work);
  } catch (error) {
    if (error instanceof Error) {
      const tagged = error as ContextError;
      tagged.crictlContext = [context, ...(tagged.crictlContext ?? [])];
    }
    throw error;
  }
}

/** A CriClient whose failures remember the service they came from (for crictl's connection errors). */
function taggingClient(runtime: string, image: string, timeoutMs: number): CriClient {
  const client = new CriClient(runtime, image, timeoutMs);
  const callRuntime = client.callRuntime.bind(client);
  const callImage = client.callImage.bind(client);
  client.callRuntime = ((method, request, options?: CallOptions) =>
    callRuntime(method, request, options).catch((error: unknown) => {
      throw tag(error, 'runtime');
    })) as CriClient['callRuntime'];
  client.callImage = ((method, request, options?: CallOptions) =>
    callImage(method, request, options).catch((error: unknown) => {
      throw tag(error, 'image');
    })) as CriClient['callImage'];
  return client;
}

function tag(error: unknown, service: CriService): unknown {
  if (error instanceof Error && (error as ContextError).criService === undefined) (error as ContextError).criService = service;
  return error;
}

/** A client for the resolved endpoints. */
export function connect(options: GlobalOptions): { client: CriClient; endpoints: Endpoints } {
  const endpoints = loadSettings(options);
  return { client: taggingClient(endpoints.runtime, endpoints.image, endpoints.timeoutMs), endpoints };
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as ServiceError).code === 'number' && 'details' in error;
}

/** True for a gRPC error raised because nothing answered at the endpoint (not an error from the runtime). */
export function isConnectionFailure(error: unknown): boolean {
  return isServiceError(error) && error.code === GrpcCode.UNAVAILABLE && /No connection established|connect E|ECONNREFUSED|ENOENT|failed to connect/i.test(error.details);
}

/** Go's words for the errno grpc-js names. */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ECONNREFUSED: 'connection refused',
  EACCES: 'permission denied',
  ENOTSOCK: 'socket operation on non-socket',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
};

/** The dial error as Go's gRPC words it ("dial unix /x.sock: connect: no such file or directory"). */
function dialError(endpoint: string, details: string): string {
  const errno = /\b(E[A-Z]+)\b/.exec(details)?.[1];
  const why = errno ? (ERRNO_TEXT[errno] ?? errno) : details;
  const path = socketPath(endpoint);
  const target = path !== undefined ? `unix ${path}` : `tcp ${endpoint.replace(/^tcp:\/\//, '')}`;
  return `dial ${target}: connect: ${why}`;
}

/** crictl's text for a gRPC status ("rpc error: code = NotFound desc = ..."). */
export function rpcErrorText(error: ServiceError): string {
  return `rpc error: code = ${grpcCodeName(error.code)} desc = ${error.details}`;
}

/**
 * One line for a failed command, worded as crictl words it: its context, then the gRPC status;
 * nothing reachable at the endpoint is crictl's connection validation error.
 */
export function describeError(error: unknown, endpoints: { runtime: string; image: string } | string): string {
  const { runtime, image } = typeof endpoints === 'string' ? { runtime: endpoints, image: endpoints } : endpoints;
  const context = (error as ContextError | undefined)?.crictlContext ?? [];
  if (error instanceof UsageError || error instanceof ConfigFileError) return [...context, error.message].join(': ');
  let text: string;
  if (isConnectionFailure(error)) {
    const service = (error as ContextError).criService ?? 'runtime';
    const endpoint = service === 'image' ? image : runtime;
    const detail = `connection error: desc = "transport: Error while dialing: ${dialError(endpoint, (error as ServiceError).details)}"`;
    // crictl validates the connection before the command, so its context is not the command's.
    return `validate service connection: validate CRI v1 ${service} API for endpoint ${JSON.stringify(endpoint)}: rpc error: code = Unavailable desc = ${detail}`;
  }
  if (isServiceError(error)) text = rpcErrorText(error);
  else if (error instanceof Error) text = error.message;
  else text = String(error);
  return [...context, text].join(': ');
}

/** For a person at a terminal: how to reach a runtime when none answered. */
export function connectionHint(error: unknown, endpoint: string): string | undefined {
  if (!isConnectionFailure(error)) return undefined;
  const path = socketPath(endpoint);
  const why = path && !existsSync(path) ? `${path} does not exist` : 'nothing answers there';
  return (
    `cannot reach a CRI runtime at ${endpoint} (${why}). Is the server running? Start it with: mascri serve --listen ${endpoint}  ` +
    `(or point -r/--runtime-endpoint, CONTAINER_RUNTIME_ENDPOINT or runtime-endpoint in the config file at a running runtime)`
  );
}
