import { createServer, type Server, type Socket } from 'node:net';
import { decodeChannelMessage, encodeChannelMessage } from '../../streaming/channels.js';
import type { SpdyConnection, SpdyStream } from '../../streaming/spdy/connection.js';
import { dialSpdy, dialWebSocket, type StreamingTls, type Transport } from './dial.js';

const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

export interface PortPair {
  local: number;
  remote: number;
}

/** Parses "[LOCAL:]REMOTE" (LOCAL 0 or empty: any free port). */
export function parsePortPair(text: string): PortPair {
  const match = /^(?:(\d*):)?(\d+)$/.exec(text.trim());
  const local = match ? Number(match[1] || (match[1] === '' ? 0 : match[2])) : NaN;
  const remote = match ? Number(match[2]) : NaN;
  if (!match || !(remote >= 1 && remote <= 65535) || !(local >= 0 && local <= 65535)) {
    throw new Error(`invalid port "${text}": use REMOTE, LOCAL:REMOTE or :REMOTE (ports 1-65535)`);
  }
  return { local, remote };
}

export interface PortForwarder {
  /** The local ports, once listening, in the order given. */
  ports: PortPair[];
  /** Resolves when the connection to the runtime is lost. */
  lost: Promise<void>;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 for each pair and forwards every accepted connection.
 * spdy: one SPDY session for all of them, a stream pair per connection (client-go's way).
 * websocket: kubelet's channel protocol, one WebSocket per connection, each at a fresh URL
 * from `urlFor` (tokens are single-use).
 */
export async function startPortForward(options: {
  url: URL;
  transport: Transport;
  pairs: PortPair[];
  /** A new streaming URL for one remote port (websocket transport). */
  urlFor: (remote: number) => Promise<URL>;
  tls?: StreamingTls;
  out: (line: string) => void;
  err: (line: string) => void;
}): Promise<PortForwarder> {
  let connection: SpdyConnection | undefined;
  if (options.transport === 'spdy') connection = (await dialSpdy(options.url, [PORT_FORWARD_PROTOCOL], options.tls)).connection;
  const lost = new Promise<void>((resolve) => connection?.once('close', () => resolve()));
  let nextRequestId = 0;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const ports: PortPair[] = [];
  try {
    for (const pair of options.pairs) {
      const server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        options.out(`Handling connection for ${(server.address() as { port: number }).port}`);
        if (connection) void handleConnection(connection, socket, pair.remote, nextRequestId++, options.err);
        else void handleWebSocketConnection(options.urlFor, socket, pair.remote, options.err, options.tls);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(pair.local, '127.0.0.1', () => resolve());
      });
      servers.push(server);
      const local = (server.address() as { port: number }).port;
      ports.push({ local, remote: pair.remote });
      options.out(`Forwarding from 127.0.0.1:${local} -> ${pair.remote}`);
    }
  } catch (error) {
    for (const server of servers) server.close();
    await connection?.close();
    throw new Error(`cannot listen on 127.0.0.1: ${(error as Error).message}`);
  }
  return {
    ports,
    lost,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      await connection?.close();
    },
  };
}

async function handleConnection(connection: SpdyConnection, socket: Socket, port: number, requestId: number, err: (line: string) => void): Promise<void> {
  socket.on('error', () => undefined);
  let error: SpdyStream;
  let data: SpdyStream;
  try {
    error = await connection.createStream({ streamtype: 'error', port: String(port), requestid: String(requestId) });
    error.end();
    data = await connection.createStream({ streamtype: 'data', port: String(port), requestid: String(requestId) });
  } catch (failure) {
    err(`error creating streams for port ${port}: ${(failure as Error).message}`);
    socket.destroy();
    return;
  }
  const message: Buffer[] = [];
  error.on('data', (chunk: Buffer) => message.push(chunk));
  error.on('error', () => undefined);
  data.on('error', () => undefined);
  socket.pipe(data);
  data.pipe(socket);
  await new Promise<void>((resolve) => {
    data.on('close', resolve);
    socket.on('close', () => {
      data.destroy();
      resolve();
    });
  });
  await new Promise<void>((resolve) => (error.readableEnded || error.destroyed ? resolve() : (error.once('end', resolve), error.once('close', resolve))));
  const text = Buffer.concat(message).toString().trim();
  if (text) {
    let shown = text;
    try {
      shown = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {
      // plain text
    }
    err(`an error occurred forwarding ${port}: ${shown}`);
  }
}

/** One forwarded connection over kubelet's WebSocket channel protocol: data on channel 0, errors on 1, each first carrying the port. */
async function handleWebSocketConnection(urlFor: (remote: number) => Promise<URL>, socket: Socket, port: number, err: (line: string) => void, tls?: StreamingTls): Promise<void> {
  socket.on('error', () => undefined);
  socket.pause();
  const prefixPending = [2, 2];
  const errors: Buffer[] = [];
  const onMessage = (raw: Buffer, isBinary: boolean) => {
    const message = decodeChannelMessage(isBinary ? raw : raw.toString('utf8'));
    if (!message || message.channel > 1) return;
    let data = message.data;
    const skip = Math.min(prefixPending[message.channel]!, data.length);
    prefixPending[message.channel]! -= skip;
    data = data.subarray(skip);
    if (data.length === 0) return;
    if (message.channel === 0) socket.write(data);
    else errors.push(data);
  };
  let ws: Awaited<ReturnType<typeof dialWebSocket>>;
  try {
    ws = await dialWebSocket(await urlFor(port), ['v4.channel.k8s.io', 'channel.k8s.io'], onMessage, tls);
  } catch (failure) {
    err(`error forwarding port ${port}: ${(failure as Error).message}`);
    socket.destroy();
    return;
  }
  socket.on('data', (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(encodeChannelMessage(0, chunk));
  });
  socket.on('end', () => ws.close(1000));
  socket.on('close', () => ws.close(1000));
  socket.resume();
  await new Promise<void>((resolve) => (ws.readyState === ws.CLOSED ? resolve() : ws.on('close', () => resolve())));
  socket.end();
  const text = Buffer.concat(errors).toString().trim();
  if (text) err(`an error occurred forwarding ${port}: ${text}`);
}
