import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { Command } from 'commander';
import type { ContainerEventResponse__Output } from '../cri/generated/runtime/v1/ContainerEventResponse.js';
import { clientAction } from './command.js';
import { executeTemplate, validateTemplate } from './go-template.js';
import { UsageError, truncateId } from './output.js';
import { protoJsonValue, yamlOf } from './protojson.js';

/** Unix nanoseconds (a decimal string) as RFC 3339 with nanoseconds: 2025-01-02T03:04:05.123456789Z. Pure. */
export function formatNanos(nanos: string): string {
  let value: bigint;
  try {
    value = BigInt(nanos || '0');
  } catch {
    return nanos;
  }
  const seconds = value / 1_000_000_000n;
  const fraction = (value % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${fraction}Z`);
}

const COLUMN_WIDTHS = [30, 23];

/** The table header of `events`. */
export function eventHeader(noTrunc: boolean): string {
  return eventColumns(['TIME', 'EVENT', 'CONTAINER', 'POD'], noTrunc);
}

/** One table line: time, event type, container ID, pod ID. Pure. */
export function eventLine(event: ContainerEventResponse__Output, noTrunc: boolean): string {
  return eventColumns(
    [formatNanos(event.createdAt), event.containerEventType, truncateId(event.containerId, noTrunc), truncateId(event.podSandboxStatus?.id ?? '', noTrunc)],
    noTrunc,
  );
}

function eventColumns(cells: string[], noTrunc: boolean): string {
  const widths = [...COLUMN_WIDTHS, noTrunc ? 64 : 13];
  return cells
    .map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell))
    .join('    ')
    .trimEnd();
}

/** `events`: GetContainerEvents, printed as each event arrives, until interrupted. */
export function registerEventsCommand(program: Command): void {
  program
    .command('events')
    .alias('event')
    .description('Stream the events of containers (created, started, stopped, deleted) as they happen, until interrupted')
    .option('-o, --output <format>', 'Output format, One of: json|yaml|go-template (and table, mascri only)', 'json')
    .option('--template <template>', 'The template string is only used when output is go-template; The Template format is golang template')
    .option('--no-trunc', 'table: show full IDs')
    .action(
      clientAction(async ({ client }, options: { output: string; trunc: boolean; template?: string }) => {
        const format = options.output;
        if ((format === 'json' || format === 'yaml') && options.template) throw new UsageError(`template can't be used with ${JSON.stringify(format)} format`);
        if (format === 'go-template') {
          try {
            validateTemplate(options.template ?? '');
          } catch (error) {
            throw new UsageError(`failed to parse go-template: ${(error as Error).message}`);
          }
        } else if (format !== 'json' && format !== 'yaml' && format !== 'table') throw new UsageError(`don't support ${JSON.stringify(format)} format`);
        const print = (event: ContainerEventResponse__Output) => {
          if (format === 'table') return console.log(eventLine(event, !options.trunc));
          const value = protoJsonValue('ContainerEventResponse', event);
          if (format === 'json') console.log(JSON.stringify(value, null, 2));
          else if (format === 'yaml') console.log(yamlOf(value));
          else console.log(executeTemplate(options.template ?? '', value));
        };
        if (format === 'table') console.log(eventHeader(!options.trunc));
        // A stream has no deadline: the -t/--timeout of unary calls does not apply to it.
        const stream = client.runtime.GetContainerEvents({});
        let interrupted = false;
        const interrupt = () => {
          interrupted = true;
          stream.cancel();
        };
        process.once('SIGINT', interrupt);
        process.once('SIGTERM', interrupt);
        try {
          await new Promise<void>((resolve, reject) => {
            stream.on('data', print);
            stream.on('end', () => resolve());
            stream.on('error', (error: ServiceError) => (interrupted && error.code === GrpcStatus.CANCELLED ? resolve() : reject(error)));
          });
        } finally {
          process.off('SIGINT', interrupt);
          process.off('SIGTERM', interrupt);
        }
      }),
    );
}
