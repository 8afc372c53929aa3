import type { Command } from 'commander';
import { clientAction } from './command.js';
import { addStreamingFlags, parseTransportOption, tlsFromOptions, type StreamingOptions } from './exec.js';
import { UsageError } from './output.js';
import { resolveSandboxId } from './resolve.js';
import { streamingUrl } from './streaming-client/dial.js';
import { parsePortPair, startPortForward, type PortPair } from './streaming-client/port-forward.js';

/** `port-forward`: forward local ports (on 127.0.0.1) to ports in a pod, until interrupted. */
export function registerPortForwardCommand(program: Command): void {
  addStreamingFlags(
    program
      .command('port-forward')
    .description('Forward local ports to a pod sandbox; runs until interrupted')
    .argument('<pod-id>', 'pod sandbox ID or unique prefix')
    .argument('<ports...>', '[LOCAL:]REMOTE, e.g. 8080:80 (LOCAL 0 or empty: a free port); websocket uses one WebSocket per connection'),
  ).action(
      clientAction(async ({ client, endpoints }, podId: string, portArgs: string[], options: StreamingOptions) => {
        const transport = parseTransportOption(options.transport);
        let pairs: PortPair[];
        try {
          pairs = portArgs.map(parsePortPair);
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
        const podSandboxId = await resolveSandboxId(client, podId);
        const { url } = await client.callRuntime('PortForward', { podSandboxId, port: pairs.map((p) => p.remote) });
        const forwarder = await startPortForward({
          url: streamingUrl(url, endpoints.runtime),
          transport,
          pairs,
          tls: tlsFromOptions(options),
          urlFor: async (remote) => streamingUrl((await client.callRuntime('PortForward', { podSandboxId, port: [remote] })).url, endpoints.runtime),
          out: (line) => process.stdout.write(line + '\n'),
          err: (line) => process.stderr.write(line + '\n'),
        });
        const interrupted = new Promise<'interrupted'>((resolve) => {
          process.once('SIGINT', () => resolve('interrupted'));
          process.once('SIGTERM', () => resolve('interrupted'));
        });
        const outcome = await Promise.race([interrupted, forwarder.lost.then(() => 'lost' as const)]);
        await forwarder.close();
        if (outcome === 'lost') throw new Error('lost the connection to the pod');
      }),
    );
}
