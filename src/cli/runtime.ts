import type { Command } from 'commander';
import { clientAction } from './command.js';
import { withContext } from './connection.js';
import { validateTemplate } from './go-template.js';
import { logLine } from './log-line.js';
import { UsageError, parseOutputFormat, printStatuses } from './output.js';
import { goStructJson, printProto, protoJsonValue, yamlOf } from './protojson.js';
import { renderTabwriter } from './tabwriter.js';

/** crictl's `-o` of the inspect family: json (default), yaml, go-template (with --template) or table. */
export type StatusFormat = 'json' | 'yaml' | 'go-template' | 'table';

/** Validates `-o` and `--template` as crictl's inspect commands do. */
export function statusFormat(output: string | undefined, template: string | undefined, allowTable = true): StatusFormat {
  const allowed = ['json', 'yaml', 'go-template', ...(allowTable ? ['table'] : [])];
  const format = output === undefined || output === '' ? 'json' : output;
  if (!allowed.includes(format)) throw new UsageError(`unsupported format: ${JSON.stringify(format)}`);
  if (format === 'go-template') validateTemplate(template ?? '');
  return format as StatusFormat;
}

/** Repeats `show` every 500 ms until SIGINT/SIGTERM, as crictl's --watch does; once without `watch`. */
export async function displayLoop(watch: boolean | undefined, show: () => Promise<void>): Promise<void> {
  if (!watch) return show();
  let stopped = false;
  const stop = () => (stopped = true);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    while (!stopped) {
      await show();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** `version`, `info`, `runtime-config`, `update-runtime-config`, `metricsp`, `metricdescs`. */
export function registerRuntimeCommands(program: Command): void {
  program
    .command('version')
    .description('Display runtime version information')
    .option('-o, --output <format>', 'output format: json|yaml|table (mascri only; crictl prints the table)', 'table')
    .action(
      clientAction(async ({ client }, options: { output: string }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'table');
        const version = await withContext('getting the runtime version', client.callRuntime('Version', { version: 'v1' }));
        if (format !== 'table') return printProto('VersionResponse', version, format);
        console.log(`Version:  ${version.version}`);
        console.log(`RuntimeName:  ${version.runtimeName}`);
        console.log(`RuntimeVersion:  ${version.runtimeVersion}`);
        console.log(`RuntimeApiVersion:  ${version.runtimeApiVersion}`);
      }),
    );

  program
    .command('info')
    .description('Display information of the container runtime')
    .option('-o, --output <format>', 'Output format, One of: json|yaml|go-template', 'json')
    .option('-q, --quiet', 'Do not show verbose information')
    .option('--template <template>', 'The template string is only used when output is go-template; The Template format is golang template')
    .action(
      clientAction(async ({ client }, options: { output: string; quiet?: boolean; template?: string }) => {
        const format = statusFormat(options.output, options.template, false);
        const response = await withContext('getting status of runtime', client.callRuntime('Status', { verbose: !options.quiet }));
        const extra: Record<string, unknown> = {};
        // crictl writes these two with encoding/json, not protojson: snake_case names, zero values left out.
        if (response.runtimeHandlers.length > 0) extra.runtimeHandlers = response.runtimeHandlers.map((h) => goStructJson('RuntimeHandler', h));
        if (response.features) extra.features = goStructJson('RuntimeFeatures', response.features);
        printStatuses([{ status: protoJsonValue('RuntimeStatus', response.status ?? {}), extra, info: response.info }], format as 'json', options.template);
      }),
    );

  program
    .command('runtime-config')
    .alias('runtimeconfig')
    .description('Retrieve the container runtime configuration')
    .option('-o, --output <format>', 'output format: json|yaml|table (mascri only; crictl prints the table)', 'table')
    .action(
      clientAction(async ({ client }, options: { output: string }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'table');
        const config = await withContext('get runtime config', withContext('call RuntimeConfig RPC', client.callRuntime('RuntimeConfig', {})));
        if (format !== 'table') return printProto('RuntimeConfigResponse', config, format);
        if (config.linux) console.log(renderTabwriter([['cgroup driver:', config.linux.cgroupDriver]], 10));
      }),
    );

  program
    .command('update-runtime-config')
    .description('Update the runtime configuration')
    .option('-p, --pod-cidr <cidr>', 'The new Classless Inter-Domain Routing (CIDR) value to be used for pod IP addresses. If the CIDR is empty, runtimes should omit it.')
    .action(
      clientAction(async ({ client }, options: { podCidr?: string }, command: Command) => {
        if (options.podCidr === undefined) {
          command.outputHelp();
          return;
        }
        await withContext('update runtime config', client.callRuntime('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr: options.podCidr } } }));
        logLine('info', 'Runtime config successfully updated');
      }),
    );

  program
    .command('metricsp')
    .description("List pod metrics. Metrics are unstructured key/value pairs gathered by CRI meant to replace cAdvisor's /metrics/cadvisor endpoint.")
    .option('-o, --output <format>', 'Output format, One of: json|yaml')
    .option('-w, --watch', 'Watch pod metrics')
    .action(
      clientAction(async ({ client }, options: { output?: string; watch?: boolean }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml'], 'json') as 'json' | 'yaml';
        await displayLoop(options.watch, async () => {
          const response = await withContext('get pod metrics', withContext('list pod sandbox metrics', client.callRuntime('ListPodSandboxMetrics', {})));
          printProto('ListPodSandboxMetricsResponse', { podMetrics: response.podMetrics }, format);
        });
      }),
    );

  program
    .command('metricdescs')
    .description('List metric descriptors. Returns information about the metrics available through the CRI.')
    .option('-o, --output <format>', 'Output format, One of: json|yaml')
    .action(
      clientAction(async ({ client }, options: { output?: string }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml'], 'json') as 'json' | 'yaml';
        const response = await withContext('get metric descriptors', withContext('list metric descriptors', client.callRuntime('ListMetricDescriptors', {})));
        const value = protoJsonValue('ListMetricDescriptorsResponse', { descriptors: response.descriptors });
        console.log(format === 'json' ? JSON.stringify(value, null, 2) : yamlOf(value));
      }),
    );
}
