import { isIP } from 'node:net';

/** Where the operator endpoint listens. */
export interface HttpAddress {
  host: string;
  port: number;
}

/** "127.0.0.1:9090", "[::1]:9090", "localhost:9090" -> host and port; throws an Error saying what is wrong. Pure. */
export function parseHttpAddress(text: string): HttpAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`--http "${text}" is not HOST:PORT (e.g. 127.0.0.1:9090 or [::1]:9090)`);
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (host === '') throw new Error(`--http "${text}" names no host: give one, e.g. 127.0.0.1:${port}`);
  if (!Number.isInteger(port) || port > 65535) throw new Error(`--http "${text}": port ${match[3]} is not between 0 and 65535`);
  if (match[1] !== undefined && isIP(host) !== 6) throw new Error(`--http "${text}": "${host}" in brackets is not an IPv6 address`);
  return { host, port };
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. Pure. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/**
 * The operator endpoint's address, refused when it is not loopback unless `allowRemote`:
 * it has no authentication, and its JSON API runs containers for whoever reaches it.
 */
export function checkHttpAddress(text: string, allowRemote: boolean): HttpAddress {
  const address = parseHttpAddress(text);
  if (!allowRemote && !isLoopback(address.host)) {
    throw new Error(
      `--http ${text} is not a loopback address: the operator endpoint has no authentication and its CRI JSON API ` +
        'runs containers for anyone who reaches it; listen on 127.0.0.1 or [::1], or add --http-allow-remote to serve it there anyway',
    );
  }
  return address;
}
