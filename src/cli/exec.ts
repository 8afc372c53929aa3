import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { clientAction, collect } from './command.js';
import { withContext } from './connection.js';
import { listContainers } from './containers.js';
import { logLine } from './log-line.js';
import { UsageError } from './output.js';
import { resolveContainerId } from './resolve.js';
import { parseTransport, streamingUrl, type StreamingTls } from './streaming-client/dial.js';
import { streamRemoteCommand } from './streaming-client/remote-command.js';
import { enterRawMode, localTerminalSizes } from './streaming-client/terminal.js';

/** Options of the streaming commands (exec, attach, port-forward): crictl's transport and TLS flags. */
export interface StreamingOptions {
  transport: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSni?: string;
  tlsServerName?: string;
}

/** Adds crictl's -r/--transport and --tls-* flags. */
export function addStreamingFlags(command: Command): Command {
  return command
    .option('-r, --transport <transport>', 'Transport protocol to use, one of: spdy|websocket', 'spdy')
    .option('--tls-ca <file>', 'Path to the streaming TLS CA certificate (an https streaming URL is then verified against it)')
    .option('--tls-cert <file>', 'Path to the streaming TLS certificate')
    .option('--tls-key <file>', 'Path to the streaming TLS key')
    .option('--tls-sni <name>', 'Server name used in the TLS client to check server certificates against (also --tls-server-name)', 'localhost')
    .addOption(new Option('--tls-server-name <name>', 'same as --tls-sni').hideHelp());
}

/** The TLS settings the flags ask for; none when no CA, certificate or key is given (as crictl). */
export function tlsFromOptions(options: StreamingOptions): StreamingTls | undefined {
  if (!options.tlsCa && !options.tlsCert && !options.tlsKey) return undefined;
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) throw new UsageError('get TLS config from flags: both --tls-cert and --tls-key must be given');
  const read = (path: string | undefined) => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new UsageError(`get TLS config from flags: ${(error as Error).message}`);
    }
  };
  return { ca: read(options.tlsCa), cert: read(options.tlsCert), key: read(options.tlsKey), servername: options.tlsServerName ?? options.tlsSni };
}

interface ExecOptions extends StreamingOptions {
  interactive?: boolean;
  tty?: boolean;
  sync?: boolean;
  timeout: string;
  ignoreErrors?: boolean;
  quiet?: boolean;
  parallel?: boolean;
  name?: string;
  pod?: string;
  image?: string;
  state?: string;
  label?: string[];
  latest?: boolean;
  last?: string;
}

/** A command's own exit code, carried up to set the process's. */
class NonZeroExit extends Error {
  constructor(readonly exitCode: number) {
    super('non-zero exit code');
  }
}

/** `exec`: run a command in a container (or in every container the filters select), streaming or with ExecSync. */
export function registerExecCommand(program: Command): void {
  addStreamingFlags(
    program
      .command('exec')
      .description("Run a command in a running container; exits with the command's exit code")
      .argument('[args...]', '[CONTAINER-ID] COMMAND [ARG...] (no CONTAINER-ID with a filter flag; use -- before a command that starts with -)')
      .option('-i, --interactive', 'Keep STDIN open')
      .option('-t, --tty', 'Allocate a pseudo-TTY')
      .option('-s, --sync', 'Run the command synchronously')
      .option('--timeout <seconds>', 'Timeout in seconds (with --sync: the command is killed after it; 0: no limit)', '0')
      .option('-e, --ignore-errors', 'Ignore errors during command execution')
      .option('-q, --quiet', 'Do not print the container ID if multiple containers are selected')
      .option('-x, --parallel', 'Run the command in parallel if multiple containers are selected')
      .option('--name <regexp>', 'Exec command for all containers matching this name filter regular expression pattern')
      .option('-p, --pod <pod-id>', 'Exec command for all containers matching this pod ID filter')
      .option('--image <image>', 'Exec command for all containers matching this container image filter')
      .option('--state <state>', 'Exec command for all containers matching this container state filter')
      .option('--label <key=value>', 'Exec command for all containers matching this key=value label filter', collect)
      .option('-l, --latest', 'Exec command for the most recently created container')
      .option('-n, --last <n>', 'Exec command for all last n containers, set to 0 for unlimited'),
  )
    .passThroughOptions()
    .action(
      clientAction(async ({ client, endpoints }, args: string[], options: ExecOptions, command: Command) => {
        const transport = parseTransportOption(options.transport);
        const tls = tlsFromOptions(options);
        const timeout = Number(options.timeout);
        if (!Number.isFinite(timeout) || timeout < 0) throw new UsageError(`invalid value "${options.timeout}" for flag -timeout: parse error`);
        if (options.ignoreErrors && !options.quiet) logLine('warning', 'The `--ignore-errors` option has been set all errors returned by the command will be ignored.');
        const filtered = [options.name, options.pod, options.image, options.state, options.label, options.latest, options.last].some((v) => v !== undefined);
        let ids: string[];
        let cmd: string[];
        let printIds = false;
        if (filtered) {
          cmd = args;
          printIds = !options.quiet && !options.parallel;
          const containers = await withContext(
            'listing containers',
            listContainers(client, { name: options.name, pod: options.pod, image: options.image, state: options.state, label: options.label ?? [], latest: options.latest, last: options.last, trunc: true, output: 'table' }),
          );
          ids = containers.map((c) => c.id);
          if (ids.length === 0) {
            logLine('error', 'No containers found per filter flags');
            command.outputHelp();
            return;
          }
        } else {
          if (args.length < 2) {
            command.outputHelp();
            return;
          }
          ids = [await resolveContainerId(client, args[0]!)];
          cmd = args.slice(1);
        }
        const runOne = async (containerId: string): Promise<void> => {
          if (printIds) console.log(`${containerId}:`);
          if (options.sync) {
            if (options.interactive || options.tty) throw new UsageError('--sync cannot be combined with -i or -t');
            const result = await withContext(
              `execing command in container ${containerId} synchronously`,
              client.callRuntime('ExecSync', { containerId, cmd, timeout: String(Math.floor(timeout)) }, { timeoutMs: timeout > 0 ? (timeout + 30) * 1000 : 0 }),
            );
            if (result.exitCode !== 0) {
              // crictl prints nothing and exits 1; mascri keeps the output apart and the exit code.
              process.stdout.write(result.stdout);
              process.stderr.write(result.stderr);
              throw new NonZeroExit(result.exitCode);
            }
            // As crictl prints a successful ExecSync: stdout, then stderr, each with a newline, both on stdout.
            process.stdout.write(`${result.stdout.toString()}\n${result.stderr.toString()}\n`);
            return;
          }
          const tty = Boolean(options.tty);
          const code = await withContext(`execing command in container ${containerId}`, async () => {
            const { url } = await client.callRuntime('Exec', { containerId, cmd, tty, stdin: Boolean(options.interactive), stdout: true, stderr: !tty });
            return runStreaming(url, endpoints.runtime, transport, Boolean(options.interactive), tty, tls);
          });
          if (code !== 0) throw new NonZeroExit(code);
        };
        const failures: unknown[] = [];
        const guarded = (id: string) => runOne(id).catch((error: unknown) => void failures.push(error));
        if (options.parallel) await Promise.all(ids.map(guarded));
        else for (const id of ids) await guarded(id);
        if (failures.length === 0 || options.ignoreErrors) return;
        // One container: its command's exit code is ours (as `crictl exec` exits with it).
        const exit = failures.find((f): f is NonZeroExit => f instanceof NonZeroExit);
        if (failures.length === 1 && exit) {
          process.exitCode = exit.exitCode;
          return;
        }
        throw failures.length === 1 ? failures[0] : new UsageError(failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n'));
      }),
    );
}

/** Streams a remote command at `url` with this process's stdio; answers its exit code. */
export async function runStreaming(url: string, runtimeEndpoint: string, transport: 'spdy' | 'websocket', interactive: boolean, tty: boolean, tls?: StreamingTls): Promise<number> {
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
      tls,
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
