import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempPrefix } from './children.js';

/**
 * Fields that `docker create` has no flag for (MaskedPaths, ReadonlyPaths), or that are too large
 * for its arguments (Env, Entrypoint, Cmd). The CLI still builds and sends the request; a relay
 * between it and the engine sets these fields in the create request's body, and passes everything
 * else through unchanged.
 */
export interface HostConfigExtras {
  MaskedPaths?: string[];
  ReadonlyPaths?: string[];
  /**
   * Fields of the container Config itself (not its HostConfig) that the CLI cannot set: `docker
   * create -i` always sets StdinOnce, which makes Docker close the container's stdin when the first
   * attach ends, where the CRI's stdin_once false asks to keep it open.
   */
  Config?: ProcessConfig;
}

/**
 * Fields of the container Config: StdinOnce (see HostConfigExtras.Config), and the process's
 * environment and command when they are too large to be docker arguments (arg-limits.ts). Each
 * replaces what the CLI sent; Entrypoint and Cmd are what `--entrypoint` and the positional
 * arguments would have set.
 */
export interface ProcessConfig {
  StdinOnce?: boolean;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
}

/** Where the engine listens, as a relay can reach it. */
export type EngineEndpoint = { kind: 'unix'; socketPath: string } | { kind: 'tcp'; host: string; port: number };

/** `unix:///var/run/docker.sock` or `tcp://host:port` -> an endpoint; anything else (ssh://, npipe://) -> undefined. */
export function parseEngineHost(host: string): EngineEndpoint | undefined {
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    return socketPath.startsWith('/') ? { kind: 'unix', socketPath } : undefined;
  }
  const tcp = /^(?:tcp|http):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(host);
  if (tcp) return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port: tcp[2] ? Number(tcp[2]) : 2375 };
  return undefined;
}

/** True for the engine API's create-container request (`POST /v1.41/containers/create?name=...`). */
export function isCreateRequest(method: string | undefined, url: string | undefined): boolean {
  return method === 'POST' && /^(\/v[0-9.]+)?\/containers\/create(\?|$)/.test(url ?? '');
}

/** The create request body with `extras` set in it, Config's at the top level and the rest in HostConfig (pure; throws when the body is not a JSON object). */
export function patchCreateBody(body: Buffer, extras: HostConfigExtras): Buffer {
  const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the create request body is not a JSON object');
  const request = parsed as Record<string, unknown> & { HostConfig?: Record<string, unknown> | null };
  const { Config: config, ...hostConfig } = extras;
  if (Object.keys(hostConfig).length > 0) request.HostConfig = { ...(request.HostConfig ?? {}), ...hostConfig };
  Object.assign(request, config ?? {});
  return Buffer.from(JSON.stringify(request), 'utf8');
}

/** What one relayed call saw: how many create requests it patched. */
export interface RelayOutcome<T> {
  result: T;
  patched: number;
}

/**
 * Runs `fn` with a private relay to the engine: `fn` gets a DOCKER_HOST value to hand the CLI.
 * The relay listens on a socket in a fresh 0700 directory and lives only as long as `fn`.
 */
export async function withCreateRelay<T>(
  endpoint: EngineEndpoint,
  extras: HostConfigExtras,
  fn: (dockerHost: string) => Promise<T>,
  onRelayed: () => void = () => undefined,
): Promise<RelayOutcome<T>> {
  const dir = await mkdtemp(join(tmpdir(), `${tempPrefix()}create-relay-`));
  const socketPath = join(dir, 'docker.sock');
  const agent = new http.Agent({ keepAlive: true });
  let patched = 0;
  const target = endpoint.kind === 'unix' ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };

  const server = http.createServer((req, res) => {
    // Either side may go away mid-request (the CLI killed by a timeout, the engine stopping): end quietly.
    req.on('error', () => res.destroy());
    res.on('error', () => req.destroy());
    const forward = (body?: Buffer) => {
      const headers = { ...req.headers };
      if (body) {
        headers['content-length'] = String(body.length);
        delete headers['transfer-encoding'];
      }
      const upstream = http.request({ ...target, agent, method: req.method, path: req.url, headers }, (answer) => {
        answer.on('error', () => res.destroy());
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      // The engine could not be reached: drop the connection, so the CLI reports it as it would a daemon that is down.
      upstream.on('error', () => req.socket.destroy());
      if (body) upstream.end(body, onRelayed);
      else req.pipe(upstream);
    };
    if (!isCreateRequest(req.method, req.url)) return forward();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Buffer;
      try {
        body = patchCreateBody(Buffer.concat(chunks), extras);
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `mascri could not patch the create request: ${(error as Error).message}` }));
        return;
      }
      patched += 1;
      forward(body);
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    server.on('error', () => undefined);
    server.on('clientError', (_error, socket) => socket.destroy());
    const result = await fn(`unix://${socketPath}`);
    return { result, patched };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
