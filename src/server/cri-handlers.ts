import type * as grpc from '@grpc/grpc-js';
import type { UnaryHandler } from './context.js';
import type { ContainerService } from './containers.js';
import type { CriMethod, CriServiceName, GeneratedHandlers, StreamHandler, UnimplementedMethod } from './cri-methods.js';
import type { EventService } from './events.js';
import type { ExecService } from './exec.js';
import type { ImageService } from './images.js';
import { listAsStream } from './list-streams.js';
import type { RuntimeInfoService } from './runtime-info.js';
import type { SandboxService } from './sandboxes.js';
import type { StatsService } from './stats/stats-service.js';
import type { StreamingService } from './streaming/service.js';

/** mascri's form of a generated grpc-js handler type: unary RPCs are UnaryHandlers, server-streaming ones StreamHandlers. */
type HandlerFor<H> =
  H extends grpc.handleServerStreamingCall<infer Req, infer Res> ? StreamHandler<Req, Res>
  : H extends grpc.handleUnaryCall<infer Req, infer Res> ? UnaryHandler<Req, Res>
  : never;

/** A handler that checks its request and then fails: it never answers (the RPCs of UNIMPLEMENTED_RPCS). */
type NeverAnswering<H> = H extends UnaryHandler<infer Req, unknown> ? UnaryHandler<Req, never> : H;

/**
 * The handlers of service S: exactly its RPCs, each with the request and response types of the
 * .proto (a missing or misspelt RPC does not compile); the RPCs listed in UNIMPLEMENTED_RPCS must
 * never answer.
 */
export type ServiceHandlers<S extends CriServiceName> = {
  [M in CriMethod<S>]: M extends UnimplementedMethod<S> ? NeverAnswering<HandlerFor<Generated<S, M>>> : HandlerFor<Generated<S, M>>;
};

type Generated<S extends CriServiceName, M> = GeneratedHandlers[S][M & keyof GeneratedHandlers[S]];

/** The server-streaming RPCs of service S (GetContainerEvents, the Stream* lists). */
export type StreamingMethod<S extends CriServiceName> = {
  [M in CriMethod<S>]: Generated<S, M> extends grpc.handleServerStreamingCall<infer _Req, infer _Res> ? M : never;
}[CriMethod<S>];

/** Every CRI handler, built once and served over gRPC and over the operator endpoint's JSON API. */
export interface CriHandlers {
  RuntimeService: ServiceHandlers<'RuntimeService'>;
  ImageService: ServiceHandlers<'ImageService'>;
}

/** Some of the handlers (unit tests of a transport); each transport answers UNIMPLEMENTED for the rest. */
export type SomeCriHandlers = { [S in CriServiceName]?: Partial<ServiceHandlers<S>> };

/** The CRI area services the handlers call. */
export interface CriServices {
  runtimeInfo: RuntimeInfoService;
  images: ImageService;
  sandboxes: SandboxService;
  containers: ContainerService;
  exec: ExecService;
  events: EventService;
  stats: StatsService;
  streaming: StreamingService;
}

/** The handler table: each RPC routed to its CRI area service. */
export function createCriHandlers(services: CriServices): CriHandlers {
  const { runtimeInfo, images, sandboxes, containers, exec, events, stats, streaming } = services;
  const runtimeUnary = {
    Version: () => runtimeInfo.version(),
    Status: (request) => runtimeInfo.status(request),
    RuntimeConfig: () => runtimeInfo.runtimeConfig(),
    UpdateRuntimeConfig: (request) => runtimeInfo.updateRuntimeConfig(request),
    CheckpointContainer: (request) => runtimeInfo.checkpointContainer(request),
    CheckpointPod: (request) => runtimeInfo.checkpointPod(request),
    RestorePod: (request) => runtimeInfo.restorePod(request),
    RunPodSandbox: (request) => sandboxes.runPodSandbox(request),
    StopPodSandbox: (request) => sandboxes.stopPodSandbox(request),
    RemovePodSandbox: (request) => sandboxes.removePodSandbox(request),
    PodSandboxStatus: (request) => sandboxes.podSandboxStatus(request),
    ListPodSandbox: (request) => sandboxes.listPodSandbox(request),
    CreateContainer: (request) => containers.createContainer(request),
    StartContainer: (request) => containers.startContainer(request),
    StopContainer: (request) => containers.stopContainer(request),
    RemoveContainer: (request) => containers.removeContainer(request),
    ContainerStatus: (request) => containers.containerStatus(request),
    ListContainers: (request) => containers.listContainers(request),
    ReopenContainerLog: (request) => containers.reopenContainerLog(request),
    ExecSync: (request, signal) => exec.execSync(request, signal),
    Exec: (request) => streaming.exec(request),
    Attach: (request) => streaming.attach(request),
    PortForward: (request) => streaming.portForward(request),
    ContainerStats: (request) => stats.containerStats(request),
    ListContainerStats: (request) => stats.listContainerStats(request),
    PodSandboxStats: (request) => stats.podSandboxStats(request),
    ListPodSandboxStats: (request) => stats.listPodSandboxStats(request),
    ListMetricDescriptors: () => stats.listMetricDescriptors(),
    ListPodSandboxMetrics: () => stats.listPodSandboxMetrics(),
    UpdateContainerResources: (request) => stats.updateContainerResources(request),
    UpdatePodSandboxResources: (request) => stats.updatePodSandboxResources(request),
  } satisfies Omit<ServiceHandlers<'RuntimeService'>, StreamingMethod<'RuntimeService'>>;
  const runtime = {
    ...runtimeUnary,
    GetContainerEvents: (call) => events.getContainerEvents(call),
    // The Stream* list RPCs answer what their List* RPC answers, in batches.
    StreamPodSandboxes: listAsStream(runtimeUnary.ListPodSandbox, 'items', 'podSandboxes'),
    StreamContainers: listAsStream(runtimeUnary.ListContainers, 'containers', 'containers'),
    StreamContainerStats: listAsStream(runtimeUnary.ListContainerStats, 'stats', 'containerStats'),
    StreamPodSandboxStats: listAsStream(runtimeUnary.ListPodSandboxStats, 'stats', 'podSandboxStats'),
    StreamPodSandboxMetrics: listAsStream(runtimeUnary.ListPodSandboxMetrics, 'podMetrics', 'podSandboxMetrics'),
  } satisfies ServiceHandlers<'RuntimeService'>;
  const imageUnary = {
    PullImage: (request, signal) => images.pullImage(request, signal),
    ListImages: (request) => images.listImages(request),
    ImageStatus: (request) => images.imageStatus(request),
    RemoveImage: (request) => images.removeImage(request),
    ImageFsInfo: () => images.imageFsInfo(),
  } satisfies Omit<ServiceHandlers<'ImageService'>, StreamingMethod<'ImageService'>>;
  const image = {
    ...imageUnary,
    StreamImages: listAsStream(imageUnary.ListImages, 'images', 'images'),
  } satisfies ServiceHandlers<'ImageService'>;
  return { RuntimeService: runtime, ImageService: image };
}

/** The handler of a unary RPC, for a transport that decodes requests with the RPC's own method definition. */
export function unaryHandlerOf(handlers: SomeCriHandlers, service: CriServiceName, method: string): UnaryHandler<unknown, unknown> | undefined {
  // The one place the table's types are let go of: the caller decodes bytes or JSON as this method's request.
  return (handlers[service] as Record<string, UnaryHandler<unknown, unknown> | undefined> | undefined)?.[method];
}

/** The handler of a server-streaming RPC (see unaryHandlerOf). */
export function streamHandlerOf(handlers: SomeCriHandlers, service: CriServiceName, method: string): StreamHandler<unknown, unknown> | undefined {
  return (handlers[service] as Record<string, StreamHandler<unknown, unknown> | undefined> | undefined)?.[method];
}
