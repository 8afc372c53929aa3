import type { Command } from 'commander';
import type { ContainerStats__Output } from '../cri/generated/runtime/v1/ContainerStats.js';
import type { LinuxContainerResources } from '../cri/generated/runtime/v1/LinuxContainerResources.js';
import type { PodSandboxStats__Output } from '../cri/generated/runtime/v1/PodSandboxStats.js';
import { clientAction, collect } from './command.js';
import { parseLabelSelector } from './filters.js';
import { withContext } from './connection.js';
import { UsageError, parseOutputFormat, truncateId } from './output.js';
import { printProto } from './protojson.js';
import { renderTabwriter } from './tabwriter.js';
import { resolveContainerId } from './resolve.js';

/** Clears the terminal and puts the cursor home, as crictl does before each watched frame. */
const CLEAR_SCREEN = '\x1b[2J\x1b[H';

/**
 * Sizes as crictl's stats print them (go-units HumanSize): decimal units, four significant
 * digits, trailing zeros dropped ("1.234MB", "512kB", "0B").
 */
export function statsSize(bytes: bigint | number | string): string {
  let value = Number(bytes);
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${parseFloat(value.toPrecision(4))}${units[unit]}`;
}

/** CPU % between two cumulative samples: core-nanoseconds used per nanosecond elapsed, times 100 ("%.2f"). */
export function cpuPercent(old: { timestamp: string; usage: string } | undefined, current: { timestamp: string; usage: string }): string {
  if (!old || BigInt(current.usage) === 0n) return '0.00';
  const elapsed = Number(BigInt(current.timestamp) - BigInt(old.timestamp));
  if (elapsed <= 0) return '0.00';
  const used = Number(BigInt(current.usage) - BigInt(old.usage));
  return ((Math.max(0, used) / elapsed) * 100).toFixed(2);
}

/** "256m", "1g", "1.5GiB", "512" (bytes) -> bytes, with binary units as Docker's --memory takes them. */
export function parseMemory(text: string): bigint {
  const match = /^(\d+(?:\.\d+)?)\s?([kmgtp])?i?b?$/i.exec(text.trim());
  if (!match) throw new UsageError(`invalid memory size "${text}": use bytes or a number with a unit, e.g. 268435456, 256m or 1g`);
  const power = match[2] ? 'kmgtp'.indexOf(match[2].toLowerCase()) + 1 : 0;
  const [whole, fraction = ''] = match[1]!.split('.');
  const scale = 1024n ** BigInt(power);
  return BigInt(whole!) * scale + (BigInt(fraction || '0') * scale) / 10n ** BigInt(fraction.length);
}

function value(wrapper: { value: string } | null | undefined): string {
  return wrapper?.value ?? '0';
}

/** crictl's `stats` rows: containers of the second sample that were in the first; idle ones only with --all. */
export function containerStatsRows(before: ContainerStats__Output[], after: ContainerStats__Output[], all: boolean): string[][] {
  const old = new Map(before.map((s) => [s.attributes?.id ?? '', s]));
  const rows: string[][] = [];
  for (const s of sortById(after)) {
    const id = s.attributes?.id ?? '';
    const cpu = value(s.cpu?.usageCoreNanoSeconds);
    const mem = value(s.memory?.workingSetBytes);
    if (!all && BigInt(cpu) === 0n && BigInt(mem) === 0n) continue;
    const previous = old.get(id);
    if (!previous) continue;
    rows.push([
      truncateId(id),
      s.attributes?.metadata?.name ?? '',
      cpuPercent(previous.cpu ? { timestamp: previous.cpu.timestamp, usage: value(previous.cpu.usageCoreNanoSeconds) } : undefined, { timestamp: s.cpu?.timestamp ?? '0', usage: cpu }),
      statsSize(mem),
      statsSize(value(s.writableLayer?.usedBytes)),
      value(s.writableLayer?.inodesUsed),
      statsSize(value(s.swap?.swapUsageBytes)),
    ]);
  }
  return rows;
}

/** crictl's `statsp` rows: pods of the second sample that were in the first and have figures. */
export function podStatsRows(before: PodSandboxStats__Output[], after: PodSandboxStats__Output[]): string[][] {
  const old = new Map(before.map((s) => [s.attributes?.id ?? '', s]));
  const rows: string[][] = [];
  for (const s of sortById(after)) {
    const id = s.attributes?.id ?? '';
    const cpu = value(s.linux?.cpu?.usageCoreNanoSeconds);
    const mem = value(s.linux?.memory?.workingSetBytes);
    if (BigInt(cpu) === 0n && BigInt(mem) === 0n) continue;
    if (!old.has(id)) continue;
    const previous = old.get(id)!.linux?.cpu;
    rows.push([
      s.attributes?.metadata?.name ?? '',
      truncateId(id),
      cpuPercent(previous ? { timestamp: previous.timestamp, usage: value(previous.usageCoreNanoSeconds) } : undefined, { timestamp: s.linux?.cpu?.timestamp ?? '0', usage: cpu }),
      statsSize(mem),
    ]);
  }
  return rows;
}

export const CONTAINER_STATS_COLUMNS = ['CONTAINER', 'NAME', 'CPU %', 'MEM', 'DISK', 'INODES', 'SWAP'];
export const POD_STATS_COLUMNS = ['POD', 'POD ID', 'CPU %', 'MEM'];

function sortById<T extends { attributes: { id: string } | null }>(items: T[]): T[] {
  return items.slice().sort((a, b) => (a.attributes?.id ?? '').localeCompare(b.attributes?.id ?? ''));
}

interface DisplayOptions {
  output?: string;
  seconds: string;
  watch?: boolean;
}

/**
 * crictl's display loop: json/yaml print one answer (one more each tick with --watch, never
 * clearing the screen, so the output can be piped); a table takes two
 * samples `--seconds` apart for CPU %, and with --watch redraws in place, each sample serving as
 * the next frame's first.
 */
async function display<T>(options: DisplayOptions, typeName: string, fetch: () => Promise<T[]>, wrap: (items: T[]) => unknown, columns: string[], rows: (before: T[], after: T[]) => string[][]): Promise<void> {
  const format = parseOutputFormat(options.output, ['json', 'yaml', 'table'], 'table');
  const seconds = Number(options.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`--seconds "${options.seconds}" must be a positive number of seconds`);
  let before = await fetch();
  for (;;) {
    if (format !== 'table') {
      printProto(typeName, wrap(before), format);
      if (!options.watch) return;
      await sleep(seconds * 1000);
      before = await fetch();
      continue;
    }
    await sleep(seconds * 1000);
    const after = await fetch();
    const table = renderTabwriter([columns, ...rows(before, after)]);
    process.stdout.write((options.watch ? CLEAR_SCREEN : '') + table + '\n');
    if (!options.watch) return;
    before = after;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface StatsOptions extends DisplayOptions {
  all?: boolean;
  id?: string;
  pod?: string;
  label: string[];
}

interface PodStatsOptions extends DisplayOptions {
  id?: string;
  label: string[];
}

interface UpdateOptions {
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShare?: string;
  memory?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  oomScoreAdj?: string;
}

/** Stats and resource commands: stats, statsp, update. */
export function registerStatsCommands(program: Command): void {
  program
    .command('stats')
    .description('List container(s) resource usage statistics')
    .argument('[id]', 'container ID (or prefix) to show; same as --id')
    .option('-a, --all', 'show all containers, also those with no CPU or memory figures')
    .option('--id <id>', 'filter by container ID (or prefix)')
    .option('-p, --pod <pod-id>', 'filter by pod sandbox ID (or prefix)')
    .option('--label <key=value>', 'filter by label (repeatable)', collect, [])
    .option('-o, --output <format>', 'output format: json|yaml|table', 'table')
    .option('-s, --seconds <n>', 'sample duration for CPU usage, in seconds', '1')
    .option('-w, --watch', 'refresh the figures in place until interrupted')
    .action(
      clientAction(async ({ client }, id: string | undefined, options: StatsOptions) => {
        const filter: Record<string, unknown> = {};
        const wanted = options.id ?? id;
        if (wanted) filter.id = wanted;
        if (options.pod) filter.podSandboxId = options.pod;
        const labels = parseLabelSelector(options.label ?? []);
        if (Object.keys(labels).length > 0) filter.labelSelector = labels;
        const fetch = async () => (await withContext('get container stats', client.callRuntime('ListContainerStats', { filter }))).stats;
        await display(options, 'ListContainerStatsResponse', fetch, (stats) => ({ stats: sortById(stats) }), CONTAINER_STATS_COLUMNS, (before, after) => containerStatsRows(before, after, Boolean(options.all)));
      }),
    );

  program
    .command('statsp')
    .description('List pod statistics: CPU and memory of each pod (and, with -o json|yaml, its network, processes and containers)')
    .argument('[id]', 'pod sandbox ID (or prefix) to show; same as --id')
    .option('--id <id>', 'filter by pod sandbox ID (or prefix)')
    .option('--label <key=value>', 'filter by label (repeatable)', collect, [])
    .option('-o, --output <format>', 'output format: json|yaml|table', 'table')
    .option('-s, --seconds <n>', 'sample duration for CPU usage, in seconds', '1')
    .option('-w, --watch', 'refresh the figures in place until interrupted')
    .action(
      clientAction(async ({ client }, id: string | undefined, options: PodStatsOptions) => {
        const filter: Record<string, unknown> = {};
        const wanted = options.id ?? id;
        if (wanted) filter.id = wanted;
        const labels = parseLabelSelector(options.label ?? []);
        if (Object.keys(labels).length > 0) filter.labelSelector = labels;
        const fetch = async () => (await withContext('get pod stats', client.callRuntime('ListPodSandboxStats', { filter }))).stats;
        await display(options, 'ListPodSandboxStatsResponse', fetch, (stats) => ({ stats: sortById(stats) }), POD_STATS_COLUMNS, podStatsRows);
      }),
    );

  program
    .command('update')
    .description('Update the CPU and memory limits of one or more running containers')
    .argument('<container-ids...>')
    .option('--cpu-period <usecs>', 'CPU CFS period (microseconds)')
    .option('--cpu-quota <usecs>', 'CPU CFS quota: CPU time allowed in each period (microseconds)')
    .option('--cpu-share <shares>', 'CPU shares (relative weight against other containers)')
    .option('--memory <size>', 'memory limit: bytes, or with a unit (256m, 1g)')
    .option('--cpuset-cpus <cpus>', 'CPUs the container may use (0-3, 0,1)')
    .option('--cpuset-mems <mems>', 'memory nodes the container may use (0-3, 0,1)')
    .option('--oom-score-adj <score>', 'OOM Killer score to use')
    .option('--cpu-count <n>', '(Windows only) Number of CPUs available to the container; ignored on Linux, as crictl does')
    .option('--cpu-maximum <n>', '(Windows only) Portion of CPU cycles specified as a percentage * 100; ignored on Linux, as crictl does')
    .action(
      clientAction(async ({ client }, ids: string[], options: UpdateOptions) => {
        const linux = updateResources(options);
        for (const id of ids) {
          const full = await withContext(`updating container resources for ${JSON.stringify(id)}`, async () => {
            const resolved = await resolveContainerId(client, id);
            await client.callRuntime('UpdateContainerResources', { containerId: resolved, linux }, { timeoutMs: 60_000 });
            return resolved;
          });
          console.log(full);
        }
      }),
    );
}

/** The LinuxContainerResources an `update` asks for; at least one limit must be given. */
export function updateResources(options: UpdateOptions): LinuxContainerResources {
  const linux: LinuxContainerResources = {};
  const integer = (flag: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`--${flag} "${text}" must be a whole number`);
    return text.trim();
  };
  const period = integer('cpu-period', options.cpuPeriod);
  const quota = integer('cpu-quota', options.cpuQuota);
  const shares = integer('cpu-share', options.cpuShare);
  const oom = integer('oom-score-adj', options.oomScoreAdj);
  if (oom !== undefined) linux.oomScoreAdj = oom;
  if (period !== undefined) linux.cpuPeriod = period;
  if (quota !== undefined) linux.cpuQuota = quota;
  if (shares !== undefined) linux.cpuShares = shares;
  if (options.memory !== undefined) linux.memoryLimitInBytes = parseMemory(options.memory).toString();
  if (options.cpusetCpus !== undefined) linux.cpusetCpus = options.cpusetCpus;
  if (options.cpusetMems !== undefined) linux.cpusetMems = options.cpusetMems;
  if (Object.keys(linux).length === 0) throw new UsageError('nothing to update: give at least one of --cpu-period, --cpu-quota, --cpu-share, --memory, --cpuset-cpus, --cpuset-mems, --oom-score-adj');
  return linux;
}
