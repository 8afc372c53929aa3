import type { Command } from 'commander';
import { clientAction } from './command.js';
import { parseOutputFormat, printMessage, printStatuses } from './output.js';

/** `version`, `info` and `runtimeconfig`: what the runtime is, whether it is ready, how it is set up. */
export function registerRuntimeCommands(program: Command): void {
  program
    .command('version')
    .description('Display the runtime version information')
    .option('-o, --output <format>', 'output format: json|yaml|table', 'table')
    .action(
      clientAction(async ({ client }, options: { output: string }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'table');
        const version = await client.callRuntime('Version', { version: '0.1.0' });
        if (format !== 'table') return printMessage(version, format);
        console.log(`Version:  ${version.version}`);
        console.log(`RuntimeName:  ${version.runtimeName}`);
        console.log(`RuntimeVersion:  ${version.runtimeVersion}`);
        console.log(`RuntimeApiVersion:  ${version.runtimeApiVersion}`);
      }),
    );

  program
    .command('info')
    .description('Display information of the container runtime: readiness conditions and configuration')
    .option('-o, --output <format>', 'output format: json|yaml', 'json')
    .option('-q, --quiet', 'do not show verbose information')
    .action(
      clientAction(async ({ client }, options: { output: string; quiet?: boolean }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml'], 'json') as 'json' | 'yaml';
        const status = await client.callRuntime('Status', { verbose: !options.quiet });
        printStatuses([{ status: status.status, info: status.info }], format);
      }),
    );

  program
    .command('runtimeconfig')
    .description('Display the runtime configuration the kubelet reads at start (the cgroup driver)')
    .option('-o, --output <format>', 'output format: json|yaml|table', 'table')
    .action(
      clientAction(async ({ client }, options: { output: string }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'table');
        const config = await client.callRuntime('RuntimeConfig', {});
        if (format !== 'table') return printMessage(config, format);
        console.log(`CgroupDriver:  ${config.linux?.cgroupDriver ?? ''}`);
      }),
    );
}
