import { InvalidArgumentError, type Command } from 'commander';
import type { CriClient } from '../cri/client.js';
import type { PodSandbox__Output } from '../cri/generated/runtime/v1/PodSandbox.js';
import type { PodSandboxFilter } from '../cri/generated/runtime/v1/PodSandboxFilter.js';
import type { PodSandboxState__Output } from '../cri/generated/runtime/v1/PodSandboxState.js';
import type { PodSandboxStatus__Output } from '../cri/generated/runtime/v1/PodSandboxStatus.js';
import type { PodSandboxStatusResponse__Output } from '../cri/generated/runtime/v1/PodSandboxStatusResponse.js';
import { clientAction, collect } from './command.js';
import { loadSandboxConfig } from './config.js';
import { describeError, withContext } from './connection.js';
import { addJsonSchemaCommand } from './json-schema.js';
import { logLine, rfc3339Local } from './log-line.js';
import { UsageError, goMap, parseDuration, printStatuses, truncateId, type StatusItem } from './output.js';
import { printProto, statusValue } from './protojson.js';
import { statusFormat } from './runtime.js';
import { printTabwriter } from './tabwriter.js';

/** Calls that may pull an image or stop containers get at least this long (kubelet's runtime request timeout). */
export { resolveIdPrefix, resolveSandboxId, type IdLister } from './resolve.js';
export { humanDuration, createdAgo } from './time.js';
export { parseLabelSelector } from './filters.js';
import { resolveSandboxId } from './resolve.js';
import { createdAgo } from './time.js';
import { parseLabelSelector } from './filters.js';

export const LONG_CALL_MS = 120_000;

/** Client-side list options shared by `pods` and `inspectp` (crictl's names). */
interface ListOptions {
  id?: string;
  name?: string;
  namespace?: string;
  state?: string;
  label?: string[];
  latest?: boolean;
  last?: number;
}

/** Pod sandbox commands: runp, pods, inspectp, stopp, rmp. */
export function registerSandboxCommands(program: Command): void {
  const runp = program
    .command('runp')
    .description('Run a new pod from a crictl-format sandbox config (JSON, or YAML by extension)')
    .argument('<config>', 'pod-config.[json|yaml]')
    .option('-r, --runtime <handler>', 'Runtime handler to use. Available options are defined by the container runtime.')
    .option('-T, --cancel-timeout <duration>', `Seconds to wait for a run pod sandbox request to complete before cancelling the request (default: the global timeout, at least ${LONG_CALL_MS / 1000}s)`)
    .action(
      clientAction(async ({ client, endpoints }, path: string, options: { runtime?: string; cancelTimeout?: string }) => {
        // Before any call: a bad file never reaches the runtime.
        const config = await withContext('load podSandboxConfig', async () => loadSandboxConfig(path));
        const given = options.cancelTimeout ? parseDuration(options.cancelTimeout) : 0;
        const timeoutMs = given > 0 ? given : Math.max(endpoints.timeoutMs, LONG_CALL_MS);
        const response = await withContext('run pod sandbox', client.callRuntime('RunPodSandbox', { config, runtimeHandler: options.runtime ?? '' }, { timeoutMs }));
        console.log(response.podSandboxId);
      }),
    );
  addJsonSchemaCommand(runp, 'Display the JSON schema for the pod-config.json', ['PodSandboxConfig']);

  addListFlags(
    program
      .command('pods')
      .description('List pods')
      .option('--id <id>', 'filter by pod ID (a prefix is enough)'),
  )
    .option('-v, --verbose', 'show verbose info for pods')
    .option('-q, --quiet', 'list only pod IDs')
    .option('-o, --output <format>', 'output format: json|yaml|table', 'table')
    .option('--no-trunc', 'show output without truncating the ID')
    .action(
      clientAction(async ({ client }, options: ListOptions & { verbose?: boolean; quiet?: boolean; output: string; trunc: boolean }) => {
        const pods = await withContext('listing pod sandboxes', withContext('list pod sandboxes', listSandboxes(client, options)));
        if (options.output === 'json' || options.output === 'yaml') return printProto('ListPodSandboxResponse', { items: pods }, options.output);
        if (options.output !== 'table') throw new UsageError(`listing pod sandboxes: unsupported output format ${JSON.stringify(options.output)}`);
        if (options.quiet) {
          for (const pod of pods) console.log(pod.id);
          return;
        }
        if (options.verbose) return printVerbosePods(pods);
        const now = Date.now();
        printTabwriter(
          ['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME'],
          pods.map((pod) => [
            options.trunc ? truncateId(pod.id) : pod.id,
            createdAgo(pod.createdAt, now),
            podStateName(pod.state),
            pod.metadata?.name ?? '',
            pod.metadata?.namespace ?? '',
            String(pod.metadata?.attempt ?? 0),
            runtimeHandlerName(pod.runtimeHandler),
          ]),
        );
      }),
    );

  addListFlags(
    program
      .command('inspectp')
      .description('Display the status of one or more pods (with no IDs: the pods the filters select)')
      .argument('[ids...]', 'POD-ID [POD-ID...] (IDs or unique ID prefixes)')
      .option('-o, --output <format>', 'Output format, One of: json|yaml|go-template|table')
      .option('-q, --quiet', 'Do not show verbose information')
      .option('--template <template>', 'The template string is only used when output is go-template; The Template format is golang template'),
  ).action(
    clientAction(async ({ client }, given: string[], options: ListOptions & { output?: string; quiet?: boolean; template?: string }, command: Command) => {
      let ids = given;
      if (ids.length === 0) ids = (await withContext('listing pod sandboxes', listSandboxes(client, options))).map((pod) => pod.id);
      if (ids.length === 0) {
        logLine('error', 'No IDs provided or nothing found per filter');
        command.outputHelp();
        return;
      }
      await withContext('get the status of pod sandboxes', async () => {
        const format = statusFormat(options.output, options.template);
        const statuses: StatusItem[] = [];
        for (const id of ids) {
          const response = await withContext('get pod sandbox status', async () =>
            client.callRuntime('PodSandboxStatus', { podSandboxId: await resolveSandboxId(client, id), verbose: !options.quiet }),
          );
          if (format === 'table') printSandboxStatusTable(response, !options.quiet);
          else statuses.push({ status: sandboxStatusValue(response.status), info: response.info });
        }
        if (format !== 'table') printStatuses(statuses, format, options.template);
      });
    }),
  );

  program
    .command('stopp')
    .description('Stop one or more running pods (stopping a stopped pod is not an error)')
    .argument('<ids...>', 'pod IDs or unique ID prefixes')
    .action(
      clientAction(async ({ client, endpoints }, given: string[]) => {
        const timeoutMs = Math.max(endpoints.timeoutMs, LONG_CALL_MS);
        for (const id of given) {
          await withContext(`stopping the pod sandbox ${JSON.stringify(id)}`, async () =>
            client.callRuntime('StopPodSandbox', { podSandboxId: await resolveSandboxId(client, id) }, { timeoutMs }),
          );
          console.log(`Stopped sandbox ${id}`);
        }
      }),
    );

  program
    .command('rmp')
    .description('Remove one or more pods; a ready pod must be stopped first, or removed with -f')
    .argument('[ids...]', 'pod IDs or unique ID prefixes')
    .option('-a, --all', 'remove all pods')
    .option('-f, --force', 'stop a ready pod before removing it')
    .action(
      clientAction(async ({ client, endpoints }, given: string[], options: { all?: boolean; force?: boolean }, command: Command) => {
        const timeoutMs = Math.max(endpoints.timeoutMs, LONG_CALL_MS);
        let ids = given;
        if (options.all) {
          ids = (await client.callRuntime('ListPodSandbox', {})).items.map((pod) => pod.id);
          if (ids.length === 0) return logLine('info', 'No pods to remove');
        }
        if (ids.length === 0) {
          command.outputHelp();
          return;
        }
        const failures: string[] = [];
        for (const id of ids) {
          try {
            const podSandboxId = await resolveSandboxId(client, id);
            const { status } = await withContext(`getting sandbox status of pod ${JSON.stringify(id)}`, client.callRuntime('PodSandboxStatus', { podSandboxId, verbose: false }));
            if (status?.state === 'SANDBOX_READY') {
              if (!options.force) throw new UsageError(`pod sandbox ${JSON.stringify(id)} is running, please stop it first (or use rmp -f to stop and remove it)`);
              await withContext(`stopping the pod sandbox ${JSON.stringify(id)} failed`, client.callRuntime('StopPodSandbox', { podSandboxId }, { timeoutMs }));
              console.log(`Stopped sandbox ${id}`);
            }
            await withContext(`removing the pod sandbox ${JSON.stringify(id)}`, client.callRuntime('RemovePodSandbox', { podSandboxId }, { timeoutMs }));
            console.log(`Removed sandbox ${id}`);
          } catch (error) {
            failures.push(describeError(error, endpoints));
          }
        }
        if (failures.length > 0) throw new UsageError(failures.join('\n'));
      }),
    );
}

/** The filter flags crictl's `pods` and `inspectp` share. */
function addListFlags(command: Command): Command {
  return command
    .option('--name <regexp>', 'filter by pod name regular expression pattern')
    .option('--namespace <regexp>', 'filter by pod namespace regular expression pattern')
    .option('-s, --state <state>', 'filter by pod state: ready or notready')
    .option('--label <key=value>', 'filter by key=value label (repeatable)', collect)
    .option('-l, --latest', 'show the most recently created pod')
    .option('-n, --last <n>', 'show the n most recently created pods (0 for all)', parseCount);
}

/** ListPodSandbox with the server-side filter (ID, state, labels), then crictl's client-side selection. */
async function listSandboxes(client: CriClient, options: ListOptions): Promise<PodSandbox__Output[]> {
  const filter: PodSandboxFilter = {};
  if (options.id) filter.id = options.id;
  if (options.state) filter.state = { state: parseSandboxState(options.state) };
  if (options.label?.length) filter.labelSelector = parseLabelSelector(options.label);
  const { items } = await withContext('call list sandboxes RPC', client.callRuntime('ListPodSandbox', { filter }));
  return selectSandboxes(items, options);
}

/** crictl's client-side selection: name/namespace regexps, newest first, then --latest / --last. */
export function selectSandboxes<T extends Pick<PodSandbox__Output, 'metadata' | 'createdAt'>>(
  items: T[],
  options: Pick<ListOptions, 'name' | 'namespace' | 'latest' | 'last'>,
): T[] {
  const name = compileRegexp(options.name, '--name');
  const namespace = compileRegexp(options.namespace, '--namespace');
  const selected = items.filter(
    (pod) => pod.metadata && (!name || name.test(pod.metadata.name)) && (!namespace || namespace.test(pod.metadata.namespace)),
  );
  selected.sort((a, b) => compareNanos(b.createdAt, a.createdAt));
  return selected.slice(0, countToShow(selected.length, options.latest, options.last));
}

/** How many of `total` items --latest / --last leave (crictl's truncateCount). */
export function countToShow(total: number, latest?: boolean, last?: number): number {
  let n = total;
  if (latest) n = 1;
  if (last && last > 0) n = last;
  return Math.min(n, total);
}

function compileRegexp(pattern: string | undefined, flag: string): RegExp | undefined {
  if (!pattern) return undefined;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new UsageError(`${flag}: invalid regular expression "${pattern}": ${(error as Error).message}`);
  }
}

function compareNanos(a: string, b: string): number {
  const x = BigInt(a || '0');
  const y = BigInt(b || '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/** --state ready|notready (any case) -> the CRI state the filter takes. */
export function parseSandboxState(text: string): PodSandboxState__Output {
  switch (text.toLowerCase()) {
    case 'ready':
      return 'SANDBOX_READY';
    case 'notready':
      return 'SANDBOX_NOTREADY';
    default:
      throw new UsageError('--state should be ready or notready');
  }
}

/** The STATE column: "Ready" / "NotReady", as crictl prints them. */
export function podStateName(state: string): string {
  if (state === 'SANDBOX_READY') return 'Ready';
  if (state === 'SANDBOX_NOTREADY') return 'NotReady';
  return state;
}

/** The RUNTIME column: the handler, or "(default)" when none was asked for. */
export function runtimeHandlerName(handler: string): string {
  return handler === '' ? '(default)' : handler;
}

function parseCount(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('use a whole number, 0 for all.');
  return Number(text);
}

/** Nanoseconds since the epoch as RFC 3339 with trimmed nanoseconds ("2024-05-01T10:00:00.1234Z" in UTC), as crictl's inspect commands show times. */
export function rfc3339Nano(nanos: string): string {
  const { date, fraction } = splitNanos(nanos);
  // In the local time zone, as Go's time.Unix(...).Format(time.RFC3339Nano) in crictl ("Z" in UTC).
  const local = rfc3339Local(date);
  return local.endsWith('Z') ? `${local.slice(0, -1)}${fraction}Z` : `${local.slice(0, 19)}${fraction}${local.slice(19)}`;
}

/** Nanoseconds since the epoch the way Go prints a time.Time in UTC ("2024-05-01 10:00:00.1234 +0000 UTC"). */
export function goTime(nanos: string): string {
  const { date, fraction } = splitNanos(nanos);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')}${fraction} +0000 UTC`;
}

function splitNanos(nanos: string): { date: Date; fraction: string } {
  const total = BigInt(nanos || '0');
  let seconds = total / 1_000_000_000n;
  let rest = total % 1_000_000_000n;
  if (rest < 0n) {
    seconds -= 1n;
    rest += 1_000_000_000n;
  }
  const digits = rest.toString().padStart(9, '0').replace(/0+$/, '');
  return { date: new Date(Number(seconds) * 1000), fraction: digits ? `.${digits}` : '' };
}

/** A sandbox status as crictl's inspectp shapes it: every field, createdAt as an RFC 3339 time. */
export function sandboxStatusValue(status: PodSandboxStatus__Output | null): Record<string, unknown> {
  return statusValue('PodSandboxStatus', status ?? {}, { createdAt: rfc3339Nano(status?.createdAt ?? '0') });
}

function printSortedMap(title: string, map: Record<string, string>): void {
  const keys = Object.keys(map).sort();
  if (keys.length === 0) return;
  console.log(`${title}:`);
  for (const key of keys) console.log(`\t${key} -> ${map[key]}`);
}

/** `pods -v`: crictl's block per pod. */
function printVerbosePods(pods: PodSandbox__Output[]): void {
  for (const pod of pods) {
    console.log(`ID: ${pod.id}`);
    const metadata = pod.metadata;
    if (metadata) {
      if (metadata.name) console.log(`Name: ${metadata.name}`);
      if (metadata.uid) console.log(`UID: ${metadata.uid}`);
      if (metadata.namespace) console.log(`Namespace: ${metadata.namespace}`);
      if (metadata.attempt) console.log(`Attempt: ${metadata.attempt}`);
    }
    console.log(`Status: ${podStateName(pod.state)}`);
    console.log(`Created: ${goTime(pod.createdAt)}`);
    printSortedMap('Labels', pod.labels);
    printSortedMap('Annotations', pod.annotations);
    console.log(`Runtime: ${runtimeHandlerName(pod.runtimeHandler)}`);
    console.log('');
  }
}

/** `inspectp -o table`: crictl's summary of a sandbox status. */
function printSandboxStatusTable(response: PodSandboxStatusResponse__Output, verbose: boolean): void {
  const status = response.status;
  console.log(`ID: ${status?.id ?? ''}`);
  const metadata = status?.metadata;
  if (metadata) {
    if (metadata.name) console.log(`Name: ${metadata.name}`);
    if (metadata.uid) console.log(`UID: ${metadata.uid}`);
    if (metadata.namespace) console.log(`Namespace: ${metadata.namespace}`);
    console.log(`Attempt: ${metadata.attempt}`);
  }
  console.log(`Status: ${status?.state ?? 'SANDBOX_READY'}`);
  console.log(`Created: ${createdAgo(status?.createdAt ?? '0')}`);
  if (status?.network) {
    console.log(`IP Addresses: ${status.network.ip}`);
    for (const extra of status.network.additionalIps) console.log(`Additional IP: ${extra.ip}`);
  }
  printSortedMap('Labels', status?.labels ?? {});
  printSortedMap('Annotations', status?.annotations ?? {});
  if (verbose) console.log(`Info: ${goMap(response.info)}`);
}
