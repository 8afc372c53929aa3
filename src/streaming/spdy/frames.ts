/**
 * SPDY/3.1 framing (the subset Kubernetes' httpstream uses): pure encoders and a
 * streaming decoder. Header blocks are handled here uncompressed; compression.ts
 * compresses them with the SPDY dictionary.
 */

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;
export const FLAG_UNIDIRECTIONAL = 0x02;

/** RST_STREAM status codes. */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
  FRAME_TOO_LARGE: 11,
} as const;

export const SETTINGS_INITIAL_WINDOW_SIZE = 7;
/** Every stream's (and, in SPDY/3.1, the session's) window before any SETTINGS or WINDOW_UPDATE. */
export const DEFAULT_WINDOW = 64 * 1024;
export const MAX_FRAME_LENGTH = 0xffffff;
const MAX_STREAM_ID = 0x7fffffff;

/** A name/value header block: names lowercase; several values of one name are joined by NUL, as on the wire. */
export type SpdyHeaders = Record<string, string>;

export interface SettingsEntry {
  flags: number;
  id: number;
  value: number;
}

/** One decoded frame. Header blocks (`headerBlock`) are still compressed. */
export type SpdyFrame =
  | { type: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedStreamId: number; priority: number; fin: boolean; unidirectional: boolean; headerBlock: Buffer }
  | { type: 'syn_reply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; clear: boolean; entries: SettingsEntry[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number; flags: number; payload: Buffer };

/** A framing violation: the connection cannot go on. */
export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

/** A DATA frame: 0|stream-id(31), flags(8), length(24), data. */
export function encodeDataFrame(streamId: number, data: Buffer, fin: boolean): Buffer {
  if (data.length > MAX_FRAME_LENGTH) throw new RangeError(`a DATA frame holds at most ${MAX_FRAME_LENGTH} bytes`);
  const frame = Buffer.allocUnsafe(8 + data.length);
  frame.writeUInt32BE(streamId & MAX_STREAM_ID, 0);
  frame.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24) | data.length, 4);
  data.copy(frame, 8);
  return frame;
}

/** A control frame: 1|version(15), type(16), flags(8), length(24), payload. */
export function encodeControlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_LENGTH) throw new RangeError(`a control frame holds at most ${MAX_FRAME_LENGTH} bytes`);
  const frame = Buffer.allocUnsafe(8 + payload.length);
  frame.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  frame.writeUInt16BE(type, 2);
  frame.writeUInt32BE(((flags & 0xff) << 24 >>> 0) | payload.length, 4);
  payload.copy(frame, 8);
  return frame;
}

export function encodeSynStream(streamId: number, headerBlock: Buffer, options: { fin?: boolean; unidirectional?: boolean; associatedStreamId?: number; priority?: number } = {}): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & MAX_STREAM_ID, 0);
  fixed.writeUInt32BE((options.associatedStreamId ?? 0) & MAX_STREAM_ID, 4);
  fixed.writeUInt8(((options.priority ?? 0) & 0x7) << 5, 8);
  fixed.writeUInt8(0, 9); // credential slot
  const flags = (options.fin ? FLAG_FIN : 0) | (options.unidirectional ? FLAG_UNIDIRECTIONAL : 0);
  return encodeControlFrame(FrameType.SYN_STREAM, flags, Buffer.concat([fixed, headerBlock]));
}

export function encodeSynReply(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  return encodeControlFrame(FrameType.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([uint32(streamId & MAX_STREAM_ID), headerBlock]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return encodeControlFrame(FrameType.RST_STREAM, 0, Buffer.concat([uint32(streamId & MAX_STREAM_ID), uint32(status)]));
}

export function encodePing(id: number): Buffer {
  return encodeControlFrame(FrameType.PING, 0, uint32(id));
}

export function encodeGoAway(lastGoodStreamId: number, status = 0): Buffer {
  return encodeControlFrame(FrameType.GOAWAY, 0, Buffer.concat([uint32(lastGoodStreamId & MAX_STREAM_ID), uint32(status)]));
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  return encodeControlFrame(FrameType.WINDOW_UPDATE, 0, Buffer.concat([uint32(streamId & MAX_STREAM_ID), uint32(delta & 0x7fffffff)]));
}

/** The uncompressed name/value block: count(32), then length(32)+name, length(32)+value per pair. */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const names = Object.keys(headers);
  parts.push(uint32(names.length));
  for (const name of names) {
    const nameBytes = Buffer.from(name.toLowerCase(), 'utf8');
    const valueBytes = Buffer.from(headers[name]!, 'utf8');
    parts.push(uint32(nameBytes.length), nameBytes, uint32(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed name/value block; names are lowercased (Go's framer rejects others anyway). */
export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = {};
  if (block.length < 4) throw new SpdyProtocolError('header block shorter than its pair count');
  const count = block.readUInt32BE(0);
  let offset = 4;
  const take = (): string => {
    if (offset + 4 > block.length) throw new SpdyProtocolError('header block truncated');
    const length = block.readUInt32BE(offset);
    offset += 4;
    if (offset + length > block.length) throw new SpdyProtocolError('header block truncated');
    const text = block.toString('utf8', offset, offset + length);
    offset += length;
    return text;
  };
  for (let i = 0; i < count; i++) {
    const name = take().toLowerCase();
    const value = take();
    if (name in headers) throw new SpdyProtocolError(`header "${name}" appears twice`);
    headers[name] = value;
  }
  return headers;
}

/** Decodes frames from a byte stream; `push` answers every frame completed by the chunk. */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SpdyFrame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: SpdyFrame[] = [];
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) break;
      const frame = this.buffer.subarray(0, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      frames.push(decodeFrame(frame));
    }
    return frames;
  }
}

/** Decodes one whole frame (header and payload). */
export function decodeFrame(frame: Buffer): SpdyFrame {
  const first = frame.readUInt32BE(0);
  const flags = frame.readUInt8(4);
  const payload = frame.subarray(8);
  if ((first & 0x80000000) === 0) {
    const streamId = first & MAX_STREAM_ID;
    if (streamId === 0) throw new SpdyProtocolError('DATA frame on stream 0');
    return { type: 'data', streamId, fin: (flags & FLAG_FIN) !== 0, data: payload };
  }
  const version = (first >>> 16) & 0x7fff;
  const type = first & 0xffff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
  const need = (n: number) => {
    if (payload.length < n) throw new SpdyProtocolError(`control frame of type ${type} is too short (${payload.length} bytes)`);
  };
  const fin = (flags & FLAG_FIN) !== 0;
  switch (type) {
    case FrameType.SYN_STREAM:
      need(10);
      return {
        type: 'syn_stream',
        streamId: payload.readUInt32BE(0) & MAX_STREAM_ID,
        associatedStreamId: payload.readUInt32BE(4) & MAX_STREAM_ID,
        priority: payload.readUInt8(8) >>> 5,
        fin,
        unidirectional: (flags & FLAG_UNIDIRECTIONAL) !== 0,
        headerBlock: payload.subarray(10),
      };
    case FrameType.SYN_REPLY:
      need(4);
      return { type: 'syn_reply', streamId: payload.readUInt32BE(0) & MAX_STREAM_ID, fin, headerBlock: payload.subarray(4) };
    case FrameType.HEADERS:
      need(4);
      return { type: 'headers', streamId: payload.readUInt32BE(0) & MAX_STREAM_ID, fin, headerBlock: payload.subarray(4) };
    case FrameType.RST_STREAM:
      need(8);
      return { type: 'rst_stream', streamId: payload.readUInt32BE(0) & MAX_STREAM_ID, status: payload.readUInt32BE(4) };
    case FrameType.SETTINGS: {
      need(4);
      const count = payload.readUInt32BE(0);
      need(4 + count * 8);
      const entries: SettingsEntry[] = [];
      for (let i = 0; i < count; i++) {
        const word = payload.readUInt32BE(4 + i * 8);
        entries.push({ flags: word >>> 24, id: word & 0xffffff, value: payload.readUInt32BE(8 + i * 8) });
      }
      return { type: 'settings', clear: (flags & 1) !== 0, entries };
    }
    case FrameType.PING:
      need(4);
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.GOAWAY:
      need(4);
      return { type: 'goaway', lastGoodStreamId: payload.readUInt32BE(0) & MAX_STREAM_ID, status: payload.length >= 8 ? payload.readUInt32BE(4) : 0 };
    case FrameType.WINDOW_UPDATE:
      need(8);
      return { type: 'window_update', streamId: payload.readUInt32BE(0) & MAX_STREAM_ID, delta: payload.readUInt32BE(4) & 0x7fffffff };
    default:
      return { type: 'unknown', frameType: type, flags, payload };
  }
}

function uint32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0, 0);
  return buffer;
}
