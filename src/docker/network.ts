import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { childEnv } from './children.js';
import { PORT_RELAY_PATH } from './port-relay.js';

/** One TCP connection to a port on a pod's loopback: what is written to `input` reaches the port, what it answers comes out of `output`. */
export interface PodConnection {
  input: Writable;
  output: Readable;
  /** Resolves when the connection has ended; rejects with the reason when it could not be made or broke. */
  ended: Promise<void>;
  /** Ends the connection at once. */
  close(): void;
}

/** Reaching into pods' network namespaces (port forwarding). */
export interface DockerNetworkApi {
  /** Connects to 127.0.0.1:`port` in the network namespace of process `pid` (a pod's sandbox). */
  connectInPod(pid: number, port: number): PodConnection;
}

/** The relay's command line: nsenter into the network namespace of `pid`, then port-relay.js. Pure. */
export function relayArgs(pid: number, port: number, node = process.execPath): string[] {
  return [`--net=/proc/${pid}/ns/net`, '--', node, PORT_RELAY_PATH, String(port)];
}

/** Port connections through `nsenter` and port-relay.js, started on this host. */
export class PodNetwork implements DockerNetworkApi {
  connectInPod(pid: number, port: number): PodConnection {
    const child = spawn('nsenter', relayArgs(pid, port), { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv() });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => undefined);
    const ended = new Promise<void>((resolve, reject) => {
      child.on('error', (error) => reject(new Error(`cannot start nsenter: ${error.message}`)));
      child.on('close', (code) => {
        if (code === 0 || code === null) resolve();
        else reject(new Error(stderr.trim() || `the relay exited with ${code}`));
      });
    });
    return {
      input: child.stdin,
      output: child.stdout,
      ended,
      close() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
  }
}
