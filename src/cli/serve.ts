import { Option, type Command } from 'commander';
import { MascriError, grpcCodeName } from '../common/errors.js';
import { Logger, isLogLevel } from '../common/logger.js';
import { DEFAULT_ENDPOINT } from '../cri/client.js';
import { createDockerAdapter } from '../docker/adapter.js';
import { checkInstanceName } from '../docker/naming.js';
import { checkHttpAddress, type HttpAddress } from '../server/operator/address.js';
import { MascriServer } from '../server/server.js';
import { parseDuration } from './output.js';

export const DEFAULT_POD_INFRA_IMAGE = 'registry.k8s.io/pause:3.10';

interface ServeOptions {
  listen: string;
  docker: string;
  podInfraImage: string;
  logLevel: string;
  stateDir: string;
  streamingAddress: string;
  streamIdleTimeout: string;
  http?: string;
  httpAllowRemote?: boolean;
  instance?: string;
}

/** `serve`: run the CRI server until SIGINT/SIGTERM. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the CRI server (RuntimeService and ImageService) on a unix socket, backed by Docker')
    .option('--listen <endpoint>', 'socket to serve on', DEFAULT_ENDPOINT)
    .option('--docker <path>', 'docker CLI to run (DOCKER_HOST and DOCKER_CONTEXT are honoured)', 'docker')
    .option('--pod-infra-image <image>', 'image of the pause container that holds each pod sandbox', DEFAULT_POD_INFRA_IMAGE)
    .option('--state-dir <dir>', 'where mascri keeps its own state (container log copy positions)', '/var/lib/mascri')
    .option('--log-level <level>', 'debug|info|warn|error', 'info')
    .option('--streaming-address <host:port>', 'where the exec/attach/port-forward streaming server listens (port 0: a free one)', '127.0.0.1:0')
    .option('--stream-idle-timeout <duration>', 'close an exec/attach/port-forward connection with no traffic for this long, ending its process (0: never)', '4h')
    .option('--http <host:port>', 'serve /healthz, /metrics and the CRI as JSON over HTTP here (off by default; loopback only unless --http-allow-remote)')
    .option('--http-allow-remote', 'allow --http on an address other machines can reach (it has no authentication)')
    .addOption(
      new Option('--instance <name>', 'instance (node) name, a DNS label: this server sees, lists and removes only the pods and containers made with it, so several can share one Docker engine (default: none, only containers made without one)').env(
        'MASCRI_INSTANCE',
      ),
    )
    .action(async (options: ServeOptions) => {
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
    });
}
