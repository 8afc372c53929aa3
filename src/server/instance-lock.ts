import { createConnection, createServer, type Server } from 'node:net';
import { MascriError, GrpcCode } from '../common/errors.js';

/**
 * One server per instance on a host. Two `mascri serve` of one instance on one engine would both
 * copy the same containers' output into the same CRI log files (lines twice, out of order), and a
 * kubelet on each would remove the other's pods. The claim is an abstract unix socket named after
 * the instance: the kernel frees it when the holder exits, however it ends (SIGKILL included), so
 * there is no lock file to go stale. It covers the servers of one network namespace (one host,
 * unless mascri itself runs in a container with a network namespace of its own).
 */
export class InstanceClaim {
  private constructor(private readonly server: Server) {}

  /** Claims `instance` ('' the default one) for this process; FAILED_PRECONDITION naming the holder when another server has it. */
  static async take(instance: string, endpoint: string): Promise<InstanceClaim> {
    const name = claimName(instance);
    const holder = JSON.stringify({ pid: process.pid, endpoint });
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(holder);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(name, () => resolve());
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const other = await askHolder(name);
      const who = other ? `another mascri serve (pid ${other.pid}, listening on ${other.endpoint})` : 'another mascri serve';
      const what = instance ? `instance "${instance}"` : 'the default instance (no --instance)';
      throw new MascriError(
        GrpcCode.FAILED_PRECONDITION,
        `${who} already serves ${what} on this host; two servers of one instance would copy the same containers' logs twice and remove each other's pods. Stop it first, or start this one with another --instance`,
      );
    }
    server.unref();
    server.on('error', () => undefined);
    return new InstanceClaim(server);
  }

  /** Gives the instance up (at stop). */
  async release(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The abstract socket name of an instance's claim. Pure. */
export function claimName(instance: string): string {
  return `\0mascri/instance/${instance || '(default)'}`;
}

/** What the holder of a claim says about itself; undefined when it does not answer in time. */
async function askHolder(name: string): Promise<{ pid: number; endpoint: string } | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const socket = createConnection(name);
    const timer = setTimeout(() => socket.destroy(), 1000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(text) as { pid: number; endpoint: string };
        resolve(typeof parsed.pid === 'number' && typeof parsed.endpoint === 'string' ? parsed : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}
