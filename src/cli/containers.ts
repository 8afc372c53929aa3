import type { Command } from 'commander';
import type { CriClient } from '../cri/client.js';
import type { Container__Output } from '../cri/generated/runtime/v1/Container.js';
import type { ContainerConfig } from '../cri/generated/runtime/v1/ContainerConfig.js';
import { clientAction, collect } from './command.js';
import { loadContainerConfig, loadSandboxConfig } from './config.js';
import { UsageError, parseOutputFormat, printMessage, printStatuses, printTable, truncateId } from './output.js';
import { resolveContainerId, resolveSandboxId } from './resolve.js';
import { createdAgo } from './time.js';
import { parseLabelSelector } from './filters.js';

/** Seconds a create or run may take: it can pull the image first. */
const CREATE_TIMEOUT_MS = 300_000;

const STATE_NAMES: Record<string, string> = {
  CONTAINER_CREATED: 'Created',
  CONTAINER_RUNNING: 'Running',
  CONTAINER_EXITED: 'Exited',
  CONTAINER_UNKNOWN: 'Unknown',
};

/** crictl's --state values -> the CRI's. */
export function containerStateFilter(state: string): string {
  const value = state.toLowerCase();
  const map: Record<string, string> = { created: 'CONTAINER_CREATED', running: 'CONTAINER_RUNNING', exited: 'CONTAINER_EXITED', unknown: 'CONTAINER_UNKNOWN' };
  const found = map[value];
  if (!found) throw new UsageError(`unknown container state "${state}": use created, running, exited or unknown`);
  return found;
}

/** Container commands: create, start, run, ps, inspect, stop, rm. */
export function registerContainerCommands(program: Command): void {
  program
    .command('create')
    .description('Create a new container in a pod sandbox')
    .argument('<pod-id>', 'the sandbox to create the container in')
    .argument('<container-config>', 'crictl-format container config (JSON or YAML)')
    .argument('<pod-config>', 'the sandbox config the pod was run with (JSON or YAML)')
    .option('--no-pull', 'do not pull the image first (by default it is pulled when not present)')
    .action(
      clientAction(async ({ client }, podId: string, containerFile: string, podFile: string, options: { pull: boolean }) => {
        const config = loadContainerConfig(containerFile);
        const sandboxConfig = loadSandboxConfig(podFile);
        const sandboxId = await resolveSandboxId(client, podId);
        if (options.pull) await pullIfMissing(client, config);
        const { containerId } = await client.callRuntime('CreateContainer', { podSandboxId: sandboxId, config, sandboxConfig }, { timeoutMs: CREATE_TIMEOUT_MS });
        console.log(containerId);
      }),
    );

  program
    .command('start')
    .description('Start one or more created containers')
    .argument('<container-ids...>')
    .action(
      clientAction(async ({ client }, ids: string[]) => {
        for (const id of ids) {
          const full = await resolveContainerId(client, id);
          await client.callRuntime('StartContainer', { containerId: full }, { timeoutMs: 60_000 });
          console.log(full);
        }
      }),
    );

  program
    .command('run')
    .description('Run a new container inside a new sandbox (runp, create and start in one)')
    .argument('<container-config>', 'crictl-format container config (JSON or YAML)')
    .argument('<pod-config>', 'crictl-format sandbox config (JSON or YAML)')
    .option('--no-pull', 'do not pull the image first')
    .option('--runtime <handler>', 'runtime handler for the sandbox', '')
    .action(
      clientAction(async ({ client }, containerFile: string, podFile: string, options: { pull: boolean; runtime: string }) => {
        const config = loadContainerConfig(containerFile);
        const sandboxConfig = loadSandboxConfig(podFile);
        if (options.pull) await pullIfMissing(client, config);
        const { podSandboxId } = await client.callRuntime('RunPodSandbox', { config: sandboxConfig, runtimeHandler: options.runtime }, { timeoutMs: CREATE_TIMEOUT_MS });
        try {
          const { containerId } = await client.callRuntime('CreateContainer', { podSandboxId, config, sandboxConfig }, { timeoutMs: CREATE_TIMEOUT_MS });
          await client.callRuntime('StartContainer', { containerId }, { timeoutMs: 60_000 });
          console.log(containerId);
        } catch (error) {
          // Leave no half-made pod behind, as crictl does not.
          await client.callRuntime('RemovePodSandbox', { podSandboxId }, { timeoutMs: 60_000 }).catch(() => undefined);
          throw error;
        }
      }),
    );

  program
    .command('ps')
    .description('List containers')
    .option('-a, --all', 'show all containers, not only running ones')
    .option('--id <id>', 'filter by container ID (or prefix)')
    .option('-p, --pod <pod-id>', 'filter by pod sandbox ID (or prefix)')
    .option('--name <regexp>', 'filter by container name (regular expression)')
    .option('-s, --state <state>', 'filter by state: created, running, exited, unknown')
    .option('--label <key=value>', 'filter by label (repeatable)', collect, [])
    .option('--image <image>', 'filter by image reference or ID')
    .option('-q, --quiet', 'only show container IDs')
    .option('-l, --latest', 'show the most recently created container')
    .option('--last <n>', 'show the last n most recently created containers')
    .option('--no-trunc', 'show full IDs')
    .option('-o, --output <format>', 'output format: json|yaml|table', 'table')
    .action(
      clientAction(async ({ client }, options: PsOptions) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'table');
        const containers = await listContainers(client, options);
        if (format !== 'table') return printMessage({ containers }, format);
        if (options.quiet) {
          for (const c of containers) console.log(c.id);
          return;
        }
        const pods = await podNames(client);
        const exitCodes = await exitCodesOf(client, containers);
        const rows = containers.map((c) => [
          truncateId(c.id, !options.trunc),
          imageColumn(c, !options.trunc),
          createdAgo(c.createdAt),
          STATE_NAMES[c.state] ?? String(c.state),
          c.metadata?.name ?? '',
          String(c.metadata?.attempt ?? 0),
          truncateId(c.podSandboxId, !options.trunc),
          pods.get(c.podSandboxId) ?? c.labels['io.kubernetes.pod.name'] ?? '',
          exitCodes.get(c.id) ?? '',
        ]);
        // crictl's columns, then EXIT (the exit code of exited containers) last, so scripts that read crictl's columns still work.
        printTable(['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'EXIT'], rows);
      }),
    );

  program
    .command('inspect')
    .description('Display the status of one or more containers')
    .argument('<container-ids...>')
    .option('-o, --output <format>', 'output format: json|yaml|table', 'json')
    .option('-q, --quiet', 'do not show verbose information')
    .action(
      clientAction(async ({ client }, ids: string[], options: { output: string; quiet?: boolean }) => {
        const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'json');
        const statuses = [];
        for (const id of ids) {
          const full = await resolveContainerId(client, id);
          const response = await client.callRuntime('ContainerStatus', { containerId: full, verbose: !options.quiet });
          const status = response.status!;
          if (format === 'table') {
            console.log(`ID: ${status.id}`);
            console.log(`Name: ${status.metadata?.name ?? ''}`);
            console.log(`State: ${STATE_NAMES[status.state] ?? status.state}`);
            console.log(`Created: ${createdAgo(status.createdAt)}`);
            if (status.state !== 'CONTAINER_CREATED') console.log(`Started: ${createdAgo(status.startedAt)}`);
            if (status.state === 'CONTAINER_EXITED') {
              console.log(`Finished: ${createdAgo(status.finishedAt)}`);
              console.log(`Exit Code: ${status.exitCode}`);
              if (status.reason) console.log(`Reason: ${status.reason}`);
            }
            console.log(`Image: ${status.image?.image ?? ''}`);
            console.log(`ImageRef: ${status.imageRef}`);
            console.log(`LogPath: ${status.logPath}`);
            continue;
          }
          statuses.push({ status, info: response.info });
        }
        if (format !== 'table') printStatuses(statuses, format);
      }),
    );

  program
    .command('stop')
    .description('Stop one or more running containers')
    .argument('<container-ids...>')
    .option('--timeout <seconds>', 'seconds to wait after SIGTERM before killing the container', '0')
    .action(
      clientAction(async ({ client }, ids: string[], options: { timeout: string }) => {
        const timeout = Number(options.timeout);
        if (!Number.isInteger(timeout) || timeout < 0) throw new UsageError(`--timeout "${options.timeout}" must be a number of seconds`);
        for (const id of ids) {
          const full = await resolveContainerId(client, id);
          await client.callRuntime('StopContainer', { containerId: full, timeout: String(timeout) }, { timeoutMs: (timeout + 60) * 1000 });
          console.log(full);
        }
      }),
    );

  program
    .command('rm')
    .description('Remove one or more containers')
    .argument('[container-ids...]')
    .option('-a, --all', 'remove all containers')
    .option('-f, --force', 'stop running containers first (else a running container is refused)')
    .action(
      clientAction(async ({ client }, ids: string[], options: { all?: boolean; force?: boolean }) => {
        const targets = new Set<string>();
        for (const id of ids) targets.add(await resolveContainerId(client, id));
        if (options.all) for (const c of (await client.callRuntime('ListContainers', {})).containers) targets.add(c.id);
        if (targets.size === 0) {
          if (options.all) return;
          throw new UsageError('give one or more container IDs, or --all');
        }
        const failures: string[] = [];
        for (const id of targets) {
          try {
            const status = await client.callRuntime('ContainerStatus', { containerId: id }).catch(() => undefined);
            if (status?.status?.state === 'CONTAINER_RUNNING') {
              if (!options.force) {
                failures.push(`container ${id} is running; stop it first or use -f`);
                continue;
              }
              await client.callRuntime('StopContainer', { containerId: id, timeout: '0' }, { timeoutMs: 60_000 });
            }
            await client.callRuntime('RemoveContainer', { containerId: id }, { timeoutMs: 60_000 });
            console.log(id);
          } catch (error) {
            failures.push(`${id}: ${(error as { details?: string }).details ?? String(error)}`);
          }
        }
        if (failures.length > 0) throw new UsageError(failures.join('; '));
      }),
    );
}

interface PsOptions {
  all?: boolean;
  id?: string;
  pod?: string;
  name?: string;
  state?: string;
  label: string[];
  image?: string;
  quiet?: boolean;
  latest?: boolean;
  last?: string;
  trunc: boolean;
  output: string;
}

async function listContainers(client: CriClient, options: PsOptions): Promise<Container__Output[]> {
  const filter: Record<string, unknown> = {};
  if (options.id) filter.id = options.id;
  if (options.pod) filter.podSandboxId = options.pod;
  if (options.state) filter.state = { state: containerStateFilter(options.state) };
  else if (!options.all && !options.latest && !options.last) filter.state = { state: 'CONTAINER_RUNNING' };
  const labels = parseLabelSelector(options.label ?? []);
  if (Object.keys(labels).length > 0) filter.labelSelector = labels;
  let containers = (await client.callRuntime('ListContainers', { filter })).containers;
  if (options.name) {
    const re = new RegExp(options.name);
    containers = containers.filter((c) => re.test(c.metadata?.name ?? ''));
  }
  if (options.image) {
    const wanted = options.image;
    const image = await client.callImage('ImageStatus', { image: { image: wanted } }).catch(() => undefined);
    containers = containers.filter((c) => c.image?.image === wanted || c.imageRef === wanted || (image?.image && c.imageRef === image.image.id));
  }
  containers.sort((a, b) => (BigInt(b.createdAt) > BigInt(a.createdAt) ? 1 : BigInt(b.createdAt) < BigInt(a.createdAt) ? -1 : 0));
  const last = options.latest ? 1 : options.last ? Number(options.last) : 0;
  if (last > 0) containers = containers.slice(0, last);
  return containers;
}

function imageColumn(c: Container__Output, truncate: boolean): string {
  const ref = c.image?.image ?? '';
  return ref.startsWith('sha256:') ? truncateId(ref, !truncate) : ref;
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

async function podNames(client: CriClient): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  try {
    for (const item of (await client.callRuntime('ListPodSandbox', {})).items) names.set(item.id, item.metadata?.name ?? '');
  } catch {
    // the POD column stays empty
  }
  return names;
}

/** Pulls the container's image unless it is present (crictl's pull on create). */
async function pullIfMissing(client: CriClient, config: ContainerConfig): Promise<void> {
  const image = config.image?.image;
  if (!image) return;
  const status = await client.callImage('ImageStatus', { image: { image } });
  if (!status.image) await client.callImage('PullImage', { image: { image } }, { timeoutMs: CREATE_TIMEOUT_MS });
}


/** `--label k=v` options -> a label selector (the name other command families use). */
export { parseLabelSelector as parseLabels } from './filters.js';
