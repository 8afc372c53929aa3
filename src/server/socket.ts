import { lstat, mkdir, unlink } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { dirname } from 'node:path';
import { MascriError, GrpcCode } from '../common/errors.js';

export type SocketState = 'absent' | 'stale' | 'live';

/** Whether a server answers on the unix socket at `path`. */
export async function probeSocket(path: string, timeoutMs = 1000): Promise<SocketState> {
  let stats;
  try {
    stats = await lstat(path);
  } catch {
    return 'absent';
  }
  if (!stats.isSocket()) {
    throw new MascriError(GrpcCode.FAILED_PRECONDITION, `${path} exists and is not a socket; remove it or choose another --listen path`);
  }
  return new Promise((resolve) => {
    const conn = createConnection(path);
    const timer = setTimeout(() => {
      conn.destroy();
      resolve('live'); // it accepted the file but is slow: treat as someone else's
    }, timeoutMs);
    conn.once('connect', () => {
      clearTimeout(timer);
      conn.destroy();
      resolve('live');
    });
    conn.once('error', () => {
      clearTimeout(timer);
      resolve('stale');
    });
  });
}

/** Makes `path` ready to bind: creates its directory, replaces a stale socket, refuses a live one. */
export async function prepareSocketPath(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const state = await probeSocket(path);
  if (state === 'live') {
    throw new MascriError(
      GrpcCode.ALREADY_EXISTS,
      `another server is already listening on ${path}; stop it first, or start this one with --listen unix:///some/other.sock`,
    );
  }
  if (state === 'stale') await unlink(path);
}
