import type { Command } from 'commander';
import { clientAction } from './command.js';
import { addStreamingFlags, parseTransportOption, runStreaming, tlsFromOptions, type StreamingOptions } from './exec.js';
import { resolveContainerId } from './resolve.js';

/** `attach`: attach to a running container's main process. */
export function registerAttachCommand(program: Command): void {
  addStreamingFlags(
    program
      .command('attach')
    .description('Attach to a running container (its main process\'s stdin, stdout and stderr)')
    .argument('<container-id>', 'container ID or unique prefix')
    .option('-i, --stdin', 'Keep STDIN open (send it to the container)')
    .option('-t, --tty', 'the container has a terminal: attach to it (stdin raw, sizes sent)'),
  ).action(
      clientAction(async ({ client, endpoints }, id: string, options: StreamingOptions & { stdin?: boolean; tty?: boolean }) => {
        const transport = parseTransportOption(options.transport);
        const containerId = await resolveContainerId(client, id);
        const tty = Boolean(options.tty);
        const { url } = await client.callRuntime('Attach', { containerId, stdin: Boolean(options.stdin), tty, stdout: true, stderr: !tty });
        process.exitCode = await runStreaming(url, endpoints.runtime, transport, Boolean(options.stdin), tty, tlsFromOptions(options));
      }),
    );
}
