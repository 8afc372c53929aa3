import * as grpc from '@grpc/grpc-js';
import { grpcTarget } from './endpoint.js';
import { loadCri } from './proto.js';
import type { MethodDefinition } from '@grpc/proto-loader';
import type { RuntimeServiceClient, RuntimeServiceDefinition, RuntimeServiceHandlers } from './generated/runtime/v1/RuntimeService.js';
import type { ImageServiceClient, ImageServiceDefinition, ImageServiceHandlers } from './generated/runtime/v1/ImageService.js';


export { DEFAULT_ENDPOINT, grpcTarget, socketPath } from './endpoint.js';

type Callback<Res> = (error: grpc.ServiceError | null, response?: Res) => void;
type UnaryMethod<Req, Res> = (request: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback<Res>) => grpc.ClientUnaryCall;

/** Request (input) and response (decoded output) types of a service method, from the generated definitions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the other type parameters are irrelevant here
type RequestOf<D, K extends keyof D> = D[K] extends MethodDefinition<infer Req, any, any, any> ? Req : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the other type parameters are irrelevant here
type ResponseOf<D, K extends keyof D> = D[K] extends MethodDefinition<any, any, any, infer Res> ? Res : never;
/** Names of the unary methods: their server handler takes (call, callback). */
type UnaryKeys<H> = { [K in keyof H]: H[K] extends (...args: infer P) => void ? (P['length'] extends 2 ? K : never) : never }[keyof H] & string;

type RuntimeMethod = UnaryKeys<RuntimeServiceHandlers>;
type ImageMethod = UnaryKeys<ImageServiceHandlers>;
export type RuntimeRequest<K extends RuntimeMethod> = RequestOf<RuntimeServiceDefinition, K>;
export type RuntimeResponse<K extends RuntimeMethod> = ResponseOf<RuntimeServiceDefinition, K>;
export type ImageRequest<K extends ImageMethod> = RequestOf<ImageServiceDefinition, K>;
export type ImageResponse<K extends ImageMethod> = ResponseOf<ImageServiceDefinition, K>;

export interface CallOptions {
  /** Milliseconds until the call fails with DEADLINE_EXCEEDED; 0 or undefined means none. */
  timeoutMs?: number;
}

/** A typed, promise-based client for mascri's (or any) CRI RuntimeService and ImageService. */
export class CriClient {
  readonly runtime: RuntimeServiceClient;
  readonly image: ImageServiceClient;

  constructor(
    readonly runtimeEndpoint: string,
    readonly imageEndpoint: string = runtimeEndpoint,
    readonly defaultTimeoutMs = 0,
  ) {
    const cri = loadCri();
    const options: grpc.ChannelOptions = { 'grpc.max_receive_message_length': 16 * 1024 * 1024 };
    this.runtime = new cri.runtime.v1.RuntimeService(grpcTarget(runtimeEndpoint), grpc.credentials.createInsecure(), options);
    this.image = new cri.runtime.v1.ImageService(grpcTarget(imageEndpoint), grpc.credentials.createInsecure(), options);
  }

  /** Calls a RuntimeService method, e.g. `client.callRuntime('Version', {})`. */
  callRuntime<K extends RuntimeMethod>(method: K, request: RuntimeRequest<K>, options?: CallOptions): Promise<RuntimeResponse<K>> {
    return this.unary(this.runtime, method as string, request, options);
  }

  /** Calls an ImageService method, e.g. `client.callImage('ListImages', {})`. */
  callImage<K extends ImageMethod>(method: K, request: ImageRequest<K>, options?: CallOptions): Promise<ImageResponse<K>> {
    return this.unary(this.image, method as string, request, options);
  }

  /** Waits until the runtime endpoint accepts connections, or rejects after `timeoutMs`. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.runtime.waitForReady(Date.now() + timeoutMs, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }

  private unary<Req, Res>(client: grpc.Client, method: string, request: Req, options?: CallOptions): Promise<Res> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    const callOptions: grpc.CallOptions = timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};
    const fn = (client as unknown as Record<string, UnaryMethod<Req, Res>>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`no such CRI method: ${method}`));
    return new Promise<Res>((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), callOptions, (error, response) => {
        if (error) reject(error);
        else resolve(response as Res);
      });
    });
  }
}
