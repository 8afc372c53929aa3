import { PassThrough, Writable, type Readable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ServerContext } from '../context.js';
import {
  Channel,
  decodeChannelMessage,
  encodeBase64ChannelMessage,
  encodeChannelMessage,
  isBase64Protocol,
  JsonObjectSplitter,
  parseTerminalSize,
  type TerminalSize,
} from '../../streaming/channels.js';
import type { SpdyConnection, SpdyStream } from '../../streaming/spdy/connection.js';
import { encodeStatus, exitCodeStatus, internalErrorStatus, successStatus, type KubeStatus } from '../../streaming/status.js';

/** Remote-command sub-protocols over SPDY, preferred first. */
export const REMOTE_COMMAND_SPDY_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'] as const;

/** How long a client has to open its streams after the upgrade (kubelet's default too). */
const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** With a TTY, how long we wait for the client's first size before starting the process. */
const FIRST_SIZE_WAIT_MS = 1000;

/** What to run, from the Exec or Attach request the token was issued for. */
export interface RemoteCommandTarget {
  kind: 'exec' | 'attach';
  containerId: string;
  cmd: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
  /**
   * Attach to a container without stdin_once: the client's end of input is not passed on (Docker
   * would end the attach at once, before the container answered), only its going away ends it.
   */
  keepStdinOpen?: boolean;
}

/** The client's side of a remote command, whatever the transport. */
export interface RemoteCommandIO {
  protocol: string;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  onResize(listener: (size: TerminalSize) => void): void;
  /** Calls `listener` when the client goes away before the end. */
  onClientGone(listener: () => void): void;
  writeStatus(status: KubeStatus): Promise<void>;
  /** Ends the output streams and the connection. */
  finish(): Promise<void>;
}

/** Runs the exec or attach with the client's streams; returns when everything is closed. */
export async function runRemoteCommand(ctx: ServerContext, target: RemoteCommandTarget, io: RemoteCommandIO): Promise<void> {
  let latestSize: TerminalSize | undefined;
  let applySize: ((size: TerminalSize) => void) | undefined;
  let firstSize: (() => void) | undefined;
  io.onResize((size) => {
    latestSize = size;
    firstSize?.();
    applySize?.(size);
  });
  if (target.tty && !latestSize) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FIRST_SIZE_WAIT_MS);
      firstSize = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    firstSize = undefined;
  }

  const options = { stdin: target.stdin, tty: target.tty ? (latestSize ?? { width: 0, height: 0 }) : undefined };
  const proc = target.kind === 'exec' ? ctx.docker.sessions.exec(target.containerId, target.cmd, options) : ctx.docker.sessions.attach(target.containerId, options);
  applySize = (size) => proc.resize(size.width, size.height);

  let ended = false;
  io.onClientGone(() => {
    if (ended) return;
    ended = true;
    void proc.kill().then((killed) => ctx.log.debug(`${target.kind} killed: client gone`, { container: target.containerId, killedInContainer: killed }));
  });

  if (io.stdin) {
    if (proc.stdin) io.stdin.pipe(proc.stdin, { end: !target.keepStdinOpen });
    else io.stdin.resume();
  }
  const copies = [copyOutput(proc.stdout, io.stdout), copyOutput(proc.stderr, io.stderr)];
  const exitCode = await proc.exited;
  await Promise.all(copies);
  if (ended) return; // the client is gone: nobody to tell
  ended = true;
  let status: KubeStatus;
  if (target.kind === 'attach') status = exitCode === 0 || exitCode < 125 ? successStatus() : internalErrorStatus(`error attaching to container: docker attach exited with ${exitCode}`);
  else status = exitCode === 0 ? successStatus() : exitCodeStatus(target.cmd, exitCode);
  ctx.log.debug('remote command ended', { kind: target.kind, container: target.containerId, exitCode, protocol: io.protocol });
  try {
    await io.writeStatus(status);
  } finally {
    await io.finish();
  }
}

/**
 * Copies a process output to the client's stream (or drains it); resolves once all of it
 * was handed on, so that the exit status cannot overtake the last output.
 */
async function copyOutput(source: Readable | undefined, sink: Writable | undefined): Promise<void> {
  if (!source) return;
  await new Promise<void>((resolve) => {
    source.on('end', resolve);
    source.on('close', resolve);
    source.on('error', resolve);
    if (sink && !sink.destroyed) {
      sink.on('error', () => undefined);
      source.pipe(sink, { end: false });
    } else source.resume();
  });
  // Writes complete in order: this empty one completes after every queued chunk.
  if (sink && !sink.destroyed && !sink.writableEnded) await new Promise<void>((resolve) => sink.write(Buffer.alloc(0), () => resolve()));
}

/** Which streams a remote-command client must open: error, plus the requested ones, plus resize with a TTY (v3+). */
export function expectedStreamCount(target: RemoteCommandTarget, protocol: string): number {
  let count = 1;
  if (target.stdin) count++;
  if (target.stdout) count++;
  if (target.stderr && !target.tty) count++;
  if (target.tty && supportsResize(protocol)) count++;
  return count;
}

function supportsResize(protocol: string): boolean {
  return /^v[345]\./.test(protocol);
}

/** Waits for the client's SPDY streams (by `streamType`) and wraps them as RemoteCommandIO. */
export async function spdyRemoteCommandIO(connection: SpdyConnection, target: RemoteCommandTarget, protocol: string): Promise<RemoteCommandIO> {
  const expected = expectedStreamCount(target, protocol);
  const streams = new Map<string, SpdyStream>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      connection.off('stream', onStream);
      reject(new Error('timed out waiting for the client to create its streams'));
    }, STREAM_CREATION_TIMEOUT_MS);
    const onClose = () => {
      clearTimeout(timer);
      reject(new Error('the client closed the connection before creating its streams'));
    };
    const onStream = (stream: SpdyStream) => {
      const type = stream.header('streamtype') ?? '';
      if (!['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type)) {
        stream.reset();
        return;
      }
      streams.set(type, stream);
      if (streams.size >= expected) {
        clearTimeout(timer);
        connection.off('stream', onStream);
        connection.off('close', onClose);
        resolve();
      }
    };
    connection.on('stream', onStream);
    connection.once('close', onClose);
  });

  const error = streams.get('error');
  const resize = streams.get('resize');
  const resizeListeners: Array<(size: TerminalSize) => void> = [];
  if (resize) {
    const splitter = new JsonObjectSplitter();
    resize.on('data', (chunk: Buffer) => {
      for (const value of splitter.push(chunk)) {
        const size = parseTerminalSize(value);
        if (size) for (const listener of resizeListeners) listener(size);
      }
    });
    resize.on('error', () => undefined);
  }
  for (const stream of streams.values()) stream.on('error', () => undefined);
  // Nothing is read from these but the peer's FIN; keep them flowing.
  streams.get('stdout')?.resume();
  streams.get('stderr')?.resume();
  error?.resume();

  let finished = false;
  return {
    protocol,
    stdin: streams.get('stdin'),
    stdout: streams.get('stdout'),
    stderr: streams.get('stderr'),
    onResize: (listener) => resizeListeners.push(listener),
    onClientGone: (listener) =>
      connection.once('close', () => {
        if (!finished) listener();
      }),
    writeStatus: async (status) => {
      const bytes = encodeStatus(status, protocol);
      if (error && bytes.length > 0 && !error.destroyed) await new Promise<void>((resolve) => error.write(bytes, () => resolve()));
    },
    finish: async () => {
      finished = true;
      const ends = [...streams.entries()]
        .filter(([type]) => type !== 'stdin' && type !== 'resize')
        .map(([, stream]) => new Promise<void>((resolve) => (stream.destroyed || stream.writableEnded ? resolve() : stream.end(() => resolve()))));
      await Promise.race([Promise.all(ends), new Promise((resolve) => setTimeout(resolve, 5000))]);
      await connection.close();
    },
  };
}

/** Wraps a WebSocket speaking the channel protocol (v1-v5, binary or base64) as RemoteCommandIO. */
export function wsRemoteCommandIO(ws: WebSocket, target: RemoteCommandTarget, protocol: string): RemoteCommandIO {
  const base64 = isBase64Protocol(protocol);
  const v5 = protocol === 'v5.channel.k8s.io';
  const send = (channel: number, data: Buffer): Promise<void> =>
    new Promise<void>((resolve) => {
      if (ws.readyState !== ws.OPEN) return resolve();
      ws.send(base64 ? encodeBase64ChannelMessage(channel, data) : encodeChannelMessage(channel, data), () => resolve());
    });
  const output = (channel: number) =>
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (chunk.length === 0) return callback();
        send(channel, chunk).then(() => callback(), callback);
      },
    });
  const stdin = target.stdin ? new PassThrough() : undefined;
  const resizeListeners: Array<(size: TerminalSize) => void> = [];
  const splitter = new JsonObjectSplitter();
  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buffer = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
    const message = decodeChannelMessage(isBinary ? buffer : buffer.toString('utf8'), base64);
    if (!message) return;
    if (message.channel === Channel.STDIN) stdin?.write(message.data);
    else if (message.channel === Channel.RESIZE) {
      for (const value of splitter.push(message.data)) {
        const size = parseTerminalSize(value);
        if (size) for (const listener of resizeListeners) listener(size);
      }
    } else if (v5 && message.channel === Channel.CLOSE && message.data[0] === Channel.STDIN) stdin?.end();
  });
  let finished = false;
  const goneListeners: Array<() => void> = [];
  ws.on('close', () => {
    stdin?.end();
    if (!finished) for (const listener of goneListeners) listener();
  });
  ws.on('error', () => undefined);
  // Tell the client the connection is up: an empty message on the lowest writable channel.
  void send(target.stdout ? Channel.STDOUT : target.stderr ? Channel.STDERR : Channel.ERROR, Buffer.alloc(0));
  return {
    protocol,
    stdin,
    stdout: target.stdout ? output(Channel.STDOUT) : undefined,
    stderr: target.stderr && !target.tty ? output(Channel.STDERR) : undefined,
    onResize: (listener) => resizeListeners.push(listener),
    onClientGone: (listener) => goneListeners.push(listener),
    writeStatus: async (status) => {
      const bytes = encodeStatus(status, protocol);
      if (bytes.length > 0) await send(Channel.ERROR, bytes);
    },
    finish: async () => {
      finished = true;
      if (ws.readyState === ws.OPEN) ws.close(1000);
    },
  };
}
