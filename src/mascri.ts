/**
 * The mascri executable (bin/mascri loads it): the CLI program, with `serve` running the server.
 * The one module that sees every layer; src/cli itself imports neither src/server nor src/docker.
 */
import { MascriError, grpcCodeName } from './common/errors.js';
import { Logger, isLogLevel } from './common/logger.js';
import { buildProgram } from './cli/main.js';
import { parseDuration } from './cli/usage.js';
import type { ServeOptions } from './cli/serve.js';
import { checkInstanceName } from './docker/naming.js';
import { checkHttpAddress, type HttpAddress } from './server/operator/address.js';
import type { MascriServer } from './server/server.js';

/** `mascri serve`: checks the flags, starts the server, and stops it on SIGINT/SIGTERM. */
async function serve(options: ServeOptions): Promise<void> {
  if (!isLogLevel(options.logLevel)) {
    process.stderr.write(`mascri serve: unknown --log-level "${options.logLevel}": use debug, info, warn or error\n`);
    process.exit(2);
  }
  let http: HttpAddress | undefined;
  if (options.http !== undefined) {
    try {
      http = checkHttpAddress(options.http, options.httpAllowRemote === true);
    } catch (error) {
      process.stderr.write(`mascri serve: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    }
  } else if (options.httpAllowRemote) {
    process.stderr.write('mascri serve: --http-allow-remote has no effect without --http HOST:PORT\n');
    process.exit(2);
  }
  let streamIdleTimeoutMs: number;
  try {
    streamIdleTimeoutMs = parseDuration(options.streamIdleTimeout);
  } catch (error) {
    process.stderr.write(`mascri serve: --stream-idle-timeout: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  let instance: string;
  try {
    instance = checkInstanceName(options.instance ?? '');
  } catch (error) {
    const code = error instanceof MascriError ? `${grpcCodeName(error.code)}: ` : '';
    process.stderr.write(`mascri serve: ${code}--instance (or MASCRI_INSTANCE): ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
  const log = new Logger(options.logLevel);
  // Loaded here, not at the top: the client commands (mascri ps, ...) never load the server.
  const [{ MascriServer }, { createDockerAdapter }] = await Promise.all([import('./server/server.js'), import('./docker/adapter.js')]);
  let server: MascriServer;
  try {
    server = await MascriServer.start({
      listen: options.listen,
      docker: createDockerAdapter(options.docker, log),
      podInfraImage: options.podInfraImage,
      instance,
      stateDir: options.stateDir,
      streamingAddress: options.streamingAddress,
      streamIdleTimeoutMs,
      http,
      log,
      // bin/mascri runs node with --expose-gc for this: memory a burst left is given back once quiet.
      collectGarbage: typeof globalThis.gc === 'function' ? () => void globalThis.gc!() : undefined,
    });
  } catch (error) {
    const message = error instanceof MascriError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`mascri serve: ${message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

// `mascri serve ...` loads only what serving needs (see buildProgram).
await (await buildProgram(serve, { serveOnly: process.argv[2] === 'serve' })).parseAsync(process.argv);
