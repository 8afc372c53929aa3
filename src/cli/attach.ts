import type { Command } from 'commander';
import { clientAction } from './command.js';
import { parseTransportOption, runStreaming } from './exec.js';
import { resolveContainerId } from './resolve.js';

/** `attach`: attach to a running container's main process. */
export function registerAttachCommand(program: Command): void {
  program
    .command('attach')
    .description('Attach to a running container (its main process\'s stdin, stdout and stderr)')
    .argument('<container-id>', 'container ID or unique prefix')
    .option('-i, --stdin', 'send stdin to the container')
    .option('-t, --tty', 'the container has a terminal: attach to it (stdin raw, sizes sent)')
    .option('--transport <transport>', 'streaming transport: spdy or websocket', 'spdy')
    .action(
      clientAction(async ({ client, endpoints }, id: string, options: { stdin?: boolean; tty?: boolean; transport: string }) => {
        const transport = parseTransportOption(options.transport);
        const containerId = await resolveContainerId(client, id);
        const tty = Boolean(options.tty);
        const { url } = await client.callRuntime('Attach', { containerId, stdin: Boolean(options.stdin), tty, stdout: true, stderr: !tty });
        process.exitCode = await runStreaming(url, endpoints.runtime, transport, Boolean(options.stdin), tty);
      }),
    );
}
