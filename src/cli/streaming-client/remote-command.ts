import type { Readable, Writable } from 'node:stream';
import { Channel, decodeChannelMessage, encodeChannelMessage, encodeCloseSignal, type TerminalSize } from '../../streaming/channels.js';
import type { SpdyStream } from '../../streaming/spdy/connection.js';
import { decodeStatus } from '../../streaming/status.js';
import { dialSpdy, dialWebSocket, type StreamingTls, type Transport } from './dial.js';

/** Remote-command protocols the client offers over SPDY, preferred first (client-go's list). */
const SPDY_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io'];
/** Over WebSocket (v5 signals stdin EOF; v4 for older servers). */
const WS_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export interface RemoteCommandOptions {
  url: URL;
  transport: Transport;
  stdin?: Readable;
  stdout: Writable;
  stderr?: Writable;
  tty: boolean;
  /** With a TTY: subscribes to terminal sizes (called at once with the current one); answers an unsubscribe. */
  sizes?: (send: (size: TerminalSize) => void) => () => void;
  tls?: StreamingTls;
}

/** Runs a remote command (exec or attach) at a streaming URL; resolves with its exit code. */
export async function streamRemoteCommand(options: RemoteCommandOptions): Promise<number> {
  const errorBytes = options.transport === 'spdy' ? await overSpdy(options) : await overWebSocket(options);
  // v4 and v5 servers always end with a status, success included: none means the connection was cut.
  if (/^v[45]\./.test(errorBytes.protocol) && errorBytes.bytes.length === 0) {
    throw new Error('the streaming connection closed before the command\'s exit status arrived (the server went away, or closed the connection as idle)');
  }
  const outcome = decodeStatus(errorBytes.bytes, errorBytes.protocol);
  if (outcome.error) throw outcome.error;
  return outcome.exitCode ?? 0;
}

async function overSpdy(options: RemoteCommandOptions): Promise<{ bytes: Buffer; protocol: string }> {
  const { connection, protocol } = await dialSpdy(options.url, SPDY_PROTOCOLS, options.tls);
  try {
    const error = await connection.createStream({ streamtype: 'error' });
    error.end(); // we never write on it
    const errorRead = readAll(error);
    const stdin = options.stdin ? await connection.createStream({ streamtype: 'stdin' }) : undefined;
    const stdout = await connection.createStream({ streamtype: 'stdout' });
    const stderr = options.tty ? undefined : await connection.createStream({ streamtype: 'stderr' });
    const resize = options.tty && /^v[345]\./.test(protocol) ? await connection.createStream({ streamtype: 'resize' }) : undefined;
    let unsubscribe: (() => void) | undefined;
    if (resize && options.sizes) {
      resize.on('error', () => undefined);
      unsubscribe = options.sizes((size) => {
        if (!resize.destroyed && !resize.writableEnded) resize.write(JSON.stringify({ Width: size.width, Height: size.height }) + '\n');
      });
    }
    if (stdin && options.stdin) {
      stdin.on('error', () => undefined);
      options.stdin.pipe(stdin);
    }
    await Promise.all([copyTo(stdout, options.stdout), stderr ? copyTo(stderr, options.stderr ?? options.stdout) : Promise.resolve()]);
    const bytes = await errorRead;
    unsubscribe?.();
    options.stdin?.unpipe();
    return { bytes, protocol };
  } finally {
    await connection.close();
  }
}

async function overWebSocket(options: RemoteCommandOptions): Promise<{ bytes: Buffer; protocol: string }> {
  const errors: Buffer[] = [];
  const ws = await dialWebSocket(options.url, WS_PROTOCOLS, (raw, isBinary) => {
    const message = decodeChannelMessage(isBinary ? raw : raw.toString('utf8'));
    if (!message || message.data.length === 0) return;
    if (message.channel === Channel.STDOUT) options.stdout.write(message.data);
    else if (message.channel === Channel.STDERR) (options.stderr ?? options.stdout).write(message.data);
    else if (message.channel === Channel.ERROR) errors.push(message.data);
  }, options.tls);
  const protocol = ws.protocol;
  const send = (data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(data);
  };
  let unsubscribe: (() => void) | undefined;
  if (options.tty && options.sizes) unsubscribe = options.sizes((size) => send(encodeChannelMessage(Channel.RESIZE, Buffer.from(JSON.stringify({ Width: size.width, Height: size.height })))));
  const onStdin = (chunk: Buffer) => send(encodeChannelMessage(Channel.STDIN, chunk));
  const onStdinEnd = () => {
    if (protocol === 'v5.channel.k8s.io') send(encodeCloseSignal(Channel.STDIN));
  };
  options.stdin?.on('data', onStdin);
  options.stdin?.on('end', onStdinEnd);
  await new Promise<void>((resolve, reject) => {
    if (ws.readyState === ws.CLOSED) return resolve();
    ws.on('close', () => resolve());
    ws.on('error', (error) => reject(error));
  });
  unsubscribe?.();
  options.stdin?.off('data', onStdin);
  options.stdin?.off('end', onStdinEnd);
  return { bytes: Buffer.concat(errors), protocol };
}

function readAll(stream: SpdyStream): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('close', () => resolve(Buffer.concat(chunks)));
    stream.on('error', () => resolve(Buffer.concat(chunks)));
  });
}

function copyTo(source: SpdyStream, sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    source.on('data', (chunk: Buffer) => {
      if (!sink.write(chunk)) {
        source.pause();
        sink.once('drain', () => source.resume());
      }
    });
    source.on('end', resolve);
    source.on('close', resolve);
    source.on('error', resolve);
  });
}
