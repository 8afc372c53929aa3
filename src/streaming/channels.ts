/**
 * The Kubernetes WebSocket channel framing (`channel.k8s.io` family): every message starts
 * with a channel byte; the base64 variants send text, the channel as an ASCII digit.
 * `v5.channel.k8s.io` adds message [255, N]: "channel N is closed" (stdin EOF).
 */

export const Channel = {
  STDIN: 0,
  STDOUT: 1,
  STDERR: 2,
  ERROR: 3,
  RESIZE: 4,
  CLOSE: 255,
} as const;

/** Remote-command sub-protocols, preferred first. */
export const REMOTE_COMMAND_WS_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'] as const;
/** Port-forward channel sub-protocols (kubelet's), preferred first. */
export const PORT_FORWARD_WS_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'channel.k8s.io', 'base64.channel.k8s.io'] as const;
/** client-go's SPDY-over-WebSocket tunnel prefix (`SPDY/3.1+portforward.k8s.io`). */
export const SPDY_TUNNEL_PREFIX = 'SPDY/3.1+';

/** True for the base64 (text) framings. */
export function isBase64Protocol(protocol: string): boolean {
  return protocol.includes('base64.');
}

/** One binary channel message: [channel, ...data]. */
export function encodeChannelMessage(channel: number, data: Buffer = Buffer.alloc(0)): Buffer {
  const message = Buffer.allocUnsafe(1 + data.length);
  message[0] = channel;
  data.copy(message, 1);
  return message;
}

/** One base64 channel message: the channel as an ASCII digit, then the data in base64. */
export function encodeBase64ChannelMessage(channel: number, data: Buffer = Buffer.alloc(0)): string {
  return String.fromCharCode(48 + channel) + data.toString('base64');
}

/** Splits a received message into its channel and data; undefined for an empty message. */
export function decodeChannelMessage(message: Buffer | string, base64 = false): { channel: number; data: Buffer } | undefined {
  if (typeof message === 'string' || base64) {
    const text = typeof message === 'string' ? message : message.toString('latin1');
    if (text.length === 0) return undefined;
    return { channel: text.charCodeAt(0) - 48, data: Buffer.from(text.slice(1), 'base64') };
  }
  if (message.length === 0) return undefined;
  return { channel: message[0]!, data: message.subarray(1) };
}

/** The v5 CLOSE signal for a channel: [255, channel]. */
export function encodeCloseSignal(channel: number): Buffer {
  return Buffer.from([Channel.CLOSE, channel]);
}

/** The port prefix kubelet writes first on each port-forward channel: uint16 little-endian. */
export function encodePortPrefix(port: number): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16LE(port, 0);
  return prefix;
}

/**
 * Splits a byte stream of concatenated JSON objects (Go's json.Encoder output, as on the
 * resize stream) into whole objects; keeps an incomplete tail for the next chunk.
 */
export class JsonObjectSplitter {
  private pending = '';

  push(chunk: Buffer | string): unknown[] {
    this.pending += chunk.toString();
    const out: unknown[] = [];
    let depth = 0;
    let start = -1;
    let inString = false;
    let escaped = false;
    let consumed = 0;
    for (let i = 0; i < this.pending.length; i++) {
      const c = this.pending[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          try {
            out.push(JSON.parse(this.pending.slice(start, i + 1)));
          } catch {
            // not JSON: skip it
          }
          consumed = i + 1;
        }
      } else if (depth === 0) consumed = i + 1;
    }
    this.pending = this.pending.slice(consumed);
    return out;
  }
}

export interface TerminalSize {
  width: number;
  height: number;
}

/** A resize message ({"Width":80,"Height":24}) as a size, or undefined when it is not one. */
export function parseTerminalSize(value: unknown): TerminalSize | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const { Width, Height } = value as { Width?: unknown; Height?: unknown };
  if (typeof Width !== 'number' || typeof Height !== 'number' || Width < 0 || Height < 0) return undefined;
  return { width: Math.floor(Width), height: Math.floor(Height) };
}
