import { Command } from 'commander';
import { mascriVersion } from '../common/version.js';
import { DEFAULT_ENDPOINT } from '../cri/client.js';
import { DEFAULT_TIMEOUT } from './connection.js';
import { registerContainerCommands } from './containers.js';
import { registerImageCommands } from './images.js';
import { registerLogsCommand } from './logs.js';
import { registerRuntimeCommands } from './runtime.js';
import { registerSandboxCommands } from './sandboxes.js';
import { registerServeCommand, type ServeAction } from './serve.js';
import { registerStatsCommands } from './stats.js';
import { registerExecCommand } from './exec.js';
import { registerAttachCommand } from './attach.js';
import { registerPortForwardCommand } from './port-forward.js';
import { registerEventsCommand } from './events.js';

/** The mascri program: `serve`, which calls `serve` (src/mascri.ts hands in the server's start), and a crictl-like client for everything else. */
export function buildProgram(serve: ServeAction): Command {
  const program = new Command();
  program
    .name('mascri')
    .description('A Kubernetes CRI v1 runtime over the Docker CLI (mascri serve), and a crictl-like client for any CRI runtime')
    .version(mascriVersion(), '--version', 'print mascri\'s version')
    .enablePositionalOptions()
    .option('-r, --runtime-endpoint <endpoint>', `runtime endpoint (env CONTAINER_RUNTIME_ENDPOINT; default ${DEFAULT_ENDPOINT})`)
    .option('-i, --image-endpoint <endpoint>', 'image endpoint (env IMAGE_SERVICE_ENDPOINT; default: the runtime endpoint)')
    .option('-t, --timeout <duration>', 'timeout of each call, e.g. 2s or 500ms', DEFAULT_TIMEOUT)
    .option('-D, --debug', 'print debug information (stack traces of failures)')
    .showHelpAfterError('(run with --help for usage)');

  registerServeCommand(program, serve);
  registerRuntimeCommands(program);
  registerImageCommands(program);
  registerSandboxCommands(program);
  registerContainerCommands(program);
  registerLogsCommand(program);
  registerStatsCommands(program);
  registerExecCommand(program);
  registerAttachCommand(program);
  registerPortForwardCommand(program);
  registerEventsCommand(program);
  return program;
}
