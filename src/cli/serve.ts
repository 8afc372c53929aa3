import { Option, type Command } from 'commander';
import { DEFAULT_ENDPOINT } from '../cri/endpoint.js';

export const DEFAULT_POD_INFRA_IMAGE = 'registry.k8s.io/pause:3.10';

/** The flags of `serve`, as given. */
export interface ServeOptions {
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

/** Runs the server for `serve` (src/mascri.ts: the CLI does not import the server). */
export type ServeAction = (options: ServeOptions) => Promise<void>;

/** `serve`: run the CRI server until SIGINT/SIGTERM. */
export function registerServeCommand(program: Command, serve: ServeAction): void {
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
    .action((options: ServeOptions) => serve(options));
}
