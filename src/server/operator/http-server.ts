import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GrpcCode } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { CriHandlers } from '../cri-handlers.js';
import type { HttpAddress } from './address.js';
import { CRI_ROUTES, callCriJson, errorBody } from './cri-json.js';
import type { HealthCheck } from './health.js';
import type { RuntimeMetrics } from './runtime-metrics.js';

/** Request bodies above this are refused (the gRPC server's receive limit). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface OperatorServerOptions {
  address: HttpAddress;
  /** The handler tables the gRPC server uses. */
  handlers: CriHandlers;
  metrics: RuntimeMetrics;
  health: HealthCheck;
  log: Logger;
}

/**
 * The operator endpoint (`mascri serve --http`): GET /healthz, GET /metrics, and the CRI as JSON
 * over HTTP (POST /v1/...) served by the same handlers and errors as the gRPC server.
 */
export class OperatorServer {
  private constructor(
    private readonly server: Server,
    /** The address actually bound (port 0 becomes a free port). */
    readonly address: HttpAddress,
  ) {}

  /** Listens on `options.address`; rejects when the address cannot be bound. */
  static async start(options: OperatorServerOptions): Promise<OperatorServer> {
    const server = createServer((req, res) => void route(options, req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.address.port, options.address.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as AddressInfo;
    return new OperatorServer(server, { host: options.address.host, port: bound.port });
  }

  /** "http://127.0.0.1:9090" ("http://[::1]:9090" for IPv6). */
  get url(): string {
    const host = this.address.host.includes(':') ? `[${this.address.host}]` : this.address.host;
    return `http://${host}:${this.address.port}`;
  }

  /** Stops listening and drops open connections (a JSON call in flight is aborted). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function route(options: OperatorServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const path = new URL(req.url ?? '/', 'http://mascri').pathname;
  const method = req.method ?? 'GET';
  const criRoute = CRI_ROUTES[path];
  // Metrics label: the route itself when it is one of ours, so a scan of random paths cannot grow the series.
  const label = criRoute || path === '/healthz' || path === '/metrics' ? path : 'other';
  let status = 500;
  try {
    if (path === '/healthz' || path === '/metrics') {
      if (method !== 'GET' && method !== 'HEAD') {
        status = sendJson(res, 405, errorBody(GrpcCode.UNIMPLEMENTED, `${method} ${path}: use GET`), { Allow: 'GET, HEAD' });
      } else if (path === '/healthz') {
        const health = await options.health.check();
        status = sendText(res, health.ok ? 200 : 503, health.ok ? 'ok\n' : `docker daemon not reachable: ${health.reason}\n`, 'text/plain; charset=utf-8');
      } else {
        status = sendText(res, 200, await options.metrics.render(), options.metrics.contentType);
      }
    } else if (criRoute) {
      if (method !== 'POST') {
        status = sendJson(res, 405, errorBody(GrpcCode.UNIMPLEMENTED, `${method} ${path}: CRI calls are POST with the request message as a JSON body`), { Allow: 'POST' });
      } else {
        const body = await readJsonBody(req);
        if ('error' in body) {
          status = sendJson(res, body.status, errorBody(body.status === 413 ? GrpcCode.RESOURCE_EXHAUSTED : GrpcCode.INVALID_ARGUMENT, body.error));
        } else {
          const abort = new AbortController();
          res.on('close', () => {
            if (!res.writableFinished) abort.abort();
          });
          const answer = await callCriJson(options.handlers, criRoute, body.value, abort.signal);
          status = sendJson(res, answer.status, answer.body);
        }
      }
    } else {
      status = sendJson(res, 404, errorBody(GrpcCode.NOT_FOUND, `no such endpoint: ${method} ${path} (try GET /healthz, GET /metrics, or POST ${Object.keys(CRI_ROUTES)[0]})`));
    }
  } catch (error) {
    status = sendJson(res, 500, errorBody(GrpcCode.INTERNAL, `internal error: ${error instanceof Error ? error.message : String(error)}`));
  } finally {
    options.metrics.observeHttp(label, status);
    options.log.debug('http', { method, path, status, ms: Math.round((performance.now() - started) * 10) / 10 });
  }
}

type Body = { value: unknown } | { status: number; error: string };

/** The request body as JSON; an empty body is `{}`. */
async function readJsonBody(req: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Read on to the end without keeping it, so the client still gets the 413.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) return { status: 413, error: `request body is larger than ${MAX_BODY_BYTES} bytes` };
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return { value: {} };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { status: 400, error: `request body is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): number {
  return sendText(res, status, JSON.stringify(body, null, 2) + '\n', 'application/json', headers);
}

function sendText(res: ServerResponse, status: number, text: string, contentType: string, headers: Record<string, string> = {}): number {
  if (res.headersSent || res.destroyed) return status;
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
  return status;
}
