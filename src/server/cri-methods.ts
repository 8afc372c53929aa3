import type { ServerStreamCall } from './transport/grpc-server.js';
import type { ImageServiceHandlers } from '../cri/generated/runtime/v1/ImageService.js';
import type { RuntimeServiceHandlers } from '../cri/generated/runtime/v1/RuntimeService.js';

/** The two CRI services. */
export type CriServiceName = 'RuntimeService' | 'ImageService';

/** The grpc-js handler types proto-loader-gen-types made of each service: every RPC, each with its own types. */
export interface GeneratedHandlers {
  RuntimeService: RuntimeServiceHandlers;
  ImageService: ImageServiceHandlers;
}

/** The RPC names of a service, as the .proto has them (without the index signature the generated type inherits). */
export type CriMethod<S extends CriServiceName> = keyof {
  [K in keyof GeneratedHandlers[S] as K extends string ? (string extends K ? never : K) : never]: true;
};

/**
 * The RPCs mascri answers UNIMPLEMENTED, each with the reason the caller reads. Their handlers
 * still check the request first (an empty or unknown ID is INVALID_ARGUMENT or NOT_FOUND, as for
 * any RPC), and the handler table requires that they never answer otherwise (see CriHandlers).
 */
export const UNIMPLEMENTED_RPCS = {
  RuntimeService: {
    /** The handler adds what this host lacks: ": <an experimental daemon, CRIU, ...>". */
    CheckpointContainer: 'CheckpointContainer is not supported by mascri on this host',
    CheckpointPod:
      'CheckpointPod is not supported by mascri: a pod checkpoint is made of container checkpoints, which mascri cannot make ' +
      '(see CheckpointContainer for what this host lacks); nothing was paused',
    RestorePod:
      'RestorePod is not supported by mascri: it makes no checkpoints, and Docker restores only its own checkpoints into an existing ' +
      'container, not a pod from a checkpoint archive; nothing was created',
    UpdatePodSandboxResources:
      'UpdatePodSandboxResources is not supported by mascri: Docker makes no pod-level cgroup it could resize (each container has its own; ' +
      'a --cgroup-parent belongs to the kubelet, which resizes it itself); resize the containers with UpdateContainerResources',
  },
  ImageService: {},
} as const satisfies { readonly [S in CriServiceName]: { readonly [M in CriMethod<S>]?: string } };

/** The RPCs of service S listed in UNIMPLEMENTED_RPCS. */
export type UnimplementedMethod<S extends CriServiceName> = keyof (typeof UNIMPLEMENTED_RPCS)[S];

/** What an RPC without a handler answers (the transports' fallback; the typed table has no such RPC). */
export function notImplementedMessage(service: CriServiceName | string, method: string): string {
  return `${service}.${method} is not implemented by mascri yet`;
}

/** A server-streaming RPC: the decoded request is on the call; it writes its responses, then ends (or emits an error status). */
export type StreamHandler<Req, Res> = (call: ServerStreamCall<Req, Res>) => void;
