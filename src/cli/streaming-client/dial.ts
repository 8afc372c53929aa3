import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';
import { SpdyConnection } from '../../streaming/spdy/connection.js';

export type Transport = 'spdy' | 'websocket';

/** crictl's --tls-ca/--tls-cert/--tls-key/--tls-sni for an https streaming URL; without a CA the server's certificate is not checked. */
export interface StreamingTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
}

function tlsOptions(tls: StreamingTls | undefined): Record<string, unknown> {
  if (!tls) return { rejectUnauthorized: false };
  return {
    rejectUnauthorized: tls.ca !== undefined,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
  };
}

/** Parses a --transport value. */
export function parseTransport(value: string): Transport {
  if (value === 'spdy' || value === 'websocket') return value;
  throw new Error(`unknown transport "${value}": use spdy or websocket`);
}

/**
 * The streaming URL a runtime answered, made absolute: some runtimes answer a path,
 * relative to their (TCP) endpoint.
 */
export function streamingUrl(url: string, runtimeEndpoint: string): URL {
  if (/^https?:\/\//i.test(url)) return new URL(url);
  const tcp = /^(?:tcp|http):\/\/([^/]+)/.exec(runtimeEndpoint);
  if (tcp) return new URL(url, `http://${tcp[1]}`);
  throw new Error(`the runtime answered a streaming URL "${url}" that is not absolute, and its endpoint ${runtimeEndpoint} has no host to resolve it against`);
}

/** Upgrades an HTTP request to SPDY/3.1 offering `protocols`; answers the session and the protocol the server chose. */
export function dialSpdy(url: URL, protocols: readonly string[], tls?: StreamingTls): Promise<{ connection: SpdyConnection; protocol: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': [...protocols] },
      ...tlsOptions(tls),
    });
    request.on('upgrade', (response, socket: Duplex, head: Buffer) => {
      const protocol = String(response.headers['x-stream-protocol-version'] ?? '');
      if (head.length > 0) socket.unshift(head);
      resolve({ connection: new SpdyConnection(socket, 'client'), protocol });
    });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => reject(new Error(`the streaming server refused the upgrade: ${response.statusCode} ${response.statusMessage ?? ''}${body.trim() ? `: ${body.trim()}` : ''}`)));
    });
    request.on('error', (error) => reject(new Error(`cannot reach the streaming server at ${url.origin}: ${error.message}`)));
    request.end();
  });
}

/**
 * Opens a WebSocket offering `protocols`; resolves once it is open. `onMessage` is attached
 * at once: the server may send right after its 101, before the caller would get the socket.
 */
export function dialWebSocket(url: URL, protocols: readonly string[], onMessage: (data: Buffer, isBinary: boolean) => void, tls?: StreamingTls): Promise<WebSocket> {
  const wsUrl = new URL(url);
  wsUrl.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, [...protocols], { perMessageDeflate: false, ...tlsOptions(tls) });
    ws.on('message', (data: Buffer, isBinary: boolean) => onMessage(data, isBinary));
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => reject(new Error(`the streaming server refused the WebSocket: ${response.statusCode} ${response.statusMessage ?? ''}${body.trim() ? `: ${body.trim()}` : ''}`)));
    });
    ws.once('error', (error) => reject(new Error(`cannot reach the streaming server at ${url.origin}: ${error.message}`)));
  });
}
