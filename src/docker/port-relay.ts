/**
 * The port-forward relay: network.ts starts it inside a pod's network namespace
 * (`nsenter --net=/proc/PID/ns/net -- node port-relay.js PORT`), so 127.0.0.1 is the
 * pod's loopback. It connects to 127.0.0.1:PORT and copies stdin to the connection and
 * the connection to stdout, half-closes included; a failure to connect is one line on
 * stderr and exit code 1.
 */
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

/** This file's path, for spawning it. */
export const PORT_RELAY_PATH = fileURLToPath(import.meta.url);

function relay(port: number): void {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('connect', () => {
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
  });
  socket.on('error', (error: NodeJS.ErrnoException) => {
    process.stderr.write(`${error.code === 'ECONNREFUSED' ? `nothing listens on port ${port} in the pod (connection refused)` : error.message}\n`);
    process.exitCode = 1;
    process.stdin.destroy();
  });
  socket.on('close', () => process.stdin.destroy());
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`invalid port "${process.argv[2] ?? ''}"\n`);
    process.exit(2);
  }
  relay(port);
}
