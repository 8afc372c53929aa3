import { Command } from 'commander';
import { mascriVersion } from '../common/version.js';
import { DEFAULT_ENDPOINT } from '../cri/endpoint.js';
import { DEFAULT_CONFIG_PATH } from './usage.js';
import { registerServeCommand, type ServeAction } from './serve.js';

/**
 * The mascri program: `serve`, which calls `serve` (src/mascri.ts hands in the server's start), and a
 * crictl-like client for everything else. `serveOnly` leaves the client's commands out, and their
 * modules unloaded: `mascri serve` runs for months and need not hold them (about 2 MiB of heap).
 */
export async function buildProgram(serve: ServeAction, options: { serveOnly?: boolean } = {}): Promise<Command> {
  const program = new Command();
  program
    .name('mascri')
    .description('A Kubernetes CRI v1 runtime over the Docker CLI (mascri serve), and a crictl-like client for any CRI runtime')
    .version(mascriVersion(), '-v, --version', 'print mascri\'s version')
    .enablePositionalOptions()
    .option('-c, --config <file>', `crictl's client config file (env CRI_CONFIG_FILE; default ${DEFAULT_CONFIG_PATH}, else crictl.yaml beside the program)`)
    .option('-r, --runtime-endpoint <endpoint>', `runtime endpoint (env CONTAINER_RUNTIME_ENDPOINT, then runtime-endpoint in the config file; default ${DEFAULT_ENDPOINT})`)
    .option('-i, --image-endpoint <endpoint>', 'image endpoint (env IMAGE_SERVICE_ENDPOINT, then image-endpoint in the config file; default: the runtime endpoint)')
    .option('-t, --timeout <duration>', 'timeout of each call, e.g. 2s or 500ms; 0 or less is the default (then timeout in the config file, in seconds; default 2s)')
    .option('-D, --debug', 'print debug information (stack traces of failures); also debug: true in the config file')
    .option('--max-retries <n>', 'accepted for crictl\'s scripts: mascri connects once (a unix socket that is not there will not appear by retrying within a command)')
    .option('--enable-tracing', 'accepted for crictl\'s scripts; mascri\'s client sends no OpenTelemetry spans')
    .option('--tracing-sampling-rate-per-million <n>', 'accepted for crictl\'s scripts (no tracing)')
    .option('--tracing-endpoint <address>', 'accepted for crictl\'s scripts (no tracing)')
    .option('--profile-cpu <path>', 'accepted for crictl\'s scripts; Go pprof profiles do not exist for node (use node --cpu-prof)')
    .option('--profile-mem <path>', 'accepted for crictl\'s scripts; Go pprof profiles do not exist for node (use node --heap-prof)')
    .showHelpAfterError('(run with --help for usage)');

  registerServeCommand(program, serve);
  if (options.serveOnly) return program;
  const [runtime, images, sandboxes, containers, logs, stats, exec, attach, portForward, events, config, completion] = await Promise.all([
    import('./runtime.js'),
    import('./images.js'),
    import('./sandboxes.js'),
    import('./containers.js'),
    import('./logs.js'),
    import('./stats.js'),
    import('./exec.js'),
    import('./attach.js'),
    import('./port-forward.js'),
    import('./events.js'),
    import('./config-command.js'),
    import('./completion.js'),
  ]);
  runtime.registerRuntimeCommands(program);
  images.registerImageCommands(program);
  sandboxes.registerSandboxCommands(program);
  containers.registerContainerCommands(program);
  logs.registerLogsCommand(program);
  stats.registerStatsCommands(program);
  exec.registerExecCommand(program);
  attach.registerAttachCommand(program);
  portForward.registerPortForwardCommand(program);
  events.registerEventsCommand(program);
  config.registerConfigCommand(program);
  completion.registerCompletionCommand(program);
  // crictl's `help, h`: commander's help command does not answer to an alias.
  program
    .command('h', { hidden: true })
    .argument('[command]')
    .description('Shows a list of commands or help for one command')
    .action((name: string | undefined) => {
      const target = name ? program.commands.find((c) => c.name() === name || c.aliases().includes(name)) : undefined;
      (target ?? program).help();
    });
  return program;
}
