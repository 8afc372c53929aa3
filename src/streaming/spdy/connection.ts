import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { HeaderCompressor, HeaderDecompressor } from './compression.js';
import {
  DEFAULT_WINDOW,
  encodeDataFrame,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  encodeSynStream,
  encodeWindowUpdate,
  FrameDecoder,
  RstStatus,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SpdyProtocolError,
  type SpdyFrame,
  type SpdyHeaders,
} from './frames.js';

/** Bytes per DATA frame we send. */
const MAX_CHUNK = 16 * 1024;
/** Consumed bytes after which we hand credit back with WINDOW_UPDATE. */
const WINDOW_UPDATE_THRESHOLD = DEFAULT_WINDOW / 2;
/** How long createStream waits for the peer's SYN_REPLY. */
const REPLY_TIMEOUT_MS = 30_000;

export type SpdyRole = 'server' | 'client';

/**
 * A SPDY/3.1 session over any byte stream (an upgraded HTTP socket, or a WebSocket
 * tunnel): streams, SYN/RST/GOAWAY, PING echo, and flow control.
 *
 * Flow control: we always grant the peer credit with WINDOW_UPDATE as our reader
 * consumes data (per stream and for the session). We limit what we send to the
 * peer's window only once the peer has shown it does SPDY/3.1 flow control (sent a
 * WINDOW_UPDATE or an initial-window SETTING): Go's spdystream, which kubelet and
 * client-go use, never sends WINDOW_UPDATE, and honouring a window it never
 * replenishes would stall every stream after 64 KiB.
 *
 * Events: 'stream' (SpdyStream opened by the peer; already replied to), 'goaway', 'close'.
 */
export class SpdyConnection extends EventEmitter {
  private readonly decoder = new FrameDecoder();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<void> = Promise.resolve();
  private nextStreamId: number;
  private nextPingId: number;
  private lastPeerStreamId = 0;
  private readonly pings = new Map<number, () => void>();
  /** True once the peer has shown it does SPDY/3.1 flow control. */
  private peerFlowControl = false;
  /** Initial send window for new streams (the peer's SETTINGS). */
  peerInitialWindow = DEFAULT_WINDOW;
  private sessionSendWindow = DEFAULT_WINDOW;
  private sessionUnacked = 0;
  private readonly windowWaiters = new Set<() => void>();
  private goneAway = false;
  private closedFlag = false;

  constructor(
    private readonly socket: Duplex,
    readonly role: SpdyRole,
  ) {
    super();
    this.nextStreamId = role === 'client' ? 1 : 2;
    this.nextPingId = role === 'client' ? 1 : 2;
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.terminate());
    socket.on('close', () => this.terminate());
    // The peer is done: finish our side too (upgraded HTTP sockets allow half-open).
    socket.on('end', () => {
      this.terminate();
      if (socket.writable) socket.end();
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Opens a stream (client side) and waits for the peer's SYN_REPLY. */
  async createStream(headers: SpdyHeaders, options: { fin?: boolean } = {}): Promise<SpdyStream> {
    if (this.closedFlag || this.goneAway) throw new Error('the SPDY connection is closed');
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers, false);
    this.streams.set(id, stream);
    const replied = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to SPDY stream ${id} within ${REPLY_TIMEOUT_MS / 1000} s`)), REPLY_TIMEOUT_MS);
      stream.onReply = (error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
    });
    if (options.fin) stream.markLocalFin();
    void this.enqueue(async () => encodeSynStream(id, await this.compressor.compress(headers), { fin: options.fin }));
    await replied;
    return stream;
  }

  /** Sends a PING and resolves when the peer echoes it. */
  ping(): Promise<void> {
    const id = this.nextPingId;
    this.nextPingId += 2;
    return new Promise<void>((resolve) => {
      this.pings.set(id, resolve);
      void this.enqueue(() => encodePing(id));
    });
  }

  /** Says GOAWAY, lets queued frames go out, then ends the socket. */
  async close(): Promise<void> {
    if (this.closedFlag) return;
    if (!this.goneAway) {
      this.goneAway = true;
      void this.enqueue(() => encodeGoAway(this.lastPeerStreamId));
    }
    await this.outbound;
    this.socket.end();
    const timer = setTimeout(() => this.socket.destroy(), 5000);
    timer.unref();
  }

  /** Tears the connection down at once. */
  destroy(): void {
    this.socket.destroy();
    this.terminate();
  }

  // ---- sending -------------------------------------------------------------

  /** Queues one frame (built lazily, in order); resolves once it is handed to the socket and the socket can take more. */
  enqueue(build: () => Buffer | Promise<Buffer>): Promise<void> {
    const next = this.outbound.then(async () => {
      if (this.socket.destroyed || !this.socket.writable) return;
      const frame = await build();
      if (!this.socket.write(frame)) await waitForDrain(this.socket);
    });
    this.outbound = next.catch(() => undefined);
    return next;
  }

  /** Sends `data` on a stream as DATA frames within the flow-control windows. */
  async writeData(stream: SpdyStream, data: Buffer, fin: boolean): Promise<void> {
    let offset = 0;
    do {
      let size = Math.min(MAX_CHUNK, data.length - offset);
      if (size > 0 && this.peerFlowControl) {
        while (Math.min(stream.sendWindow, this.sessionSendWindow) <= 0) {
          if (stream.isReset || this.closedFlag) throw new Error(`SPDY stream ${stream.id} is closed`);
          await new Promise<void>((resolve) => this.windowWaiters.add(resolve));
        }
        size = Math.min(size, stream.sendWindow, this.sessionSendWindow);
        stream.sendWindow -= size;
        this.sessionSendWindow -= size;
      }
      if (stream.isReset || this.closedFlag) throw new Error(`SPDY stream ${stream.id} is closed`);
      const chunk = data.subarray(offset, offset + size);
      offset += size;
      const last = fin && offset >= data.length;
      await this.enqueue(() => encodeDataFrame(stream.id, chunk, last));
    } while (offset < data.length);
  }

  /** Gives the peer back credit for `bytes` consumed on a stream (and on the session). */
  grantCredit(stream: SpdyStream, bytes: number): void {
    if (this.closedFlag) return;
    if (bytes > 0 && !stream.remoteFinished && !stream.isReset) void this.enqueue(() => encodeWindowUpdate(stream.id, bytes));
  }

  sendReset(stream: SpdyStream, status: number): void {
    void this.enqueue(() => encodeRstStream(stream.id, status));
  }

  /** Forgets a stream once both sides are done with it. */
  release(stream: SpdyStream): void {
    this.streams.delete(stream.id);
    this.wakeWindowWaiters();
  }

  private wakeWindowWaiters(): void {
    const waiters = [...this.windowWaiters];
    this.windowWaiters.clear();
    for (const wake of waiters) wake();
  }

  // ---- receiving -----------------------------------------------------------

  private receive(chunk: Buffer): void {
    let frames: SpdyFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch {
      this.destroy();
      return;
    }
    for (const frame of frames) {
      this.inbound = this.inbound.then(() => this.handle(frame)).catch(() => this.destroy());
    }
  }

  private async handle(frame: SpdyFrame): Promise<void> {
    if (this.closedFlag) return;
    switch (frame.type) {
      case 'syn_stream': {
        const headers = await this.decompressor.decompress(frame.headerBlock);
        const fromPeer = this.role === 'server' ? frame.streamId % 2 === 1 : frame.streamId % 2 === 0;
        if (!fromPeer || frame.streamId <= this.lastPeerStreamId) {
          void this.enqueue(() => encodeRstStream(frame.streamId, RstStatus.PROTOCOL_ERROR));
          return;
        }
        this.lastPeerStreamId = frame.streamId;
        if (this.goneAway) {
          void this.enqueue(() => encodeRstStream(frame.streamId, RstStatus.REFUSED_STREAM));
          return;
        }
        const stream = new SpdyStream(this, frame.streamId, headers, true);
        this.streams.set(frame.streamId, stream);
        // The reply goes out before anything the handler writes on the stream.
        void this.enqueue(async () => encodeSynReply(frame.streamId, await this.compressor.compress({})));
        if (frame.fin) stream.remoteFinish();
        this.emit('stream', stream);
        return;
      }
      case 'syn_reply': {
        await this.decompressor.decompress(frame.headerBlock);
        const stream = this.streams.get(frame.streamId);
        stream?.onReply?.();
        if (stream && frame.fin) stream.remoteFinish();
        return;
      }
      case 'headers': {
        await this.decompressor.decompress(frame.headerBlock);
        if (frame.fin) this.streams.get(frame.streamId)?.remoteFinish();
        return;
      }
      case 'data': {
        this.sessionUnacked += frame.data.length;
        if (this.sessionUnacked >= WINDOW_UPDATE_THRESHOLD) {
          const credit = this.sessionUnacked;
          this.sessionUnacked = 0;
          void this.enqueue(() => encodeWindowUpdate(0, credit));
        }
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        if (frame.data.length > 0) stream.receiveData(frame.data);
        if (frame.fin) stream.remoteFinish();
        return;
      }
      case 'rst_stream':
        this.streams.get(frame.streamId)?.peerReset(frame.status);
        return;
      case 'settings':
        for (const entry of frame.entries) {
          if (entry.id !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
          const delta = entry.value - this.peerInitialWindow;
          this.peerInitialWindow = entry.value;
          this.peerFlowControl = true;
          for (const stream of this.streams.values()) stream.sendWindow += delta;
          this.wakeWindowWaiters();
        }
        return;
      case 'window_update':
        this.peerFlowControl = true;
        if (frame.streamId === 0) this.sessionSendWindow += frame.delta;
        else {
          const stream = this.streams.get(frame.streamId);
          if (stream) stream.sendWindow += frame.delta;
        }
        this.wakeWindowWaiters();
        return;
      case 'ping': {
        const ours = frame.id % 2 === (this.role === 'client' ? 1 : 0);
        if (ours) {
          this.pings.get(frame.id)?.();
          this.pings.delete(frame.id);
        } else {
          void this.enqueue(() => encodePing(frame.id));
        }
        return;
      }
      case 'goaway':
        this.goneAway = true;
        this.emit('goaway', frame.lastGoodStreamId);
        return;
      default:
        return;
    }
  }

  private terminate(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.goneAway = true;
    for (const stream of [...this.streams.values()]) stream.connectionClosed();
    this.streams.clear();
    this.wakeWindowWaiters();
    this.compressor.close();
    this.decompressor.close();
    this.emit('close');
  }
}

/**
 * One SPDY stream as a Node Duplex: reading gives the peer's DATA (ending at its FIN),
 * writing sends DATA, end() sends FIN, destroy() resets the stream if it is still open.
 */
export class SpdyStream extends Duplex {
  sendWindow: number;
  /** Called by the connection when the SYN_REPLY (or a reset) arrives for a stream we opened. */
  onReply?: (error?: Error) => void;
  private unacked = 0;
  private waitingForRead = false;
  private localFin = false;
  private remoteFin = false;
  private wasReset = false;

  constructor(
    private readonly connection: SpdyConnection,
    readonly id: number,
    readonly headers: SpdyHeaders,
    readonly fromPeer: boolean,
  ) {
    super({ allowHalfOpen: true });
    this.sendWindow = connection.peerInitialWindow;
  }

  /** The first value of a header (names are lowercase). */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.split('\0')[0];
  }

  get isReset(): boolean {
    return this.wasReset;
  }

  get remoteFinished(): boolean {
    return this.remoteFin;
  }

  /** Abandons the stream: RST_STREAM to the peer (CANCEL by default). */
  reset(status: number = RstStatus.CANCEL): void {
    if (!this.wasReset && !(this.localFin && this.remoteFin)) this.connection.sendReset(this, status);
    this.wasReset = true;
    this.connection.release(this);
    this.destroy();
  }

  markLocalFin(): void {
    this.localFin = true;
  }

  receiveData(data: Buffer): void {
    if (this.remoteFin || this.wasReset) return;
    this.unacked += data.length;
    const more = this.push(data);
    if (more) this.ack(false);
    else this.waitingForRead = true;
  }

  remoteFinish(): void {
    if (this.remoteFin) return;
    this.remoteFin = true;
    this.push(null);
    this.maybeRelease();
  }

  peerReset(_status: number): void {
    this.wasReset = true;
    this.onReply?.(new SpdyProtocolError(`the peer reset SPDY stream ${this.id}`));
    this.onReply = undefined;
    if (!this.remoteFin) {
      this.remoteFin = true;
      this.push(null);
    }
    this.connection.release(this);
    this.destroy();
  }

  connectionClosed(): void {
    this.onReply?.(new Error('the SPDY connection closed'));
    this.onReply = undefined;
    this.wasReset = true;
    if (!this.remoteFin) {
      this.remoteFin = true;
      this.push(null);
    }
    // What the peer sent before closing may still wait in the read buffer of a paused reader
    // (a slow stdout): let it be read to the end before the stream goes, or it would be lost.
    if (this.readableLength > 0 && !this.readableEnded) this.once('end', () => this.destroy());
    else this.destroy();
  }

  private ack(force: boolean): void {
    if (this.unacked >= WINDOW_UPDATE_THRESHOLD || (force && this.unacked > 0)) {
      const credit = this.unacked;
      this.unacked = 0;
      this.connection.grantCredit(this, credit);
    }
  }

  private maybeRelease(): void {
    if (this.localFin && this.remoteFin) this.connection.release(this);
  }

  override _read(): void {
    if (this.waitingForRead) {
      this.waitingForRead = false;
      this.ack(true);
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.localFin || this.wasReset) {
      callback(new Error(`write on closed SPDY stream ${this.id}`));
      return;
    }
    if (chunk.length === 0) {
      callback();
      return;
    }
    this.connection.writeData(this, chunk, false).then(() => callback(), (error: Error) => callback(error));
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.localFin || this.wasReset) {
      callback();
      return;
    }
    this.localFin = true;
    this.connection.writeData(this, Buffer.alloc(0), true).then(
      () => {
        this.maybeRelease();
        callback();
      },
      () => callback(),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.wasReset && !(this.localFin && this.remoteFin) && !this.connection.closed) {
      this.wasReset = true;
      this.connection.sendReset(this, RstStatus.CANCEL);
    }
    this.connection.release(this);
    callback(error);
  }
}

function waitForDrain(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
