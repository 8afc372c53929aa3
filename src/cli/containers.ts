import type { Command } from 'commander';
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { CriClient } from '../cri/client.js';
import type { Container__Output } from '../cri/generated/runtime/v1/Container.js';
import type { ContainerConfig } from '../cri/generated/runtime/v1/ContainerConfig.js';
import type { ContainerFilter } from '../cri/generated/runtime/v1/ContainerFilter.js';
import type { ContainerState } from '../cri/generated/runtime/v1/ContainerState.js';
import type { ContainerStatus__Output } from '../cri/generated/runtime/v1/ContainerStatus.js';
import type { ContainerStatusResponse__Output } from '../cri/generated/runtime/v1/ContainerStatusResponse.js';
import type { PodSandboxConfig } from '../cri/generated/runtime/v1/PodSandboxConfig.js';
import { clientAction, collect } from './command.js';
import { loadContainerConfig, loadSandboxConfig } from './config.js';
import { describeError, withContext } from './connection.js';
import { parseLabelSelector } from './filters.js';
import { addPullFlags, authFromOptions, pullTimeoutMs } from './images.js';
import { addJsonSchemaCommand } from './json-schema.js';
import { logLine } from './log-line.js';
import { UsageError, goMap, parseDuration, printStatuses, truncateId, type StatusItem } from './output.js';
import { GO_ZERO_TIME, printProto, statusValue } from './protojson.js';
import { resolveContainerId, resolveSandboxId } from './resolve.js';
import { statusFormat } from './runtime.js';
import { countToShow, rfc3339Nano } from './sandboxes.js';
import { printTabwriter } from './tabwriter.js';
import { createdAgo } from './time.js';

/** Seconds a create or run may take: it can pull the image first. */
const CREATE_TIMEOUT_MS = 300_000;

const STATE_NAMES: Record<string, string> = {
  CONTAINER_CREATED: 'Created',
  CONTAINER_RUNNING: 'Running',
  CONTAINER_EXITED: 'Exited',
  CONTAINER_UNKNOWN: 'Unknown',
};

/** crictl's --state values -> the CRI's. */
export function containerStateFilter(state: string): ContainerState {
  const value = state.toLowerCase();
  const map: Record<string, ContainerState> = { created: 'CONTAINER_CREATED', running: 'CONTAINER_RUNNING', exited: 'CONTAINER_EXITED', unknown: 'CONTAINER_UNKNOWN' };
  const found = map[value];
  if (!found) throw new UsageError('--state should be one of created, running, exited or unknown');
  return found;
}

/** The flags of crictl's create and run: pull control, then the pull flags. */
function addCreateFlags(command: Command, noPull: string, withPull: string): Command {
  command
    .option('--no-pull', noPull)
    .option('--with-pull', withPull)
    .option('-T, --cancel-timeout <duration>', 'Seconds to wait for the request to complete before cancelling');
  return addPullFlags(command);
}

interface CreateOptions {
  pull: boolean;
  withPull?: boolean;
  cancelTimeout?: string;
  creds?: string;
  auth?: string;
  username?: string;
  pullTimeout?: string;
  pt?: string;
}

/** The call timeout of create and run: --cancel-timeout, else the global one but at least enough for a pull. */
function createTimeoutMs(options: CreateOptions): number {
  const given = options.cancelTimeout ? parseDuration(options.cancelTimeout) : 0;
  return given > 0 ? given : CREATE_TIMEOUT_MS;
}

/** Container commands: create, start, run, ps, inspect, stop, rm, checkpoint. */
export function registerContainerCommands(program: Command): void {
  const create = program
    .command('create')
    .description('Create a new container')
    .argument('<pod-id>', 'POD: the sandbox to create the container in')
    .argument('<container-config>', 'container-config.[json|yaml]')
    .argument('<pod-config>', 'pod-config.[json|yaml]: the sandbox config the pod was run with');
  addCreateFlags(
    create,
    'Do not pull the image on container creation (overrides pull-image-on-create=true in config)',
    'Pull the image on container creation (overrides pull-image-on-create=false in config)',
  ).action(
    clientAction(async ({ client, endpoints }, podId: string, containerFile: string, podFile: string, options: CreateOptions) => {
      if (!options.pull && options.withPull) throw new UsageError('conflict: no-pull and with-pull are both set');
      const withPull = (options.pull && Boolean(endpoints.pullImageOnCreate)) || Boolean(options.withPull);
      const containerId = await withContext('creating container', async () => {
        const { config, sandboxConfig } = loadCreateConfigs(containerFile, podFile);
        const sandboxId = await resolveSandboxId(client, podId);
        if (withPull) await pullForCreate(client, config, sandboxConfig, options);
        return (await client.callRuntime('CreateContainer', { podSandboxId: sandboxId, config, sandboxConfig }, { timeoutMs: createTimeoutMs(options) })).containerId;
      });
      console.log(containerId);
    }),
  );
  addJsonSchemaCommand(create, 'Display the JSON schema for the pod or container config', ['PodSandboxConfig', 'ContainerConfig']);

  program
    .command('start')
    .description('Start one or more created containers')
    .argument('<container-ids...>', 'CONTAINER-ID [CONTAINER-ID...]')
    .action(
      clientAction(async ({ client }, ids: string[]) => {
        for (const id of ids) {
          const full = await withContext(`starting the container ${JSON.stringify(id)}`, async () => {
            const resolved = await resolveContainerId(client, id);
            await client.callRuntime('StartContainer', { containerId: resolved }, { timeoutMs: 60_000 });
            return resolved;
          });
          console.log(full);
        }
      }),
    );

  const run = program
    .command('run')
    .description('Run a new container inside a sandbox (runp, create and start in one; the pod is removed again if a step fails)')
    .argument('<container-config>', 'container-config.[json|yaml]')
    .argument('<pod-config>', 'pod-config.[json|yaml]')
    .option('-r, --runtime <handler>', 'Runtime handler to use. Available options are defined by the container runtime.', '');
  addCreateFlags(run, 'Do not pull the image (overrides disable-pull-on-run=false in config)', 'Pull the image (overrides disable-pull-on-run=true in config)').action(
    clientAction(async ({ client, endpoints }, containerFile: string, podFile: string, options: CreateOptions & { runtime: string }) => {
      if (!options.pull && options.withPull) throw new UsageError('conflict: no-pull and with-pull are both set');
      const withPull = (!endpoints.disablePullOnRun && options.pull) || Boolean(options.withPull);
      const containerId = await withContext('running container', async () => {
        const sandboxConfig = await withContext('load podSandboxConfig', async () => loadSandboxConfig(podFile));
        const { config } = loadCreateConfigs(containerFile, podFile);
        const { podSandboxId } = await withContext(
          'run pod sandbox',
          client.callRuntime('RunPodSandbox', { config: sandboxConfig, runtimeHandler: options.runtime }, { timeoutMs: CREATE_TIMEOUT_MS }),
        );
        try {
          const { containerId: id } = await withContext('creating container failed', async () => {
            if (withPull) await pullForCreate(client, config, sandboxConfig, options);
            return client.callRuntime('CreateContainer', { podSandboxId, config, sandboxConfig }, { timeoutMs: createTimeoutMs(options) });
          });
          await withContext(`starting the container ${JSON.stringify(id)}`, client.callRuntime('StartContainer', { containerId: id }, { timeoutMs: 60_000 }));
          return id;
        } catch (error) {
          // Leave no half-made pod behind (crictl would).
          await client.callRuntime('RemovePodSandbox', { podSandboxId }, { timeoutMs: 60_000 }).catch(() => undefined);
          throw error;
        }
      });
      console.log(containerId);
    }),
  );
  addJsonSchemaCommand(run, 'Display the JSON schema for the pod or container config', ['PodSandboxConfig', 'ContainerConfig']);

  addContainerFilterFlags(
    program
      .command('ps')
      .description('List containers')
      .option('-v, --verbose', 'Show verbose information for containers')
      .option('--id <id>', 'Filter by container id')
      .option('-q, --quiet', 'Only display container IDs')
      .option('-o, --output <format>', 'Output format, One of: json|yaml|table', 'table')
      .option('--no-trunc', 'Show output without truncating the ID')
      .option('-r, --resolve-image-path', 'Show image path instead of image id')
      .option('--show-exit-code', 'mascri only: add an EXIT column, the exit code of exited containers (crictl\'s columns stay as they are)'),
  ).action(
    clientAction(async ({ client }, options: ContainerListOptions) => withContext('listing containers', async () => {
      const containers = await withContext('list containers', listContainers(client, options));
      if (options.output === 'json' || options.output === 'yaml') return printProto('ListContainersResponse', { containers }, options.output);
      if (options.output !== 'table') throw new UsageError(`unsupported output format ${JSON.stringify(options.output)}`);
      if (options.quiet) {
        for (const c of containers) console.log(c.id);
        return;
      }
      if (options.verbose) return printVerboseContainers(containers);
      const exitCodes = options.showExitCode ? await exitCodesOf(client, containers) : new Map<string, string>();
      const rows: string[][] = [];
      for (const c of containers) {
        let image = c.image?.image ?? '';
        if (options.trunc && /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(image)) image = truncateId(image.slice(image.indexOf(':') + 1));
        if (options.resolveImagePath) image = await withContext('failed to fetch repo image', repoImage(client, image));
        rows.push([
          options.trunc ? truncateId(c.id) : c.id,
          image,
          createdAgo(c.createdAt),
          STATE_NAMES[c.state] ?? String(c.state),
          c.metadata?.name ?? '',
          String(c.metadata?.attempt ?? 0),
          options.trunc ? truncateId(c.podSandboxId) : c.podSandboxId,
          c.labels['io.kubernetes.pod.name'] ?? 'unknown',
          c.labels['io.kubernetes.pod.namespace'] ?? 'unknown',
          ...(options.showExitCode ? [exitCodes.get(c.id) ?? ''] : []),
        ]);
      }
      printTabwriter(['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'NAMESPACE', ...(options.showExitCode ? ['EXIT'] : [])], rows);
    })),
  );

  addContainerFilterFlags(
    program
      .command('inspect')
      .description('Display the status of one or more containers (with no IDs: the containers the filters select)')
      .argument('[container-ids...]', 'CONTAINER-ID [CONTAINER-ID...]')
      .option('-o, --output <format>', 'Output format, One of: json|yaml|go-template|table')
      .option('-q, --quiet', 'Do not show verbose information')
      .option('--template <template>', 'The template string is only used when output is go-template; The Template format is golang template'),
  ).action(
    clientAction(async ({ client }, given: string[], options: ContainerListOptions & { quiet?: boolean; template?: string }, command: Command) => {
      let ids = given;
      if (ids.length === 0) ids = (await withContext('listing containers', listContainers(client, options))).map((c) => c.id);
      if (ids.length === 0) {
        logLine('error', 'No IDs provided or nothing found per filter');
        command.outputHelp();
        return;
      }
      await withContext('get the status of containers', async () => {
        const format = statusFormat(options.output, options.template);
        const statuses: StatusItem[] = [];
        for (const id of ids) {
          const response = await withContext('get container status', async () =>
            client.callRuntime('ContainerStatus', { containerId: await resolveContainerId(client, id), verbose: !options.quiet }),
          );
          if (format === 'table') printContainerStatusTable(response, !options.quiet);
          else statuses.push({ status: containerStatusValue(response.status), info: response.info });
        }
        if (format !== 'table') printStatuses(statuses, format, options.template);
      });
    }),
  );

  program
    .command('stop')
    .description('Stop one or more running containers')
    .argument('[container-ids...]', 'CONTAINER-ID [CONTAINER-ID...]')
    .option('-t, --timeout <seconds>', 'Seconds to wait to kill the container after a graceful stop is requested', '0')
    .option('-a, --all', 'Stop all running containers')
    .action(
      clientAction(async ({ client }, given: string[], options: { timeout: string; all?: boolean }) => {
        const timeout = Number(options.timeout);
        if (!Number.isInteger(timeout)) throw new UsageError(`invalid value "${options.timeout}" for flag -timeout: parse error`);
        if (options.all && given.length > 0) throw new UsageError('cannot specify CONTAINER-ID(s) when using --all');
        let ids = given;
        if (options.all) {
          ids = (await withContext('listing containers', client.callRuntime('ListContainers', { filter: { state: { state: 'CONTAINER_RUNNING' } } }))).containers.map((c) => c.id);
          if (ids.length === 0) return console.log('No running containers found.');
        } else if (ids.length === 0) throw new UsageError('you must specify at least one CONTAINER-ID or use --all');
        for (const id of ids) {
          const full = await withContext(`stopping the container ${JSON.stringify(id)}`, async () => {
            const resolved = await resolveContainerId(client, id);
            await client.callRuntime('StopContainer', { containerId: resolved, timeout: String(Math.max(0, timeout)) }, { timeoutMs: (Math.max(0, timeout) + 60) * 1000 });
            return resolved;
          });
          console.log(full);
        }
      }),
    );

  program
    .command('rm')
    .description('Remove one or more containers')
    .argument('[container-ids...]', 'CONTAINER-ID [CONTAINER-ID...]')
    .option('-a, --all', 'Remove all containers')
    .option('-f, --force', 'Force removal of the container, disregarding if running')
    .option('-k, --keep-logs', 'Preserve the container log file and its rotations (a runtime that removes them itself, as mascri serve does, removes them anyway)')
    .action(
      clientAction(async ({ client, endpoints }, given: string[], options: { all?: boolean; force?: boolean; keepLogs?: boolean }, command: Command) => {
        let ids = given;
        if (options.all) {
          ids = (await client.callRuntime('ListContainers', {})).containers.map((c) => c.id);
          if (ids.length === 0) return logLine('info', 'No containers to remove');
        }
        if (ids.length === 0) {
          command.outputHelp();
          return;
        }
        const failures: string[] = [];
        for (const id of ids) {
          try {
            const full = await resolveContainerId(client, id);
            const { status } = await withContext(`getting container status ${JSON.stringify(id)}`, client.callRuntime('ContainerStatus', { containerId: full, verbose: false }));
            if (status?.state === 'CONTAINER_RUNNING') {
              if (!options.force) throw new UsageError(`container ${JSON.stringify(id)} is running, please stop it first (or use rm -f)`);
              await withContext(`stopping the container ${JSON.stringify(id)}`, client.callRuntime('StopContainer', { containerId: full, timeout: '0' }, { timeoutMs: 60_000 }));
              console.log(full);
            }
            await withContext(`removing container ${JSON.stringify(id)}`, client.callRuntime('RemoveContainer', { containerId: full }, { timeoutMs: 60_000 }));
            console.log(full);
            if (!options.keepLogs && status?.logPath) removeLogFiles(status.logPath, id);
          } catch (error) {
            failures.push(describeError(error, endpoints));
          }
        }
        if (failures.length > 0) throw new UsageError(failures.join('\n'));
      }),
    );

  program
    .command('checkpoint')
    .description("Checkpoint one or more running containers (prints the runtime's answer; mascri serve refuses, naming what is missing)")
    .argument('[container-ids...]', 'CONTAINER-ID [CONTAINER-ID...]')
    .option('-e, --export <file>', 'Specify the name of the tar archive (/path/to/checkpoint.tar) used to export the checkpoint image.')
    .action(
      clientAction(async ({ client }, ids: string[], options: { export?: string }) => {
        if (ids.length === 0) throw new UsageError('ID cannot be empty');
        if (!options.export) throw new UsageError('cannot checkpoint a container without specifying the checkpoint destination. Use --export=/path/to/checkpoint.tar');
        for (const id of ids) {
          await withContext(`checkpointing the container ${JSON.stringify(id)} failed`, async () =>
            client.callRuntime('CheckpointContainer', { containerId: await resolveContainerId(client, id), location: options.export! }, { timeoutMs: CREATE_TIMEOUT_MS }),
          );
          console.log(id);
        }
      }),
    );
}

/** The filters crictl's ps and inspect share. */
function addContainerFilterFlags(command: Command): Command {
  return command
    .option('-a, --all', 'Show all containers')
    .option('-p, --pod <pod-id>', 'Filter by pod id')
    .option('--name <regexp>', 'Filter by container name regular expression pattern')
    .option('--namespace <regexp>', 'Filter by pod namespace regular expression pattern')
    .option('-s, --state <state>', 'Filter by container state')
    .option('--label <key=value>', 'Filter by key=value label', collect, [])
    .option('--image <image>', 'Filter by container image')
    .option('-l, --latest', 'Show the most recently created container (includes all states)')
    .option('-n, --last <n>', 'Show last n recently created containers (includes all states). Set 0 for unlimited.');
}

/** crictl deletes a removed container's log file and its rotations itself (unless --keep-logs). */
function removeLogFiles(logPath: string, id: string): void {
  let rotations: string[] = [];
  try {
    const base = basename(logPath);
    rotations = readdirSync(dirname(logPath))
      .filter((name) => name.startsWith(`${base}.`))
      .map((name) => join(dirname(logPath), name));
  } catch {
    // the directory went with the container
  }
  for (const file of [...rotations, logPath]) {
    try {
      rmSync(file);
    } catch (error) {
      // Already gone (the runtime removed it) is what should happen; anything else is crictl's error line.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logLine('error', `removing log file ${file} for container ${JSON.stringify(id)} failed: ${(error as Error).message}`);
    }
  }
}

/** A container status as crictl's inspect shapes it: every field, times as RFC 3339 (Go's zero time for a time not reached). */
export function containerStatusValue(status: ContainerStatus__Output | null): Record<string, unknown> {
  const s = status ?? ({ state: 'CONTAINER_CREATED', createdAt: '0', startedAt: '0', finishedAt: '0' } as ContainerStatus__Output);
  const started = s.state !== 'CONTAINER_CREATED' ? rfc3339Nano(s.startedAt) : GO_ZERO_TIME;
  const finished = s.state === 'CONTAINER_EXITED' || (s.state === 'CONTAINER_UNKNOWN' && BigInt(s.finishedAt || '0') > 0n) ? rfc3339Nano(s.finishedAt) : GO_ZERO_TIME;
  return statusValue('ContainerStatus', status ?? {}, { createdAt: rfc3339Nano(s.createdAt), startedAt: started, finishedAt: finished });
}

/** `inspect -o table`: crictl's summary of a container status. */
function printContainerStatusTable(response: ContainerStatusResponse__Output, verbose: boolean): void {
  const status = response.status;
  console.log(`ID: ${status?.id ?? ''}`);
  if (status?.metadata) {
    if (status.metadata.name) console.log(`Name: ${status.metadata.name}`);
    if (status.metadata.attempt) console.log(`Attempt: ${status.metadata.attempt}`);
  }
  const state = status?.state ?? 'CONTAINER_CREATED';
  console.log(`State: ${state}`);
  console.log(`Created: ${createdAgo(status?.createdAt ?? '0')}`);
  if (state !== 'CONTAINER_CREATED') console.log(`Started: ${createdAgo(status?.startedAt ?? '0')}`);
  if (state === 'CONTAINER_EXITED') {
    if (BigInt(status?.finishedAt || '0') > 0n) console.log(`Finished: ${createdAgo(status!.finishedAt)}`);
    console.log(`Exit Code: ${status?.exitCode ?? 0}`);
  }
  printSortedMap('Labels', status?.labels ?? {});
  printSortedMap('Annotations', status?.annotations ?? {});
  if (verbose) console.log(`Info: ${goMap(response.info)}`);
}

function printSortedMap(title: string, map: Record<string, string>): void {
  const keys = Object.keys(map).sort();
  if (keys.length === 0) return;
  console.log(`${title}:`);
  for (const key of keys) console.log(`\t${key} -> ${map[key]}`);
}

/** `ps -v`: crictl's block per container. */
function printVerboseContainers(containers: Container__Output[]): void {
  for (const c of containers) {
    console.log(`ID: ${c.id}`);
    console.log(`PodID: ${c.podSandboxId}`);
    console.log(`Namespace: ${c.labels['io.kubernetes.pod.namespace'] ?? 'unknown'}`);
    if (c.metadata) {
      if (c.metadata.name) console.log(`Name: ${c.metadata.name}`);
      console.log(`Attempt: ${c.metadata.attempt}`);
    }
    console.log(`State: ${STATE_NAMES[c.state] ?? c.state}`);
    if (c.image) console.log(`Image: ${c.image.image}`);
    console.log(`Created: ${createdAgo(c.createdAt)}`);
    printSortedMap('Labels', c.labels);
    printSortedMap('Annotations', c.annotations);
    console.log('');
  }
}

/** ps --resolve-image-path: the image's first tag, else the reference itself. */
async function repoImage(client: CriClient, image: string): Promise<string> {
  const status = await client.callImage('ImageStatus', { image: { image }, verbose: false });
  return status.image?.repoTags[0] ?? image;
}

/** Reads the container and the pod config before any call, worded as crictl. */
function loadCreateConfigs(containerFile: string, podFile: string): { config: ContainerConfig; sandboxConfig: PodSandboxConfig } {
  const config = loadContainerConfig(containerFile);
  const sandboxConfig = loadSandboxConfig(podFile);
  if (config.image && !config.image.userSpecifiedImage) config.image.userSpecifiedImage = config.image.image;
  return { config, sandboxConfig };
}

export interface ContainerListOptions {
  all?: boolean;
  id?: string;
  pod?: string;
  name?: string;
  namespace?: string;
  state?: string;
  label: string[];
  image?: string;
  quiet?: boolean;
  verbose?: boolean;
  latest?: boolean;
  last?: string;
  trunc: boolean;
  output: string;
  resolveImagePath?: boolean;
  showExitCode?: boolean;
}

/** crictl's ListContainers: the server-side filter, then image, name and namespace, newest first, --latest / --last. */
export async function listContainers(client: CriClient, options: ContainerListOptions): Promise<Container__Output[]> {
  const filter: ContainerFilter = {};
  if (options.id) filter.id = options.id;
  if (options.pod) filter.podSandboxId = options.pod;
  if (options.state) filter.state = { state: containerStateFilter(options.state) };
  else if (!options.all) filter.state = { state: 'CONTAINER_RUNNING' };
  const last = options.last === undefined ? 0 : Number(options.last);
  if (!Number.isInteger(last)) throw new UsageError(`invalid value "${options.last}" for flag -last: parse error`);
  if (options.latest || last > 0) delete filter.state;
  const labels = parseLabelSelector(options.label ?? []);
  if (Object.keys(labels).length > 0) filter.labelSelector = labels;
  const { containers } = await withContext('call list containers RPC', client.callRuntime('ListContainers', { filter }));
  const name = compileRegexp(options.name);
  const namespace = compileRegexp(options.namespace);
  const selected: Container__Output[] = [];
  const wanted = options.image ? (await withContext('check image match', client.callImage('ImageStatus', { image: { image: options.image }, verbose: false }))).image : undefined;
  for (const c of containers) {
    if (options.image) {
      const own = (await withContext('check image match', client.callImage('ImageStatus', { image: { image: c.image?.image ?? '' }, verbose: false }))).image;
      if (!wanted || !own || wanted.id !== own.id) continue;
    }
    if (!c.metadata) continue;
    if (name && !name.test(c.metadata.name)) continue;
    if (namespace && !namespace.test(c.labels['io.kubernetes.pod.namespace'] ?? 'unknown')) continue;
    selected.push(c);
  }
  selected.sort((a, b) => (BigInt(b.createdAt) > BigInt(a.createdAt) ? 1 : BigInt(b.createdAt) < BigInt(a.createdAt) ? -1 : 0));
  return selected.slice(0, countToShow(selected.length, options.latest, last));
}

function compileRegexp(pattern: string | undefined): RegExp | undefined {
  if (!pattern) return undefined;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new UsageError(`invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
}

/** Exit codes of the exited containers (ContainerStatus is answered from memory, so this is cheap). */
async function exitCodesOf(client: CriClient, containers: Container__Output[]): Promise<Map<string, string>> {
  const codes = new Map<string, string>();
  await Promise.all(
    containers
      .filter((c) => c.state === 'CONTAINER_EXITED')
      .map(async (c) => {
        const status = await client.callRuntime('ContainerStatus', { containerId: c.id }).catch(() => undefined);
        if (status?.status) codes.set(c.id, String(status.status.exitCode));
      }),
  );
  return codes;
}

/** Pulls the container's image for create/run (crictl's with-pull), with the pull flags and the pod config. */
async function pullForCreate(client: CriClient, config: ContainerConfig, sandboxConfig: PodSandboxConfig, options: CreateOptions): Promise<void> {
  const image = config.image?.image;
  if (!image) return;
  const auth = await authFromOptions(options);
  logLine('info', `Pulling container image: ${image}`);
  await client.callImage(
    'PullImage',
    { image: { image, annotations: config.image?.annotations ?? {} }, sandboxConfig, ...(auth ? { auth } : {}) },
    { timeoutMs: pullTimeoutMs(options) || CREATE_TIMEOUT_MS },
  );
}

/** `--label k=v` options -> a label selector (the name other command families use). */
export { parseLabelSelector as parseLabels } from './filters.js';
