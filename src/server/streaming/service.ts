import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import { failedPrecondition, GrpcCode, invalidArgument, MascriError, notFound } from '../../common/errors.js';
import type { AttachRequest__Output } from '../../cri/generated/runtime/v1/AttachRequest.js';
import type { AttachResponse } from '../../cri/generated/runtime/v1/AttachResponse.js';
import type { ExecRequest__Output } from '../../cri/generated/runtime/v1/ExecRequest.js';
import type { ExecResponse } from '../../cri/generated/runtime/v1/ExecResponse.js';
import type { PortForwardRequest__Output } from '../../cri/generated/runtime/v1/PortForwardRequest.js';
import type { PortForwardResponse } from '../../cri/generated/runtime/v1/PortForwardResponse.js';
import type { ServerContext } from '../context.js';
import { checkProcessCommand } from '../../docker/arg-limits.js';
import { describeCommand, runWithErrorContext } from '../errors.js';
import { findContainer, findSandbox } from '../lookup.js';
import { PORT_FORWARD_WS_PROTOCOLS, REMOTE_COMMAND_WS_PROTOCOLS, SPDY_TUNNEL_PREFIX } from '../../streaming/channels.js';
import type { PortForwardTarget } from './port-forward.js';
import type { RemoteCommandTarget } from './remote-command.js';
import { TOKEN_TTL_MS, TokenCache } from './tokens.js';

/** The modules that serve an upgraded connection (loaded lazily: StreamingService.loadSessions). */
type SessionModules = typeof import('./port-forward.js') & typeof import('./remote-command.js') & { SpdyConnection: typeof import('../../streaming/spdy/connection.js').SpdyConnection };

export const DEFAULT_STREAMING_ADDRESS = '127.0.0.1:0';
/** A streaming connection with no traffic either way for this long is closed (the kubelet's default). */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 4 * 60 * 60 * 1000;

type PendingRequest = { kind: 'exec' | 'attach'; target: RemoteCommandTarget } | { kind: 'portforward'; podSandboxId: string; ports: number[] };

export interface StreamingServiceOptions {
  /** host:port to listen on; port 0 picks a free one. Loopback unless told otherwise. */
  address: string;
  ctx: ServerContext;
  /** Milliseconds without traffic after which a connection is closed (its process is then ended); 0 never. */
  idleTimeoutMs?: number;
  /** The clock tokens expire by (tests move it on); Date.now by default. */
  now?: () => number;
}

/**
 * The streaming server behind Exec, Attach and PortForward: the RPCs validate and answer a
 * URL with a single-use token; the client then connects there with SPDY/3.1 or WebSocket
 * and speaks the Kubernetes remote-command or port-forward protocol.
 */
export class StreamingService {
  private readonly tokens: TokenCache<PendingRequest>;
  private readonly sockets = new Set<Socket>();
  /** The sub-protocol chosen for each WebSocket upgrade (ws asks through handleProtocols). */
  private readonly chosenProtocols = new WeakMap<IncomingMessage, string>();
  private readonly tunnelRequests = new WeakMap<IncomingMessage, string>();
  /** ws, loaded at the first WebSocket upgrade: a node that never streams over WebSocket does not carry it (about 2 MiB). */
  private webSockets?: Promise<{ wss: WebSocketServer; createWebSocketStream: typeof import('ws').createWebSocketStream }>;
  private sessions?: Promise<SessionModules>;
  private wss?: WebSocketServer;

  private constructor(
    private readonly ctx: ServerContext,
    private readonly server: Server,
    /** Base URL of the streaming server, e.g. http://127.0.0.1:41234. */
    readonly url: string,
    private readonly idleTimeoutMs: number,
    now: () => number,
  ) {
    this.tokens = new TokenCache<PendingRequest>(TOKEN_TTL_MS, now);
  }

  /** Starts listening on `options.address` (e.g. '127.0.0.1:0'). */
  static async start(options: StreamingServiceOptions): Promise<StreamingService> {
    const { host, port } = parseAddress(options.address);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(new MascriError(GrpcCode.UNAVAILABLE, `cannot listen for streaming on ${options.address}: ${error.message}`)));
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
    const service = new StreamingService(options.ctx, server, `http://${urlHost}:${address.port}`, options.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS, options.now ?? Date.now);
    server.on('connection', (socket) => {
      service.sockets.add(socket);
      socket.on('close', () => service.sockets.delete(socket));
      service.closeWhenIdle(socket);
    });
    server.on('request', (req, res) => service.handleRequest(req, res));
    server.on('upgrade', (req, socket, head) => service.handleUpgrade(req, socket, head));
    options.ctx.log.info('streaming server listening', { url: service.url });
    return service;
  }

  /** Exec: checks the container runs, answers a URL for the remote command. */
  async exec(request: ExecRequest__Output): Promise<ExecResponse> {
    if (!request.containerId) throw invalidArgument('container_id is empty');
    if (!request.cmd || request.cmd.length === 0) throw invalidArgument('cmd is empty: give the command to run');
    checkStreams(request);
    // What no process could be started with is refused now, not when the client connects.
    checkProcessCommand('cmd', request.cmd);
    return runWithErrorContext(`preparing exec of ${describeCommand(request.cmd)} in container "${request.containerId}"`, async () => {
      const container = await this.runningContainer(request.containerId);
      checkProcessCommand('cmd', request.cmd, container.inspect.Config?.Env ?? []);
      const id = container.inspect.Id;
      const token = this.issue({ kind: 'exec', target: { kind: 'exec', containerId: id, cmd: [...request.cmd], stdin: request.stdin, stdout: request.stdout, stderr: request.stderr && !request.tty, tty: request.tty } });
      return { url: `${this.url}/exec/${token}` };
    });
  }

  /** Attach: checks the container runs, answers a URL to attach to its main process. */
  async attach(request: AttachRequest__Output): Promise<AttachResponse> {
    if (!request.containerId) throw invalidArgument('container_id is empty');
    checkStreams(request);
    return runWithErrorContext(`preparing attach to container "${request.containerId}"`, async () => {
      const container = await this.runningContainer(request.containerId);
      const id = container.inspect.Id;
      // Without stdin_once (Docker's StdinOnce), the end of the client's input must not end the container's.
      const keepStdinOpen = container.inspect.Config?.StdinOnce === false;
      const token = this.issue({ kind: 'attach', target: { kind: 'attach', containerId: id, cmd: [], stdin: request.stdin, stdout: request.stdout, stderr: request.stderr && !request.tty, tty: request.tty, keepStdinOpen } });
      return { url: `${this.url}/attach/${token}` };
    });
  }

  /** PortForward: checks the sandbox runs, answers a URL for port forwarding into it. */
  async portForward(request: PortForwardRequest__Output): Promise<PortForwardResponse> {
    if (!request.podSandboxId) throw invalidArgument('pod_sandbox_id is empty');
    const ports = request.port ?? [];
    for (const port of ports) if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalidArgument(`port ${port} is not a TCP port (1-65535)`);
    return runWithErrorContext(`preparing port forwarding to pod sandbox "${request.podSandboxId}"`, async () => {
      const sandbox = await findSandbox(this.ctx.store, request.podSandboxId);
      if (!sandbox) throw notFound(`no pod sandbox with ID "${request.podSandboxId}"`);
      if (!sandbox.inspect.State.Running) throw failedPrecondition(`pod sandbox "${sandbox.inspect.Id}" is not ready (its pause container is ${sandbox.inspect.State.Status})`);
      const token = this.issue({ kind: 'portforward', podSandboxId: sandbox.inspect.Id, ports: [...ports] });
      return { url: `${this.url}/portforward/${token}` };
    });
  }

  /** Stops listening and cuts every open streaming connection. */
  async close(): Promise<void> {
    for (const client of this.wss?.clients ?? []) client.terminate();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** What serves an upgraded connection, loaded at the first one: SPDY (and zlib with it) and the sessions are not in memory before. */
  private loadSessions(): Promise<SessionModules> {
    this.sessions ??= Promise.all([import('./port-forward.js'), import('./remote-command.js'), import('../../streaming/spdy/connection.js')]).then(
      ([portForward, remoteCommand, spdy]) => ({ ...portForward, ...remoteCommand, SpdyConnection: spdy.SpdyConnection }),
    );
    return this.sessions;
  }

  private loadWebSockets(): NonNullable<StreamingService['webSockets']> {
    this.webSockets ??= import('ws').then(({ WebSocketServer, createWebSocketStream }) => {
      const wss = new WebSocketServer({
        noServer: true,
        perMessageDeflate: false,
        maxPayload: 64 * 1024 * 1024,
        handleProtocols: (protocols, request) => {
          const chosen = this.chosenProtocols.get(request);
          return chosen && protocols.has(chosen) ? chosen : false;
        },
      });
      // ws only accepts RFC 6455 token sub-protocols; client-go's "SPDY/3.1+portforward.k8s.io" has a "/",
      // so that one is taken out of the request and put back into the answer here.
      wss.on('headers', (headers, req) => {
        const tunnel = this.tunnelRequests.get(req);
        if (tunnel) headers.push(`Sec-WebSocket-Protocol: ${tunnel}`);
      });
      this.wss = wss;
      return { wss, createWebSocketStream };
    });
    return this.webSockets;
  }

  private issue(request: PendingRequest): string {
    const token = this.tokens.insert(request);
    if (!token) throw new MascriError(GrpcCode.RESOURCE_EXHAUSTED, 'too many streaming requests are waiting for their client; try again shortly');
    return token;
  }

  private async runningContainerId(id: string): Promise<string> {
    return (await this.runningContainer(id)).inspect.Id;
  }

  private async runningContainer(id: string): Promise<NonNullable<Awaited<ReturnType<typeof findContainer>>>> {
    const container = await findContainer(this.ctx.store, id);
    if (!container) throw notFound(`no container with ID "${id}"`);
    if (!container.inspect.State.Running) throw failedPrecondition(`container "${container.inspect.Id}" is not running (it is ${container.inspect.State.Status})`);
    return container;
  }

  /** The pending request for a URL path, consuming its token; undefined for an unknown, used or expired token. */
  private take(url: string | undefined): PendingRequest | undefined {
    const match = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)(?:\?.*)?$/.exec(url ?? '');
    if (!match) return undefined;
    const pending = this.tokens.consume(match[2]!);
    return pending && pending.kind === match[1] ? pending : undefined;
  }

  private handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const pending = this.take(req.url);
    if (!pending) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    res.writeHead(400, { 'Content-Type': 'text/plain' }).end('this URL needs a SPDY/3.1 or WebSocket upgrade\n');
  }

  /** Closes `socket` after idleTimeoutMs without traffic either way (set again after an upgrade, which may clear it). */
  private closeWhenIdle(socket: Duplex): void {
    if (this.idleTimeoutMs <= 0 || !('setTimeout' in socket)) return;
    (socket as Socket).setTimeout(this.idleTimeoutMs, () => {
      this.ctx.log.info('streaming connection closed after being idle', { idleMs: this.idleTimeoutMs });
      socket.destroy();
    });
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    this.closeWhenIdle(socket);
    const pending = this.take(req.url);
    if (!pending) return rejectUpgrade(socket, 404, 'Not Found', '404 page not found\n');
    const upgrade = (req.headers.upgrade ?? '').toLowerCase();
    if (upgrade !== 'websocket' && !upgrade.startsWith('spdy/3.1')) {
      return rejectUpgrade(socket, 400, 'Bad Request', `unsupported upgrade "${req.headers.upgrade ?? ''}": use SPDY/3.1 or websocket\n`);
    }
    // Port forwarding needs the sandbox's PID first: nothing the client sends may arrive before its handlers.
    const ready: Promise<PortForwardTarget | undefined> = pending.kind === 'portforward' ? this.portForwardTarget(pending) : Promise.resolve(undefined);
    Promise.all([ready, this.loadSessions()]).then(
      ([target, modules]) => {
        if (upgrade === 'websocket') this.upgradeWebSocket(modules, req, socket, head, pending, target);
        else this.upgradeSpdy(modules, req, socket, head, pending, target);
      },
      (error: Error) => rejectUpgrade(socket, 500, 'Internal Server Error', `${error.message}\n`),
    );
  }

  private upgradeSpdy(modules: SessionModules, req: IncomingMessage, socket: Duplex, head: Buffer, pending: PendingRequest, target: PortForwardTarget | undefined): void {
    const { PORT_FORWARD_PROTOCOL, REMOTE_COMMAND_SPDY_PROTOCOLS, SpdyConnection, serveSpdyPortForward, spdyRemoteCommandIO, runRemoteCommand } = modules;
    const offered = headerList(req.headers['x-stream-protocol-version']);
    const supported: readonly string[] = pending.kind === 'portforward' ? [PORT_FORWARD_PROTOCOL] : REMOTE_COMMAND_SPDY_PROTOCOLS;
    const protocol = offered.length === 0 ? '' : offered.find((p) => supported.includes(p));
    if (protocol === undefined) {
      return rejectUpgrade(socket, 403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(supported)}\n`, {
        'X-Accepted-Stream-Protocol-Versions': supported.join(', '),
      });
    }
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' + (protocol ? `X-Stream-Protocol-Version: ${protocol}\r\n` : '') + '\r\n',
    );
    if (head.length > 0) socket.unshift(head);
    const connection = new SpdyConnection(socket, 'server');
    this.ctx.log.debug('streaming connection', { kind: pending.kind, transport: 'spdy', protocol });
    if (pending.kind === 'portforward') {
      serveSpdyPortForward(this.ctx, connection, target!);
      return;
    }
    spdyRemoteCommandIO(connection, pending.target, protocol)
      .then((io) => runRemoteCommand(this.ctx, pending.target, io))
      .catch((error: Error) => {
        this.ctx.log.warn(`${pending.kind} failed`, { container: pending.target.containerId, error: error.message });
        connection.destroy();
      });
  }

  private upgradeWebSocket(modules: SessionModules, req: IncomingMessage, socket: Duplex, head: Buffer, pending: PendingRequest, target: PortForwardTarget | undefined): void {
    const { PORT_FORWARD_PROTOCOL, SpdyConnection, serveSpdyPortForward, serveWebSocketPortForward, runRemoteCommand, wsRemoteCommandIO } = modules;
    const offered = headerList(req.headers['sec-websocket-protocol']);
    let protocol: string | undefined;
    if (pending.kind === 'portforward') {
      protocol = offered.find((p) => p === `${SPDY_TUNNEL_PREFIX}${PORT_FORWARD_PROTOCOL}` || (PORT_FORWARD_WS_PROTOCOLS as readonly string[]).includes(p));
    } else {
      protocol = offered.find((p) => (REMOTE_COMMAND_WS_PROTOCOLS as readonly string[]).includes(p));
    }
    if (offered.length > 0 && protocol === undefined) {
      return rejectUpgrade(socket, 400, 'Bad Request', `unable to upgrade: requested protocol(s) are not supported: ${JSON.stringify(offered)}\n`);
    }
    const chosen = protocol ?? '';
    if (chosen.startsWith(SPDY_TUNNEL_PREFIX)) {
      delete req.headers['sec-websocket-protocol'];
      this.tunnelRequests.set(req, chosen);
    } else this.chosenProtocols.set(req, chosen);
    this.loadWebSockets().then(({ wss, createWebSocketStream }) => wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      this.ctx.log.debug('streaming connection', { kind: pending.kind, transport: 'websocket', protocol: chosen });
      if (pending.kind === 'portforward') {
        if (chosen.startsWith(SPDY_TUNNEL_PREFIX)) {
          serveSpdyPortForward(this.ctx, new SpdyConnection(createWebSocketStream(ws), 'server'), target!);
        } else {
          serveWebSocketPortForward(this.ctx, ws, chosen, target!, target!.ports.length > 0 ? target!.ports : queryPorts(req.url));
        }
        return;
      }
      runRemoteCommand(this.ctx, pending.target, wsRemoteCommandIO(ws, pending.target, chosen)).catch((error: Error) => {
        this.ctx.log.warn(`${pending.kind} failed`, { container: pending.target.containerId, error: error.message });
        ws.terminate();
      });
    }), (error: Error) => rejectUpgrade(socket, 500, 'Internal Server Error', `${error.message}\n`));
  }

  /** The sandbox's current pause PID, looked up when the client connects. */
  private async portForwardTarget(pending: { podSandboxId: string; ports: number[] }): Promise<PortForwardTarget> {
    const sandbox = await findSandbox(this.ctx.store, pending.podSandboxId);
    const pid = sandbox?.inspect.State.Pid ?? 0;
    if (!sandbox || !sandbox.inspect.State.Running || pid <= 0) throw new Error(`pod sandbox "${pending.podSandboxId}" is not running`);
    return { podSandboxId: pending.podSandboxId, pid, ports: pending.ports };
  }
}

/** Exec and Attach need at least one stream, and a TTY has no separate stderr. */
function checkStreams(request: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean }): void {
  if (request.tty && request.stderr) throw invalidArgument('tty and stderr cannot both be true: a terminal has one output stream');
  if (!request.stdin && !request.stdout && !request.stderr) throw invalidArgument('one of stdin, stdout and stderr must be set');
}

/** "host:port", "[v6]:port" or ":port" (all interfaces, only when asked for). */
export function parseAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address.trim());
  if (!match) throw invalidArgument(`streaming address "${address}" must look like 127.0.0.1:0 or [::1]:10010`);
  const port = Number(match[3]);
  if (port > 65535) throw invalidArgument(`streaming address "${address}": port ${port} is out of range`);
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** Values of a header that may repeat or hold a comma-separated list. */
function headerList(value: string | string[] | undefined): string[] {
  const values = Array.isArray(value) ? value : value ? [value] : [];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** `?port=80&port=443,8080` -> [80, 443, 8080] (kubelet's WebSocket form). */
function queryPorts(url: string | undefined): number[] {
  const query = new URL(url ?? '/', 'http://localhost').searchParams;
  return query
    .getAll('port')
    .flatMap((value) => value.split(','))
    .map(Number)
    .filter((port) => Number.isInteger(port) && port > 0 && port < 65536);
}

function rejectUpgrade(socket: Duplex, code: number, reason: string, body: string, headers: Record<string, string> = {}): void {
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}
