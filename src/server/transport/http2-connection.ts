import type { Socket } from 'node:net';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  FRAME_HEADER_BYTES,
  Flags,
  FrameType,
  Http2Error,
  MAX_WINDOW_SIZE,
  Setting,
  dataFrames,
  frame,
  goAwayFrame,
  headerFrames,
  rstStreamFrame,
  settingsFrame,
  windowUpdateFrame,
} from './frames.js';
import { HpackDecoder, HpackError } from './hpack.js';

/**
 * The server side of one HTTP/2 connection (RFC 9113), as much of it as gRPC over a local socket
 * uses: client streams only (no push), header blocks with CONTINUATION, both directions' flow
 * control, SETTINGS, PING, RST_STREAM and GOAWAY. Node's own http2 module does all this too, but
 * makes a Duplex stream, a header object and several callbacks across its C++ boundary per
 * request; for a server whose answers are in memory that was most of a call's cost.
 *
 * The receive windows are opened wide at once (a gRPC request is one message, its size checked by
 * the caller), so only the send side waits for the client's WINDOW_UPDATEs.
 */

/** One request stream, as the gRPC layer sees it. */
export interface ServerStream {
  readonly id: number;
  /** The request's header fields, in order (names lowercase, as HTTP/2 requires). */
  readonly headers: ReadonlyArray<[string, string]>;
  /** Set by the gRPC layer: each DATA payload (only valid during the call: copy what is kept), the end of the request, a cancel. */
  onData?: (chunk: Buffer) => void;
  onEnd?: () => void;
  /** The client reset the stream or the connection went away before the answer was sent. */
  onCancel?: () => void;
  /** Response header block (encoded), then data, then trailers (which end the stream). */
  sendHeaders(block: Buffer, endStream?: boolean): void;
  sendData(data: Buffer): void;
  sendTrailers(block: Buffer): void;
  /** Ends the stream at once with RST_STREAM (e.g. a request larger than allowed). */
  reset(code: number): void;
  /** True once the stream is answered, reset or cancelled. */
  readonly closed: boolean;
}

export interface ConnectionOptions {
  /** Called once a stream's request header block is complete. */
  onStream: (stream: ServerStream) => void;
  /** Protocol errors of the peer (logged by the caller at debug level). */
  onError?: (message: string) => void;
}

/** Our settings: the windows so large that a client never waits to send a request (see above). */
const STREAM_RECEIVE_WINDOW = MAX_WINDOW_SIZE;
const CONNECTION_RECEIVE_WINDOW = 2 ** 30;
const SERVER_SETTINGS = settingsFrame([
  [Setting.INITIAL_WINDOW_SIZE, STREAM_RECEIVE_WINDOW],
  [Setting.MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE],
]);
const SETTINGS_ACK = frame(FrameType.SETTINGS, Flags.ACK, 0);
/** Header blocks above this (joined CONTINUATIONs) are refused: no CRI request needs 1 MiB of headers. */
const MAX_HEADER_BLOCK_BYTES = 1024 * 1024;

type Queued = { data: Buffer; at: number } | { trailers: Buffer };

class Stream implements ServerStream {
  onData?: (chunk: Buffer) => void;
  onEnd?: () => void;
  onCancel?: () => void;
  remoteClosed = false;
  localClosed = false;
  sendWindow: number;
  readonly queue: Queued[] = [];

  constructor(
    private readonly connection: Http2Connection,
    readonly id: number,
    readonly headers: ReadonlyArray<[string, string]>,
  ) {
    this.sendWindow = connection.peerInitialWindow;
  }

  get closed(): boolean {
    return this.localClosed;
  }

  sendHeaders(block: Buffer, endStream = false): void {
    if (this.localClosed) return;
    this.connection.output(headerFrames(this.id, block, endStream, this.connection.peerMaxFrameSize));
    if (endStream) this.connection.closeLocal(this);
  }

  sendData(data: Buffer): void {
    if (this.localClosed) return;
    this.queue.push({ data, at: 0 });
    this.connection.flushStream(this);
  }

  sendTrailers(block: Buffer): void {
    if (this.localClosed) return;
    this.queue.push({ trailers: block });
    this.connection.flushStream(this);
  }

  reset(code: number): void {
    if (this.localClosed) return;
    this.connection.output(rstStreamFrame(this.id, code));
    this.connection.forget(this);
  }
}

export class Http2Connection {
  peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  peerInitialWindow = DEFAULT_WINDOW_SIZE;
  private sendWindow = DEFAULT_WINDOW_SIZE;
  private receivedSinceUpdate = 0;
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, Stream>();
  /** Streams with data waiting for the connection's send window. */
  private readonly blocked = new Set<Stream>();
  private lastStreamId = 0;
  private pending: Buffer | undefined;
  private prefaceSeen = false;
  /** A header block being joined from HEADERS + CONTINUATION frames. */
  private partial?: { streamId: number; endStream: boolean; fragments: Buffer[]; bytes: number };
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private goingAway = false;
  private dead = false;
  private idleListener?: () => void;

  constructor(
    private readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    socket.setNoDelay(true);
    this.output(SERVER_SETTINGS);
    this.output(windowUpdateFrame(0, CONNECTION_RECEIVE_WINDOW - DEFAULT_WINDOW_SIZE));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.destroy());
    // The client closed its side: no more requests, and no one reads the answers.
    socket.on('end', () => this.destroy(true));
  }

  /** Streams still open (a graceful shutdown waits for them). */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Takes no new streams (GOAWAY), lets the open ones finish, then closes; `idle` runs when it has closed. */
  shutdown(idle: () => void): void {
    if (this.dead) return idle();
    this.idleListener = idle;
    if (!this.goingAway) {
      this.goingAway = true;
      this.output(goAwayFrame(this.lastStreamId, Http2Error.NO_ERROR));
    }
    this.closeIfIdle();
  }

  /**
   * Closes the connection; open streams are cancelled. `ending`: what is written still goes out
   * (the socket ends, and is destroyed if the peer does not close its side soon).
   */
  destroy(ending = false): void {
    if (this.dead) {
      if (!ending) this.socket.destroy(); // an ending socket cut short
      return;
    }
    this.dead = true;
    const open = [...this.streams.values()];
    this.streams.clear();
    this.blocked.clear();
    for (const stream of open) {
      stream.localClosed = true;
      stream.onCancel?.();
    }
    if (ending) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else this.socket.destroy();
    const idle = this.idleListener;
    this.idleListener = undefined;
    idle?.();
  }

  // --- output ---------------------------------------------------------------------------------

  /** Queues bytes for the socket; everything queued in one turn of the event loop goes in one write. */
  output(bytes: Buffer): void {
    if (this.dead) return;
    this.out.push(bytes);
    this.outBytes += bytes.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushOutput());
    }
  }

  private flushOutput(): void {
    this.flushScheduled = false;
    if (this.dead || this.out.length === 0) return;
    const parts = this.out;
    const bytes = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    if (parts.length === 1) this.socket.write(parts[0]!);
    else if (bytes <= 64 * 1024) this.socket.write(Buffer.concat(parts, bytes));
    else {
      this.socket.cork();
      for (const part of parts) this.socket.write(part);
      this.socket.uncork();
    }
  }

  /** Sends what the windows allow of the stream's queue; trailers go once the data before them has. */
  flushStream(stream: Stream): void {
    while (stream.queue.length > 0 && !stream.localClosed) {
      const item = stream.queue[0]!;
      if ('trailers' in item) {
        stream.queue.shift();
        this.output(headerFrames(stream.id, item.trailers, true, this.peerMaxFrameSize));
        this.closeLocal(stream);
        return;
      }
      const left = item.data.length - item.at;
      const allowed = Math.min(left, stream.sendWindow, this.sendWindow);
      if (allowed <= 0 && left > 0) {
        if (this.sendWindow <= 0) this.blocked.add(stream);
        return;
      }
      const part = item.at === 0 && allowed === left ? item.data : item.data.subarray(item.at, item.at + allowed);
      this.output(dataFrames(stream.id, part, this.peerMaxFrameSize));
      stream.sendWindow -= allowed;
      this.sendWindow -= allowed;
      item.at += allowed;
      if (item.at >= item.data.length) stream.queue.shift();
    }
  }

  /** The server's side of a stream is done: the stream goes once the client's side is done too. */
  closeLocal(stream: Stream): void {
    stream.localClosed = true;
    if (!stream.remoteClosed) {
      // Answered before the whole request came (RFC 9113 8.1): tell the client to stop sending it.
      this.output(rstStreamFrame(stream.id, Http2Error.NO_ERROR));
    }
    this.forget(stream);
  }

  forget(stream: Stream): void {
    stream.localClosed = true;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    this.closeIfIdle();
  }

  private closeIfIdle(): void {
    if (this.goingAway && this.streams.size === 0 && !this.dead) {
      // Let the last answers go out before the socket ends.
      queueMicrotask(() => {
        this.flushOutput();
        this.destroy(true);
      });
    }
  }

  // --- input ----------------------------------------------------------------------------------

  private receive(chunk: Buffer): void {
    if (this.dead) return;
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (!this.prefaceSeen) {
      if (data.length < CLIENT_PREFACE.length) {
        if (!CLIENT_PREFACE.subarray(0, data.length).equals(data)) return this.fail(Http2Error.PROTOCOL_ERROR, 'not an HTTP/2 client (no connection preface)');
        this.pending = data;
        return;
      }
      if (!data.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) return this.fail(Http2Error.PROTOCOL_ERROR, 'not an HTTP/2 client (no connection preface)');
      this.prefaceSeen = true;
      data = data.subarray(CLIENT_PREFACE.length);
    }
    let at = 0;
    while (data.length - at >= FRAME_HEADER_BYTES && !this.dead) {
      const length = (data[at]! << 16) | (data[at + 1]! << 8) | data[at + 2]!;
      if (length > DEFAULT_MAX_FRAME_SIZE) return this.fail(Http2Error.FRAME_SIZE_ERROR, `a frame of ${length} bytes (at most ${DEFAULT_MAX_FRAME_SIZE})`);
      if (data.length - at < FRAME_HEADER_BYTES + length) break;
      const type = data[at + 3]!;
      const flags = data[at + 4]!;
      const streamId = data.readUInt32BE(at + 5) & 0x7fffffff;
      const payload = data.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + length);
      at += FRAME_HEADER_BYTES + length;
      this.onFrame(type, flags, streamId, payload);
    }
    if (at < data.length && !this.dead) this.pending = Buffer.from(data.subarray(at));
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.partial && type !== FrameType.CONTINUATION) return this.fail(Http2Error.PROTOCOL_ERROR, 'a header block was interrupted by another frame');
    switch (type) {
      case FrameType.DATA: return this.onDataFrame(flags, streamId, payload);
      case FrameType.HEADERS: return this.onHeadersFrame(flags, streamId, payload);
      case FrameType.CONTINUATION: return this.onContinuation(flags, streamId, payload);
      case FrameType.RST_STREAM: return this.onReset(streamId, payload);
      case FrameType.SETTINGS: return this.onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (payload.length !== 8) return this.fail(Http2Error.FRAME_SIZE_ERROR, 'a PING frame is 8 bytes');
        if (!(flags & Flags.ACK)) this.output(frame(FrameType.PING, Flags.ACK, 0, payload));
        return;
      case FrameType.WINDOW_UPDATE: return this.onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE: return this.fail(Http2Error.PROTOCOL_ERROR, 'a client may not push');
      case FrameType.GOAWAY: // the client opens no more streams; it closes the socket when done
      case FrameType.PRIORITY:
      default:
        return; // unknown frame types are ignored (RFC 9113 4.1)
    }
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(Http2Error.PROTOCOL_ERROR, 'DATA on stream 0');
    this.received(payload.length);
    const stream = this.streams.get(streamId);
    if (!stream) {
      if (streamId > this.lastStreamId) return this.fail(Http2Error.PROTOCOL_ERROR, `DATA on stream ${streamId}, never opened`);
      return; // a stream closed meanwhile (answered or reset): its frames in flight are dropped
    }
    if (stream.remoteClosed) return this.resetStream(stream, Http2Error.STREAM_CLOSED);
    const body = flags & Flags.PADDED ? this.unpad(payload) : payload;
    if (!body) return;
    if (body.length > 0) stream.onData?.(body);
    if (flags & Flags.END_STREAM) this.endRemote(stream);
  }

  /** Our receive window: opened wide at the start; topped up once half of it is used. */
  private received(bytes: number): void {
    this.receivedSinceUpdate += bytes;
    if (this.receivedSinceUpdate >= CONNECTION_RECEIVE_WINDOW / 2) {
      this.output(windowUpdateFrame(0, this.receivedSinceUpdate));
      this.receivedSinceUpdate = 0;
    }
  }

  private onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) return this.fail(Http2Error.PROTOCOL_ERROR, 'HEADERS on stream 0');
    let fragment = flags & Flags.PADDED ? this.unpad(payload) : payload;
    if (!fragment) return;
    if (flags & Flags.PRIORITY) {
      if (fragment.length < 5) return this.fail(Http2Error.FRAME_SIZE_ERROR, 'a HEADERS frame too short for its priority');
      fragment = fragment.subarray(5);
    }
    const endStream = (flags & Flags.END_STREAM) !== 0;
    if (flags & Flags.END_HEADERS) return this.onHeaderBlock(streamId, endStream, fragment);
    this.partial = { streamId, endStream, fragments: [Buffer.from(fragment)], bytes: fragment.length };
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    const partial = this.partial;
    if (!partial || partial.streamId !== streamId) return this.fail(Http2Error.PROTOCOL_ERROR, 'CONTINUATION without the HEADERS before it');
    partial.fragments.push(Buffer.from(payload));
    partial.bytes += payload.length;
    if (partial.bytes > MAX_HEADER_BLOCK_BYTES) return this.fail(Http2Error.PROTOCOL_ERROR, `a header block above ${MAX_HEADER_BLOCK_BYTES} bytes`);
    if (!(flags & Flags.END_HEADERS)) return;
    this.partial = undefined;
    this.onHeaderBlock(streamId, partial.endStream, Buffer.concat(partial.fragments, partial.bytes));
  }

  private onHeaderBlock(streamId: number, endStream: boolean, block: Buffer): void {
    let headers: Array<[string, string]>;
    try {
      // Decoded even for a stream that is gone: the decoder's table must see every block.
      headers = this.decoder.decode(block);
    } catch (error) {
      if (error instanceof HpackError) return this.fail(Http2Error.COMPRESSION_ERROR, `a header block: ${error.message}`);
      throw error;
    }
    const existing = this.streams.get(streamId);
    if (existing) {
      // Trailers from the client: gRPC clients send none, but they end the request all the same.
      if (endStream && !existing.remoteClosed) this.endRemote(existing);
      return;
    }
    if (streamId <= this.lastStreamId) return; // a stream closed meanwhile
    if (streamId % 2 === 0) return this.fail(Http2Error.PROTOCOL_ERROR, `a client opened stream ${streamId} (even: a server's)`);
    this.lastStreamId = streamId;
    if (this.goingAway) {
      this.output(rstStreamFrame(streamId, Http2Error.REFUSED_STREAM));
      return;
    }
    const stream = new Stream(this, streamId, headers);
    this.streams.set(streamId, stream);
    this.options.onStream(stream);
    if (endStream && this.streams.has(streamId)) this.endRemote(stream);
  }

  private endRemote(stream: Stream): void {
    stream.remoteClosed = true;
    stream.onEnd?.();
    if (stream.localClosed) this.forget(stream);
  }

  private onReset(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(Http2Error.FRAME_SIZE_ERROR, 'an RST_STREAM frame is 4 bytes');
    const stream = this.streams.get(streamId);
    if (!stream) return;
    const answered = stream.localClosed;
    this.forget(stream);
    if (!answered) stream.onCancel?.();
  }

  private resetStream(stream: Stream, code: number): void {
    const answered = stream.localClosed;
    this.output(rstStreamFrame(stream.id, code));
    this.forget(stream);
    if (!answered) stream.onCancel?.();
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.fail(Http2Error.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & Flags.ACK) return;
    if (payload.length % 6 !== 0) return this.fail(Http2Error.FRAME_SIZE_ERROR, 'a SETTINGS frame of a length not a multiple of 6');
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW_SIZE) return this.fail(Http2Error.FLOW_CONTROL_ERROR, `an initial window of ${value}`);
        // Every open stream's window moves by the change (RFC 9113 6.9.2).
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > 16_777_215) return this.fail(Http2Error.PROTOCOL_ERROR, `a maximum frame size of ${value}`);
        this.peerMaxFrameSize = value;
      }
      // HEADER_TABLE_SIZE: our encoder uses no dynamic table; the others concern a client's streams.
    }
    this.output(SETTINGS_ACK);
    for (const stream of [...this.streams.values()]) if (stream.queue.length > 0) this.flushStream(stream);
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.fail(Http2Error.FRAME_SIZE_ERROR, 'a WINDOW_UPDATE frame is 4 bytes');
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) return this.fail(Http2Error.PROTOCOL_ERROR, 'a WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW_SIZE) return this.fail(Http2Error.FLOW_CONTROL_ERROR, 'the connection window above 2^31-1');
      const waiting = [...this.blocked];
      this.blocked.clear();
      for (const stream of waiting) this.flushStream(stream);
      return;
    }
    const stream = this.streams.get(streamId);
    if (!stream) return;
    if (increment === 0) return this.resetStream(stream, Http2Error.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) return this.resetStream(stream, Http2Error.FLOW_CONTROL_ERROR);
    this.flushStream(stream);
  }

  /** A padded payload without its padding, or undefined (and the connection failed) when the padding is wrong. */
  private unpad(payload: Buffer): Buffer | undefined {
    if (payload.length < 1 || payload[0]! >= payload.length) {
      this.fail(Http2Error.PROTOCOL_ERROR, 'padding longer than the frame');
      return undefined;
    }
    return payload.subarray(1, payload.length - payload[0]!);
  }

  /** A connection error: GOAWAY with the code, then the socket closes. */
  private fail(code: number, message: string): void {
    if (this.dead) return;
    this.options.onError?.(message);
    this.output(goAwayFrame(this.lastStreamId, code, message));
    this.flushOutput();
    this.destroy(true);
  }
}
