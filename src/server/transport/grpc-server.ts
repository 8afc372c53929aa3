import { createServer, type Server, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { GrpcCode } from '../../common/errors.js';
import { encodeIndexed, encodeLiteral, encodeLiteralIndexedName } from './hpack.js';
import { Http2Connection, type ServerStream } from './http2-connection.js';

/**
 * A gRPC server (the PROTOCOL-HTTP2 wire format of grpc/grpc) on Http2Connection: unary and
 * server-streaming methods, deadlines (grpc-timeout), cancellation, compressed requests
 * (gzip, deflate), status and message in trailers. What the CRI needs and no more: no client
 * streaming, no response compression, no TLS (a local socket).
 */

/** A status a call ends with; `details` is the message a client shows. */
export interface GrpcStatus {
  code: number;
  details?: string;
}

/** What the server needs of a method (proto-loader's method definitions have it). */
export interface GrpcMethod {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestDeserialize: (bytes: Buffer) => unknown;
  responseSerialize: (value: never) => Buffer;
}

export interface UnaryCall<Req = unknown> {
  readonly request: Req;
  /** Aborted when the client cancels, the deadline passes or the connection goes. */
  readonly signal: AbortSignal;
  readonly cancelled: boolean;
}

export interface ServerStreamCall<Req = unknown, Res = unknown> extends UnaryCall<Req> {
  write(message: Res): void;
  /** Ends the stream with OK. */
  end(): void;
  /** Ends the stream with an error status. */
  fail(status: GrpcStatus): void;
  /** Called once when the stream is over: OK after end(), the code of fail(), CANCELLED or DEADLINE_EXCEEDED. */
  onDone(listener: (code: number) => void): void;
}

/** A unary method's implementation: the response, or a rejection with a GrpcStatus. */
export type UnaryImplementation = (call: UnaryCall) => Promise<unknown>;
export type StreamImplementation = (call: ServerStreamCall) => void;

export interface GrpcServerOptions {
  /** Largest request message accepted (RESOURCE_EXHAUSTED above it). */
  maxReceiveMessageBytes: number;
  /** Peers that break the protocol (for a debug log). */
  onProtocolError?: (message: string) => void;
}

const RESPONSE_HEADERS = Buffer.concat([encodeIndexed(8 /* :status 200 */), encodeLiteralIndexedName(31 /* content-type */, 'application/grpc')]);
const TRAILERS_OK = encodeLiteral('grpc-status', '0');
const UNSUPPORTED_MEDIA_TYPE = encodeLiteralIndexedName(8 /* :status */, '415');

/** grpc-message is percent-encoded UTF-8: everything outside printable ASCII, and '%' itself. */
export function percentEncode(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** The header block of a status: grpc-status and, when there is one, grpc-message. */
export function statusBlock(status: GrpcStatus): Buffer {
  if (status.code === GrpcCode.OK && !status.details) return TRAILERS_OK;
  const parts = [encodeLiteral('grpc-status', String(status.code))];
  if (status.details) parts.push(encodeLiteral('grpc-message', percentEncode(status.details)));
  return Buffer.concat(parts);
}

/** Each grpc-timeout unit as [multiply, divide] for milliseconds (divided, not multiplied by a fraction: 1999870u is 1999.87 exactly). */
const TIMEOUT_UNIT_MS: Record<string, readonly [number, number]> = { H: [3_600_000, 1], M: [60_000, 1], S: [1000, 1], m: [1, 1], u: [1, 1000], n: [1, 1_000_000] };

/** grpc-timeout ("1999870u", "5S") in milliseconds; undefined when absent or malformed. */
export function parseTimeout(value: string | undefined): number | undefined {
  if (!value || value.length < 2 || value.length > 9) return undefined;
  const unit = TIMEOUT_UNIT_MS[value[value.length - 1]!];
  const digits = value.slice(0, -1);
  if (unit === undefined || !/^\d+$/.test(digits)) return undefined;
  return (Number(digits) * unit[0]) / unit[1];
}

/** A 5-byte gRPC message prefix (not compressed) and the message. */
function framed(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = 0;
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
}

/** node:zlib, loaded at the first compressed request (CRI clients do not compress): 1 MiB of the server's memory otherwise. */
let zlibModule: typeof import('node:zlib') | undefined;
function zlib(): typeof import('node:zlib') {
  return (zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib'));
}

class Call implements ServerStreamCall {
  request: unknown;
  cancelled = false;
  private controller?: AbortController;
  private headersSent = false;
  private done = false;
  private timer?: NodeJS.Timeout;
  private doneListeners?: Array<(code: number) => void>;

  constructor(
    private readonly stream: ServerStream,
    private readonly method: GrpcMethod,
  ) {}

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.cancelled) this.controller.abort();
    return this.controller.signal;
  }

  setDeadline(ms: number): void {
    this.timer = setTimeout(() => {
      if (this.done) return;
      this.fail({ code: GrpcCode.DEADLINE_EXCEEDED, details: 'Deadline exceeded' });
      this.cancel(GrpcCode.DEADLINE_EXCEEDED);
    }, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    this.timer.unref();
  }

  write(message: unknown): void {
    if (this.done || this.cancelled) return;
    this.send((this.method.responseSerialize as (value: unknown) => Buffer)(message));
  }

  private send(body: Buffer): void {
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.sendHeaders(RESPONSE_HEADERS);
    }
    this.stream.sendData(framed(body));
  }

  end(): void {
    this.finish({ code: GrpcCode.OK });
  }

  fail(status: GrpcStatus): void {
    this.finish(status);
  }

  /** The unary answer: headers, the message and OK trailers at once. */
  answer(response: unknown): void {
    if (this.done || this.cancelled) return;
    let body: Buffer;
    try {
      body = (this.method.responseSerialize as (value: unknown) => Buffer)(response);
    } catch (error) {
      return this.finish({ code: GrpcCode.INTERNAL, details: `the response could not be encoded: ${error instanceof Error ? error.message : String(error)}` });
    }
    this.send(body);
    this.finish({ code: GrpcCode.OK });
  }

  onDone(listener: (code: number) => void): void {
    if (this.done) return listener(this.cancelled ? GrpcCode.CANCELLED : GrpcCode.OK);
    (this.doneListeners ??= []).push(listener);
  }

  /** Sends the status and ends the stream (trailers-only when nothing was sent). */
  finish(status: GrpcStatus): void {
    if (this.done) return;
    this.settle(status.code);
    if (this.cancelled || this.stream.closed) return;
    if (this.headersSent) this.stream.sendTrailers(statusBlock(status));
    else this.stream.sendHeaders(Buffer.concat([RESPONSE_HEADERS, statusBlock(status)]), true);
  }

  /** The client went away (reset, connection closed) or the deadline passed. */
  cancel(code: number = GrpcCode.CANCELLED): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.controller?.abort();
    this.settle(code);
  }

  private settle(code: number): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    const listeners = this.doneListeners;
    this.doneListeners = undefined;
    if (listeners) for (const listener of listeners) listener(code);
  }
}

function statusOf(error: unknown): GrpcStatus {
  if (typeof error === 'object' && error !== null && typeof (error as GrpcStatus).code === 'number') return error as GrpcStatus;
  return { code: GrpcCode.UNKNOWN, details: error instanceof Error ? error.message : String(error) };
}

interface Route {
  method: GrpcMethod;
  unary?: UnaryImplementation;
  stream?: StreamImplementation;
}

export class GrpcServer {
  private readonly routes = new Map<string, Route>();
  private readonly services = new Set<string>();
  private readonly connections = new Set<Http2Connection>();
  private server?: Server;

  constructor(private readonly options: GrpcServerOptions) {}

  /** Serves each method of `service` with its implementation in `implementation` (by method name). */
  addService(service: Record<string, GrpcMethod>, implementation: Record<string, UnaryImplementation | StreamImplementation>): void {
    for (const [name, method] of Object.entries(service)) {
      const fn = implementation[name];
      if (!fn) continue;
      if (method.requestStream) throw new Error(`${method.path}: client-streaming methods are not supported`);
      this.routes.set(method.path, method.responseStream ? { method, stream: fn as StreamImplementation } : { method, unary: fn as UnaryImplementation });
      this.services.add(method.path.slice(1, method.path.lastIndexOf('/')));
    }
  }

  /** Listens on a unix socket path, or on "host:port" (port 0: any free port); resolves to the port (0 for a socket). */
  listen(target: { path: string } | { host: string; port: number }): Promise<number> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(target, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  /** Stops taking connections and streams; resolves once every open call has ended. */
  shutdown(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    const drained = [...this.connections].map((connection) => new Promise<void>((resolve) => connection.shutdown(resolve)));
    return Promise.all([closed, ...drained]).then(() => undefined);
  }

  /** Closes every connection now (open calls are cancelled). */
  forceShutdown(): void {
    this.server?.close();
    for (const connection of this.connections) connection.destroy();
    this.connections.clear();
  }

  private accept(socket: Socket): void {
    const connection = new Http2Connection(socket, {
      onStream: (stream) => this.onStream(stream),
      onError: this.options.onProtocolError,
    });
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }

  private onStream(stream: ServerStream): void {
    let path: string | undefined;
    let contentType: string | undefined;
    let timeout: string | undefined;
    let encoding: string | undefined;
    let httpMethod: string | undefined;
    for (const [name, value] of stream.headers) {
      if (name === ':path') path = value;
      else if (name === 'content-type') contentType = value;
      else if (name === 'grpc-timeout') timeout = value;
      else if (name === 'grpc-encoding') encoding = value;
      else if (name === ':method') httpMethod = value;
    }
    if (httpMethod !== 'POST' || !contentType?.startsWith('application/grpc')) {
      // Not a gRPC request (gRPC over HTTP/2: HTTP 415 for a content type it does not speak).
      stream.sendHeaders(UNSUPPORTED_MEDIA_TYPE, true);
      return;
    }
    const route = path ? this.routes.get(path) : undefined;
    if (!route) {
      const service = path?.slice(1, path.lastIndexOf('/')) ?? '';
      const details = this.services.has(service) ? `unknown method ${path!.slice(path!.lastIndexOf('/') + 1)} for service ${service}` : `unknown service ${service}`;
      stream.sendHeaders(Buffer.concat([RESPONSE_HEADERS, statusBlock({ code: GrpcCode.UNIMPLEMENTED, details })]), true);
      return;
    }
    const call = new Call(stream, route.method);
    const ms = parseTimeout(timeout);
    if (ms !== undefined) call.setDeadline(ms);
    stream.onCancel = () => call.cancel();
    const max = this.options.maxReceiveMessageBytes;
    const chunks: Buffer[] = [];
    let received = 0;
    let declared: number | undefined;
    stream.onData = (chunk) => {
      received += chunk.length;
      chunks.push(chunk);
      // The message's length, read once its 5-byte prefix is in (not by joining the chunks at every frame).
      if (declared === undefined && received >= 5) declared = (chunks.length === 1 ? chunk : Buffer.concat(chunks, received)).readUInt32BE(1);
      if (declared !== undefined && (declared > max || received > max + 5)) {
        call.fail({ code: GrpcCode.RESOURCE_EXHAUSTED, details: `Received message larger than max (${Math.max(declared, received - 5)} vs. ${max})` });
      }
    };
    stream.onEnd = () => {
      if (call.cancelled || stream.closed) return;
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      let request: unknown;
      try {
        request = route.method.requestDeserialize(this.message(bytes, encoding));
      } catch (error) {
        const status = statusOf(error);
        call.fail(status.code === GrpcCode.UNKNOWN ? { code: GrpcCode.INTERNAL, details: `Error deserializing request: ${status.details}` } : status);
        return;
      }
      call.request = request;
      if (route.stream) {
        route.stream(call);
        return;
      }
      route.unary!(call).then(
        (response) => call.answer(response),
        (error: unknown) => call.finish(statusOf(error)),
      );
    };
  }

  /** The one message of a request, decompressed; throws a GrpcStatus when there is not exactly one. */
  private message(bytes: Buffer, encoding: string | undefined): Buffer {
    if (bytes.length < 5) throw { code: GrpcCode.INTERNAL, details: 'the request has no message' } satisfies GrpcStatus;
    const length = bytes.readUInt32BE(1);
    if (bytes.length !== 5 + length) {
      const details = bytes.length < 5 + length ? 'the request ended inside its message' : 'a unary or server-streaming request has one message, this has more';
      throw { code: GrpcCode.INTERNAL, details } satisfies GrpcStatus;
    }
    const body = bytes.subarray(5);
    if (bytes[0] === 0) return body;
    if (encoding === 'gzip') return zlib().gunzipSync(body, { maxOutputLength: this.options.maxReceiveMessageBytes });
    if (encoding === 'deflate') return zlib().inflateSync(body, { maxOutputLength: this.options.maxReceiveMessageBytes });
    throw { code: GrpcCode.UNIMPLEMENTED, details: `a request compressed with ${encoding ? `"${encoding}"` : 'no grpc-encoding'}: this server reads gzip and deflate` } satisfies GrpcStatus;
  }
}
