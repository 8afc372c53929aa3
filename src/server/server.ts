import { chmod, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { GrpcCode, grpcCodeName, MascriError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { grpcTarget, socketPath } from '../cri/endpoint.js';
import type { DockerAdapter } from '../docker/adapter.js';
import type { ServerContext, ServerOptions } from './context.js';
import { createCriHandlers, streamHandlerOf, unaryHandlerOf, type SomeCriHandlers } from './cri-handlers.js';
import { notImplementedMessage, type CriServiceName } from './cri-methods.js';
import { toServiceError } from './errors.js';
import { CrashPoints } from './crash-points.js';
import { HostProbe } from './host-probe.js';
import { PendingRemovals } from './pending-removals.js';
import { ImageService } from './images.js';
import { SandboxService } from './sandboxes.js';
import { ContainerService } from './containers.js';
import { ExecService } from './exec.js';
import { EventService } from './events.js';
import { ContainerLogCopier } from './logs/container-log-copier.js';
import { ImageStore } from './image-store.js';
import { ContainerStore } from './store.js';
import { containerState } from '../docker/convert.js';
import { checkInstanceName } from '../docker/naming.js';
import { RuntimeInfoService } from './runtime-info.js';
import type { HttpAddress } from './operator/address.js';
import type { OperatorServer } from './operator/http-server.js';
import type { RuntimeMetrics } from './operator/runtime-metrics.js';
import { IdleCollector } from './idle-collector.js';
import { servedCriService } from './served-encoding.js';
import { InstanceClaim } from './instance-lock.js';
import { prepareSocketPath } from './socket.js';
import { GrpcServer, type GrpcMethod, type GrpcStatus, type ServerStreamCall, type StreamImplementation, type UnaryImplementation } from './transport/grpc-server.js';
import { StatsService } from './stats/stats-service.js';
import { DEFAULT_STREAMING_ADDRESS, StreamingService } from './streaming/service.js';

export const DEFAULT_STATE_DIR = '/var/lib/mascri';

export interface StartOptions extends Omit<ServerOptions, 'instance'> {
  /** The instance (node) name; absent or '' for the default instance (checked: a DNS label). */
  instance?: string;
  /** Where mascri keeps its own small state (log copy positions); default /var/lib/mascri. */
  stateDir?: string;
  /** "unix:///run/mascri/mascri.sock" (or a plain absolute path). */
  listen: string;
  docker: DockerAdapter;
  log: Logger;
  /** host:port of the streaming server (Exec, Attach, PortForward); default 127.0.0.1:0. */
  streamingAddress?: string;
  /** Streaming connections idle this long are closed; 0 never (default 4 h, as the kubelet's). */
  streamIdleTimeoutMs?: number;
  /** The clock streaming tokens expire by (tests move it on); Date.now by default. */
  streamingClock?: () => number;
  /** Where the operator endpoint (/healthz, /metrics, CRI as JSON) listens; off when absent. */
  http?: HttpAddress;
  /** One full garbage collection: given, the heap a burst grew is collected once the calls are quiet (IdleCollector). */
  collectGarbage?: () => void;
}

/** How long a new server waits for the docker calls a killed server of its instance left running. */
const ORPHAN_WAIT_MS = 60_000;

/** The largest CRI request accepted (as the kubelet's own limit for answers, 16 MiB). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * Before the state is loaded: a server of this instance that was killed may have left docker
 * calls running (a `docker run` it started finishes without it) and temporary files behind. Let
 * those calls end, so everything they make is in Docker when the store loads; end its exec,
 * attach and port-forward sessions (their clients are gone); remove its temporary directories.
 */
async function settleDeadServer(docker: DockerAdapter, instance: string, log: Logger): Promise<void> {
  docker.children.markAs(instance);
  const { waited, killed } = await docker.children.settleOrphans(instance, ORPHAN_WAIT_MS);
  const describe = (orphans: typeof waited) => orphans.map((orphan) => `${orphan.pid}: ${orphan.argv.slice(0, 3).join(' ')}`);
  if (waited.length > 0) log.warn('waited for docker calls a killed server of this instance had left running', { calls: describe(waited) });
  if (killed.length > 0) log.warn('ended processes a killed server of this instance had left running', { processes: describe(killed) });
  const removed = await docker.children.removeStaleTempDirs();
  if (removed > 0) log.info('removed temporary directories of servers that are no longer running', { count: removed });
}

/** Told about every finished RPC: "RuntimeService/Version", its gRPC code, how long it took. */
export type RpcObserver = (method: string, code: number, durationMs: number) => void;

/** The CRI gRPC server: binds the socket, routes each RPC to its CRI area module. */
export class MascriServer {
  private streaming?: StreamingService;
  private claim?: InstanceClaim;
  /** The operator endpoint, when `--http` was given. */
  operator?: OperatorServer;
  private idle?: IdleCollector;
  private runtimeInfo?: RuntimeInfoService;
  private constructor(
    private readonly grpcServer: GrpcServer,
    readonly endpoint: string,
    private readonly path: string | undefined,
    private readonly log: Logger,
    private readonly ctx: ServerContext,
  ) {}

  /** Starts serving on `options.listen`; fails if another server is live there. */
  static async start(options: StartOptions): Promise<MascriServer> {
    // Claim the socket before anything starts, so a refused second server leaves nothing running.
    const instance = checkInstanceName(options.instance ?? '');
    const path = socketPath(options.listen);
    if (path) await prepareSocketPath(path);
    // One server per instance: before anything is loaded or followed.
    const claim = await InstanceClaim.take(instance, options.listen);
    const ctx: ServerContext = {
      docker: options.docker,
      log: options.log,
      options: { podInfraImage: options.podInfraImage, instance },
      host: new HostProbe(options.docker, options.log),
      logs: new ContainerLogCopier({ stateDir: join(options.stateDir ?? DEFAULT_STATE_DIR, 'logs'), log: options.log }),
      store: new ContainerStore(options.docker, options.log, { instance }),
      images: new ImageStore(options.docker, options.log),
      crash: CrashPoints.fromEnvironment(process.env, options.docker.cli, options.log),
      rollbacks: new PendingRemovals(options.docker.containers, options.log),
    };
    let streaming: StreamingService | undefined;
    let operator: OperatorServer | undefined;
    let server: GrpcServer | undefined;
    let idle: IdleCollector | undefined;
    let bound = false;
    // Metrics are read only through the operator endpoint: without --http neither they nor prom-client are loaded.
    let metrics: RuntimeMetrics | undefined;
    if (options.http) {
      const { RuntimeMetrics } = await import('./operator/runtime-metrics.js');
      const made = new RuntimeMetrics(() => ctx.store.all(), { instance, dockerCli: options.docker.cli.binary }).withProcessMetrics();
      options.docker.cli.onCall((args, ms, ok) => made.observeDocker(args, ms, ok));
      metrics = made;
    }
    try {
      await settleDeadServer(options.docker, instance, options.log);
      await Promise.all([ctx.store.start(), ctx.images.start()]);
      ctx.store.onChange((change) => {
        // A container removed behind mascri's back: stop copying its log (the file stays, it is the user's).
        if (change.before && !change.after) void ctx.logs.forget(change.id).catch(() => undefined);
        // A container that exited writes no more: copy the rest of its output now, then stop following it.
        else if (change.after && containerState(change.after.State) === 'CONTAINER_EXITED' && (!change.before || containerState(change.before.State) !== 'CONTAINER_EXITED')) {
          void ctx.logs.forget(change.id).catch(() => undefined);
        }
      });
      void ctx.host.get(); // find out what the host grants while nothing waits for it
      // Said at start rather than at the first kubelet create: an engine the create relay cannot reach.
      void options.docker.cli.createRelayUnsupported().then((reason) => reason && options.log.warn('containers with non-default masked or read-only paths will be refused', { reason }));
      const runtimeInfo = new RuntimeInfoService(ctx);
      const images = new ImageService(ctx);
      const sandboxes = new SandboxService(ctx);
      const containers = new ContainerService(ctx);
      // Catch up on output written while mascri was not running, then keep copying.
      await containers.resumeLogs().catch((error: unknown) => options.log.warn('could not resume container logs', { error: String(error) }));
      const exec = new ExecService(ctx);
      const events = new EventService(ctx);
      const stats = new StatsService(ctx);
      streaming = await StreamingService.start({ address: options.streamingAddress ?? DEFAULT_STREAMING_ADDRESS, ctx, idleTimeoutMs: options.streamIdleTimeoutMs, now: options.streamingClock });
      const handlers = createCriHandlers({ runtimeInfo, images, sandboxes, containers, exec, events, stats, streaming });
      idle = options.collectGarbage && new IdleCollector({ collect: options.collectGarbage, log: options.log });
      const observe: RpcObserver | undefined = metrics ? (method, code, ms) => metrics.observeRpc(method, code, ms) : undefined;

      server = new GrpcServer({
        maxReceiveMessageBytes: MAX_REQUEST_BYTES,
        onProtocolError: (message) => options.log.debug('a CRI client broke the HTTP/2 protocol; its connection was closed', { error: message }),
      });
      const runtimeService = servedCriService('RuntimeService');
      const imageService = servedCriService('ImageService');
      server.addService(runtimeService, implement('RuntimeService', runtimeService, handlers, options.log, observe, idle));
      server.addService(imageService, implement('ImageService', imageService, handlers, options.log, observe, idle));
      if (options.http && metrics) {
        const [{ HealthCheck }, { OperatorServer }] = await Promise.all([import('./operator/health.js'), import('./operator/http-server.js')]);
        const health = new HealthCheck(() => options.docker.system.version());
        operator = await OperatorServer.start({ address: options.http, handlers, metrics, health, log: options.log });
      }

      await server.listen(listenTarget(options.listen)).catch((error: unknown) => {
        throw new MascriError(GrpcCode.UNAVAILABLE, `cannot listen on ${options.listen}: ${error instanceof Error ? error.message : String(error)}`);
      });
      bound = true;
      if (path) await chmod(path, 0o660);
      options.log.info('serving the CRI', { endpoint: options.listen, instance: instance || '(default)', podInfraImage: options.podInfraImage, docker: options.docker.cli.binary });
      if (operator) options.log.info('serving the operator endpoint', { url: operator.url, paths: ['/healthz', '/metrics', '/v1/...'] });
      const mascri = new MascriServer(server, options.listen, path, options.log, ctx);
      mascri.streaming = streaming;
      mascri.claim = claim;
      mascri.operator = operator;
      mascri.idle = idle;
      mascri.runtimeInfo = runtimeInfo;
      idle?.start();
      return mascri;
    } catch (error) {
      // Undo whatever started: no event stream, log copier or listener may outlive a failed start.
      server?.forceShutdown();
      await operator?.close().catch(() => undefined);
      await streaming?.close().catch(() => undefined);
      ctx.store.stop();
      ctx.images.stop();
      ctx.rollbacks.close();
      options.docker.cli.close();
      await ctx.logs.close().catch(() => undefined);
      if (path && bound) await unlink(path).catch(() => undefined);
      await claim.release();
      throw error;
    }
  }

  /** Stops accepting calls, lets running ones finish briefly, and removes the socket file. */
  async stop(graceMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.grpcServer.shutdown(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.grpcServer.forceShutdown();
    this.idle?.stop();
    this.runtimeInfo?.close();
    await this.streaming?.close();
    await this.operator?.close();
    this.ctx.store.stop();
    this.ctx.images.stop();
    this.ctx.rollbacks.close();
    await this.ctx.logs.close();
    this.ctx.docker.cli.close();
    if (this.path) await unlink(this.path).catch(() => undefined);
    await this.claim?.release();
    this.log.info('stopped', { endpoint: this.endpoint });
  }
}

/**
 * Builds the gRPC implementation of `service` from its handlers in `handlers`: each is wrapped with
 * logging, error mapping and `observe` (metrics); `unaryCalls` hears each unary call begin and end
 * (the idle collector: streams stay open for long); a method without a handler (only a table of
 * some handlers has one) answers UNIMPLEMENTED, naming itself.
 */
export function implement(
  serviceName: CriServiceName,
  service: Record<string, GrpcMethod>,
  handlers: SomeCriHandlers,
  log: Logger,
  observe: RpcObserver = () => undefined,
  unaryCalls?: { callStarted(): void; callEnded(): void },
): Record<string, UnaryImplementation | StreamImplementation> {
  const impl: Record<string, UnaryImplementation | StreamImplementation> = {};
  for (const [method, definition] of Object.entries(service)) {
    const fullName = `${serviceName}/${method}`;
    if (definition.responseStream || definition.requestStream) {
      const stream = streamHandlerOf(handlers, serviceName, method);
      if (stream) {
        impl[method] = (call: ServerStreamCall) => {
          const started = performance.now();
          log.debug('stream opened', { method: fullName });
          // A stream ends once: by end() (OK), by an error status, or by the client cancelling.
          call.onDone((code: number) => {
            if (code === GrpcCode.CANCELLED) log.debug('stream closed', { method: fullName });
            observe(fullName, code, performance.now() - started);
          });
          stream(call);
        };
        continue;
      }
      impl[method] = (call: ServerStreamCall) => {
        log.debug('rpc', { method: fullName, ms: 0, code: 'Unimplemented' });
        observe(fullName, GrpcCode.UNIMPLEMENTED, 0);
        call.fail({ code: GrpcCode.UNIMPLEMENTED, details: notImplementedMessage(serviceName, method) });
      };
      continue;
    }
    const handler = unaryHandlerOf(handlers, serviceName, method);
    // Only the handlers that declare the signal (ExecSync, PullImage) get the call's own: making one
    // for every call (an AbortController) was a tenth of a status read's time in the server.
    const wantsSignal = (handler?.length ?? 0) >= 2;
    const unary: UnaryImplementation = (call) => {
      const started = performance.now();
      unaryCalls?.callStarted();
      const finish = (code: number, details?: string) => {
        const durationMs = performance.now() - started;
        unaryCalls?.callEnded();
        observe(fullName, code, durationMs);
        const failed = code === GrpcCode.INTERNAL || code === GrpcCode.UNKNOWN;
        if (!failed && !log.enabled('debug')) return;
        const fields: Record<string, unknown> = { method: fullName, ms: Math.round(durationMs * 10) / 10, code: grpcCodeName(code) };
        if (details) fields.error = details;
        if (failed) log.warn('rpc failed', fields);
        else log.debug('rpc', fields);
      };
      if (!handler) {
        const details = notImplementedMessage(serviceName, method);
        finish(GrpcCode.UNIMPLEMENTED, details);
        return Promise.reject(new StatusError({ code: GrpcCode.UNIMPLEMENTED, details }));
      }
      return handler(call.request, wantsSignal ? call.signal : NEVER_ABORTED).then(
        (response) => {
          finish(GrpcCode.OK);
          return response;
        },
        (error: unknown) => {
          const status = toServiceError(error);
          finish(status.code, status.details);
          throw new StatusError(status);
        },
      );
    };
    impl[method] = unary;
  }
  return impl;
}

/** The signal of the calls whose handlers do not take one. */
const NEVER_ABORTED = new AbortController().signal;

/** A rejection carrying the status a call ends with (the transport reads code and details). */
class StatusError extends Error {
  readonly code: number;
  readonly details?: string;
  constructor(status: GrpcStatus) {
    super(status.details);
    this.code = status.code;
    this.details = status.details;
  }
}

/** Where the gRPC server listens: a unix socket path, or host and port of "tcp://host:port". */
function listenTarget(endpoint: string): { path: string } | { host: string; port: number } {
  const path = socketPath(endpoint);
  if (path) return { path };
  const target = grpcTarget(endpoint);
  const colon = target.lastIndexOf(':');
  const port = Number(target.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new MascriError(GrpcCode.INVALID_ARGUMENT, `cannot listen on ${endpoint}: not unix:///path or tcp://host:port`);
  return { host: target.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port };
}
