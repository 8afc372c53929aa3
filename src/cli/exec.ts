import type { Command } from 'commander';
import { clientAction } from './command.js';
import { UsageError } from './output.js';
import { resolveContainerId } from './resolve.js';
import { parseTransport, streamingUrl } from './streaming-client/dial.js';
import { streamRemoteCommand } from './streaming-client/remote-command.js';
import { enterRawMode, localTerminalSizes } from './streaming-client/terminal.js';

interface ExecOptions {
  interactive?: boolean;
  tty?: boolean;
  sync?: boolean;
  timeout: string;
  transport: string;
}

/** `exec`: run a command in a container, streaming (Exec) or synchronously (ExecSync); exits with its exit code. */
export function registerExecCommand(program: Command): void {
  program
    .command('exec')
    .description('Run a command in a running container; exits with the command\'s exit code')
    .argument('<container-id>', 'container ID or unique prefix')
    .argument('<command...>', 'the command and its arguments (use -- before a command that starts with -)')
    .option('-i, --interactive', 'keep stdin open and send it to the command')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .option('-s, --sync', 'run synchronously with ExecSync and print the output at the end')
    .option('--timeout <seconds>', 'with --sync: seconds before the command is killed (0: no limit)', '0')
    .option('--transport <transport>', 'streaming transport: spdy or websocket', 'spdy')
    .passThroughOptions()
    .action(
      clientAction(async ({ client, endpoints }, id: string, command: string[], options: ExecOptions) => {
        const transport = parseTransportOption(options.transport);
        const timeout = Number(options.timeout);
        if (!Number.isFinite(timeout) || timeout < 0) throw new UsageError(`--timeout "${options.timeout}" must be a number of seconds`);
        const containerId = await resolveContainerId(client, id);
        if (options.sync) {
          if (options.interactive || options.tty) throw new UsageError('--sync cannot be combined with -i or -t');
          const result = await client.callRuntime('ExecSync', { containerId, cmd: command, timeout: String(Math.floor(timeout)) }, { timeoutMs: timeout > 0 ? (timeout + 30) * 1000 : 0 });
          process.stdout.write(result.stdout);
          process.stderr.write(result.stderr);
          process.exitCode = result.exitCode;
          return;
        }
        const tty = Boolean(options.tty);
        const { url } = await client.callRuntime('Exec', { containerId, cmd: command, tty, stdin: Boolean(options.interactive), stdout: true, stderr: !tty });
        process.exitCode = await runStreaming(url, endpoints.runtime, transport, Boolean(options.interactive), tty);
      }),
    );
}

/** Streams a remote command at `url` with this process's stdio; answers its exit code. */
export async function runStreaming(url: string, runtimeEndpoint: string, transport: 'spdy' | 'websocket', interactive: boolean, tty: boolean): Promise<number> {
  const restore = tty && interactive ? enterRawMode() : () => undefined;
  try {
    return await streamRemoteCommand({
      url: streamingUrl(url, runtimeEndpoint),
      transport,
      stdin: interactive ? process.stdin : undefined,
      stdout: process.stdout,
      stderr: tty ? undefined : process.stderr,
      tty,
      sizes: tty ? localTerminalSizes : undefined,
    });
  } finally {
    restore();
    // Stop reading the terminal so the process can exit.
    if (interactive) process.stdin.destroy();
  }
}

export function parseTransportOption(value: string): 'spdy' | 'websocket' {
  try {
    return parseTransport(value);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
