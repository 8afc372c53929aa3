import { Duplex, PassThrough } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ServerContext } from '../context.js';
import { decodeChannelMessage, encodeBase64ChannelMessage, encodeChannelMessage, encodePortPrefix, isBase64Protocol } from '../../streaming/channels.js';
import type { SpdyConnection, SpdyStream } from '../../streaming/spdy/connection.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** How long the second stream of a pair may keep us waiting. */
const PAIR_TIMEOUT_MS = 30_000;

/** What a port-forward connection needs: the pod and the PID whose network namespace it uses. */
export interface PortForwardTarget {
  podSandboxId: string;
  pid: number;
  /** Ports named in the PortForward request (the WebSocket channel protocol forwards these). */
  ports: number[];
}

/**
 * Copies bytes between `data` and TCP port `port` on the pod's loopback, through a relay
 * started in the pod's network namespace. Resolves when both directions are done; rejects
 * with the reason when the connection could not be made.
 */
export async function forwardPort(ctx: ServerContext, target: PortForwardTarget, port: number, data: Duplex): Promise<void> {
  const connection = ctx.docker.network.connectInPod(target.pid, port);
  data.on('error', () => undefined);
  data.pipe(connection.input);
  connection.output.pipe(data);
  const close = () => connection.close();
  data.on('close', close);
  try {
    await connection.ended;
    ctx.log.debug('port-forward connection ended', { pod: target.podSandboxId, port });
  } finally {
    data.off('close', close);
  }
}

/** The error message kubelet writes on a port-forward error stream. */
function portForwardError(port: number, target: PortForwardTarget, error: unknown): Buffer {
  const message = `error forwarding port ${port} to pod ${target.podSandboxId}, uid : ${(error as Error).message}`;
  return Buffer.from(JSON.stringify({ message }) + '\n');
}

/**
 * Serves port forwarding on a SPDY connection (`portforward.k8s.io`): the client opens an
 * `error` and a `data` stream per forwarded connection, paired by `requestID`, the port in
 * the `port` header. Many pairs may run at once.
 */
export function serveSpdyPortForward(ctx: ServerContext, connection: SpdyConnection, target: PortForwardTarget): void {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }>();
  connection.on('stream', (stream: SpdyStream) => {
    stream.on('error', () => undefined);
    const port = Number(stream.header('port'));
    const type = stream.header('streamtype');
    if (!Number.isInteger(port) || port < 1 || port > 65535 || (type !== 'data' && type !== 'error')) {
      stream.reset();
      return;
    }
    // Old clients send no requestID: pair by stream IDs, as kubelet does.
    const requestId = stream.header('requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => {
        const stale = pairs.get(requestId);
        pairs.delete(requestId);
        stale?.error?.end(`timed out waiting for the ${stale.data ? 'error' : 'data'} stream of request ${requestId}`);
        stale?.data?.reset();
      }, PAIR_TIMEOUT_MS);
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (pair[type]) {
      stream.reset();
      return;
    }
    pair[type] = stream;
    if (type === 'error') stream.resume(); // the client only closes it
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestId);
      const { data, error } = pair;
      forwardPort(ctx, target, port, data).then(
        () => error.end(),
        (failure: unknown) => {
          ctx.log.debug('port-forward failed', { pod: target.podSandboxId, port, error: (failure as Error).message });
          error.end(portForwardError(port, target, failure));
          if (!data.writableEnded) data.end();
        },
      );
    }
  });
}

/**
 * Serves kubelet's channel-style WebSocket port forwarding: per requested port a data
 * channel (2i) and an error channel (2i+1), each starting with the port (uint16 LE).
 */
export function serveWebSocketPortForward(ctx: ServerContext, ws: WebSocket, protocol: string, target: PortForwardTarget, ports: number[]): void {
  const base64 = isBase64Protocol(protocol);
  const send = (channel: number, data: Buffer) =>
    new Promise<void>((resolve) => {
      if (ws.readyState !== ws.OPEN) return resolve();
      ws.send(base64 ? encodeBase64ChannelMessage(channel, data) : encodeChannelMessage(channel, data), () => resolve());
    });
  const inputs = ports.map(() => new PassThrough());
  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buffer = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
    const message = decodeChannelMessage(isBinary ? buffer : buffer.toString('utf8'), base64);
    if (!message || message.channel % 2 !== 0) return;
    inputs[message.channel / 2]?.write(message.data);
  });
  ws.on('close', () => inputs.forEach((input) => input.destroy()));
  ws.on('error', () => undefined);
  const runs = ports.map(async (port, i) => {
    await send(2 * i, encodePortPrefix(port));
    await send(2 * i + 1, encodePortPrefix(port));
    const input = inputs[i]!;
    const output = new PassThrough();
    output.on('data', (chunk: Buffer) => void send(2 * i, chunk));
    const data = duplexOf(input, output);
    try {
      await forwardPort(ctx, target, port, data);
    } catch (error) {
      await send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${target.podSandboxId}, uid : ${(error as Error).message}`));
    }
  });
  void Promise.all(runs).then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
}

/** A Duplex whose reads come from `input` and whose writes go to `output`. */
function duplexOf(input: PassThrough, output: PassThrough): Duplex {
  const duplex = new Duplex({
    read() {
      input.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      output.write(chunk, () => callback());
    },
    final(callback) {
      output.end();
      callback();
    },
  });
  input.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) input.pause();
  });
  input.on('end', () => duplex.push(null));
  input.on('close', () => duplex.push(null));
  return duplex;
}
