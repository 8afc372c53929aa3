/**
 * HTTP/2 frames (RFC 9113 section 4 and 6): the constants and the pure encoding of the few frames a
 * gRPC server sends. The connection (http2-connection.ts) reads and writes them.
 */

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flags = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7). */
export const Http2Error = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** What every client sends first (RFC 9113 section 3.4). */
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_BYTES = 9;
/** The frame size every peer accepts until it says otherwise, and the largest this server reads. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const DEFAULT_WINDOW_SIZE = 65_535;
export const MAX_WINDOW_SIZE = 2 ** 31 - 1;

/** Writes a frame header into `into` at `at`. */
export function writeFrameHeader(into: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  into[at] = (length >>> 16) & 0xff;
  into[at + 1] = (length >>> 8) & 0xff;
  into[at + 2] = length & 0xff;
  into[at + 3] = type;
  into[at + 4] = flags;
  into.writeUInt32BE(streamId & 0x7fffffff, at + 5);
}

/** One whole frame. */
export function frame(type: number, flags: number, streamId: number, payload?: Buffer): Buffer {
  const length = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  writeFrameHeader(out, 0, length, type, flags, streamId);
  payload?.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** A SETTINGS frame with these [identifier, value] pairs. */
export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, payload);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment & 0x7fffffff);
  return frame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code);
  return frame(FrameType.RST_STREAM, 0, streamId, payload);
}

export function goAwayFrame(lastStreamId: number, code: number, debug = ''): Buffer {
  const text = Buffer.from(debug, 'utf8');
  const payload = Buffer.allocUnsafe(8 + text.length);
  payload.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  payload.writeUInt32BE(code, 4);
  text.copy(payload, 8);
  return frame(FrameType.GOAWAY, 0, 0, payload);
}

/**
 * A header block as frames: one HEADERS frame and as many CONTINUATION frames as the peer's frame
 * size needs; END_STREAM (when asked) on the HEADERS frame, END_HEADERS on the last one.
 */
export function headerFrames(streamId: number, block: Buffer, endStream: boolean, maxFrameSize: number): Buffer {
  if (block.length <= maxFrameSize) {
    return frame(FrameType.HEADERS, Flags.END_HEADERS | (endStream ? Flags.END_STREAM : 0), streamId, block);
  }
  const parts: Buffer[] = [];
  for (let at = 0; at < block.length; at += maxFrameSize) {
    const last = at + maxFrameSize >= block.length;
    const type = at === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
    const flags = (last ? Flags.END_HEADERS : 0) | (at === 0 && endStream ? Flags.END_STREAM : 0);
    parts.push(frame(type, flags, streamId, block.subarray(at, at + maxFrameSize)));
  }
  return Buffer.concat(parts);
}

/** `data` as DATA frames of at most `maxFrameSize` bytes (the caller has checked the flow-control windows). */
export function dataFrames(streamId: number, data: Buffer, maxFrameSize: number): Buffer {
  const count = Math.max(1, Math.ceil(data.length / maxFrameSize));
  const out = Buffer.allocUnsafe(count * FRAME_HEADER_BYTES + data.length);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const part = data.subarray(i * maxFrameSize, (i + 1) * maxFrameSize);
    writeFrameHeader(out, at, part.length, FrameType.DATA, 0, streamId);
    part.copy(out, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + part.length;
  }
  return out;
}
