/** Where mascri serves, and where its client looks, by default. */
export const DEFAULT_ENDPOINT = 'unix:///run/mascri/mascri.sock';

/** "unix:///a/b.sock", "unix:/a/b.sock" or "/a/b.sock" -> the grpc-js target "unix:///a/b.sock"; "tcp://h:p" -> "h:p". */
export function grpcTarget(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint;
  if (endpoint.startsWith('unix:')) return 'unix://' + endpoint.slice('unix:'.length);
  if (endpoint.startsWith('/')) return 'unix://' + endpoint;
  if (endpoint.startsWith('tcp://')) return endpoint.slice('tcp://'.length);
  return endpoint;
}

/** The socket path of a unix endpoint, or undefined for a TCP one. */
export function socketPath(endpoint: string): string | undefined {
  const target = grpcTarget(endpoint);
  return target.startsWith('unix://') ? target.slice('unix://'.length) : undefined;
}
