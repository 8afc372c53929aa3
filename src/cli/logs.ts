import type { Command } from 'commander';
import { once } from 'node:events';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { GrpcCode } from '../common/errors.js';
import type { CriClient } from '../cri/client.js';
import type { ContainerStatus__Output } from '../cri/generated/runtime/v1/ContainerStatus.js';
import { clientAction } from './command.js';
import { withContext } from './connection.js';
import { logLine } from './log-line.js';
import { LogLineJoiner, TailBuffer, formatForDisplay, isSince, parseCriLogLine, parseSince, previousLogPath, type LogLine } from './cri-log.js';
import { UsageError, truncateId } from './output.js';

interface LogsOptions {
  follow?: boolean;
  reopen?: boolean;
  stream?: string;
  limitBytes: string;
  tail: string;
  since?: string;
  timestamps?: boolean;
  previous?: boolean;
}

/** How often a followed log file is read again. */
const FOLLOW_READ_MS = 200;
/** How often a followed container's state is asked. */
const STATUS_POLL_MS = 1000;
/** After the container stopped, how long to keep reading: the runtime may still be copying its last lines. */
const EXIT_GRACE_MS = 1000;
const READ_CHUNK = 256 * 1024;

/** `logs`: print a container's log from its CRI log file, like `crictl logs`. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("Fetch the logs of a container (reads its log file, so run it on the container's host)")
    .argument('<container-id>', 'container ID or a unique prefix of it')
    .option('-f, --follow', 'follow the log until the container stops (or Ctrl-C)')
    .option('--tail <lines>', 'number of lines to show from the end of the log, -1 for all', '-1')
    .option('--since <time>', 'show lines since an RFC 3339 time (2026-11-23T10:00:00Z) or a duration back (10s, 5m, 1h)')
    .option('-t, --timestamps', 'show timestamps')
    .option('-p, --previous', "print the log of the container's previous attempt in its pod")
    .option('-r, --reopen', 'Reopen the container logs for the provided container (ReopenContainerLog) before reading them')
    .option('-s, --stream <stream>', 'Show specified stream (stdout or stderr). Defaults to both.')
    .option('--limit-bytes <n>', 'Maximum bytes of logs to return. Defaults to no limit', '-1')
    .action(
      clientAction(async ({ client }, id: string, options: LogsOptions, command: Command) => {
        if (options.reopen) {
          await withContext('reopen container logs', async () => client.callRuntime('ReopenContainerLog', { containerId: await resolveContainerIdForLogs(client, id) }));
          logLine('info', 'Container logs reopened');
        }
        if (options.stream !== undefined && options.stream !== 'stdout' && options.stream !== 'stderr' && options.stream !== '') {
          throw new UsageError(`invalid stream ${JSON.stringify(options.stream)}, must be "stdout" or "stderr"`);
        }
        if (options.stream !== undefined && command.getOptionValueSource('tail') === 'cli') throw new UsageError('--tail and --stream are mutually exclusive');
        const limitBytes = parseTail(options.limitBytes);
        const tail = parseTail(options.tail);
        let sinceMs: number | undefined;
        if (options.since !== undefined) {
          sinceMs = parseSince(options.since);
          if (sinceMs === undefined) throw new UsageError(`invalid --since "${options.since}": use an RFC 3339 time (2026-11-23T10:00:00Z) or a duration (10s, 5m, 1h)`);
        }
        const status = await resolveContainer(client, id);
        let logPath = status.logPath;
        if (!logPath) throw new UsageError(`container "${truncateId(status.id)}" has no log file: it was created without a log_path`);
        if (options.previous) {
          const previous = previousLogPath(logPath, status.metadata?.attempt ?? 0);
          if (!previous) throw new UsageError(`container "${truncateId(status.id)}" is its pod's first attempt: there is no previous one`);
          logPath = previous;
        }
        process.stdout.on('error', exitQuietlyOnClosedPipe);
        process.stderr.on('error', exitQuietlyOnClosedPipe);
        const follow = Boolean(options.follow) && !options.previous;
        const stream = options.stream === 'stdout' || options.stream === 'stderr' ? options.stream : undefined;
        await printLog(client, status.id, logPath, { tail, sinceMs, timestamps: Boolean(options.timestamps), follow, stream, limitBytes });
      }),
    );
}

/** The ID ReopenContainerLog is asked for: a unique prefix made whole. */
async function resolveContainerIdForLogs(client: CriClient, id: string): Promise<string> {
  return (await resolveContainer(client, id)).id;
}

/** --tail: a whole number; negative means all lines. */
export function parseTail(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`invalid --tail "${text}": give a number of lines, or -1 for all`);
  return Number(text);
}

/** The container's status, by ID or unique ID prefix (resolved with ListContainers when the runtime does not know it). */
export async function resolveContainer(client: CriClient, id: string): Promise<ContainerStatus__Output> {
  try {
    return await containerStatus(client, id);
  } catch (error) {
    if (grpcCodeOf(error) !== GrpcCode.NOT_FOUND) throw error;
    let ids: string[];
    try {
      const { containers } = await client.callRuntime('ListContainers', { filter: { id } });
      // Filter again: a runtime may match the ID exactly or not at all.
      ids = containers.map((container) => container.id).filter((candidate) => candidate.startsWith(id));
    } catch {
      throw error;
    }
    if (ids.length === 0) throw error;
    if (ids.length > 1) throw new UsageError(`container ID "${id}" is ambiguous: it is the start of ${ids.map((match) => truncateId(match)).join(', ')}; give more characters`);
    return containerStatus(client, ids[0]!);
  }
}

async function containerStatus(client: CriClient, containerId: string): Promise<ContainerStatus__Output> {
  const { status } = await client.callRuntime('ContainerStatus', { containerId, verbose: false });
  if (!status) throw new Error(`the runtime returned no status for container "${containerId}"`);
  return status;
}

/**
 * When the followed container stopped (ms since the epoch), or undefined while it runs. A failure
 * to ask counts as running (the follow goes on); a container that is gone stopped now.
 */
async function stoppedAt(client: CriClient, containerId: string): Promise<number | undefined> {
  try {
    const status = await containerStatus(client, containerId);
    if (status.state === 'CONTAINER_RUNNING') return undefined;
    const finished = Number(status.finishedAt) / 1e6;
    return finished > 0 ? Math.min(finished, Date.now()) : Date.now();
  } catch (error) {
    return grpcCodeOf(error) === GrpcCode.NOT_FOUND ? Date.now() : undefined;
  }
}

function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

interface PrintOptions {
  tail: number;
  sinceMs: number | undefined;
  timestamps: boolean;
  follow: boolean;
  /** Only this stream (crictl's --stream). */
  stream?: 'stdout' | 'stderr';
  /** At most this many bytes in all (negative: no limit), as the kubelet's log reader counts them. */
  limitBytes: number;
}

/** Prints the selected lines of the log; with follow, then every new line until the container stops. */
async function printLog(client: CriClient, containerId: string, logPath: string, options: PrintOptions): Promise<void> {
  const reader = new LogFileReader(logPath);
  const joiner = new LogLineJoiner();
  const out = new OrderedOutput();
  // With --tail, what is there now is kept (the last lines only) and printed at the end of the first read; otherwise printed as it is read.
  let held: TailBuffer | undefined = options.tail >= 0 ? new TailBuffer(options) : undefined;
  let budget = options.limitBytes < 0 ? Infinity : options.limitBytes;
  const show = async (line: LogLine): Promise<void> => {
    if (!isSince(line, options.sinceMs)) return;
    if (options.stream && line.stream !== options.stream) return;
    if (held) {
      held.push(line);
      return;
    }
    if (budget <= 0) return;
    let text = formatForDisplay(line, options);
    const bytes = Buffer.byteLength(text);
    if (bytes > budget) text = Buffer.from(text).subarray(0, budget).toString('utf8');
    budget -= Math.min(bytes, budget);
    await out.write(line.stream, text);
  };
  const onLine = async (text: string): Promise<void> => {
    const entry = parseCriLogLine(text);
    const line = entry && joiner.push(entry);
    if (line) await show(line);
  };
  const finish = async (): Promise<void> => {
    for (const line of joiner.drain()) await show(line);
  };
  const release = async (): Promise<void> => {
    const lines = held?.result() ?? [];
    held = undefined;
    for (const line of lines) await show(line);
    await out.flush();
  };

  try {
    let stopped = options.follow ? await stoppedAt(client, containerId) : Date.now();
    if (!(await reader.open()) && stopped !== undefined) {
      throw new UsageError(`the log file ${logPath} does not exist (has the container started?)`);
    }
    await reader.read(onLine);
    if (!options.follow) {
      await finish();
      await release();
      return;
    }
    await release();
    let lastStatus = Date.now();
    for (;;) {
      // After the container stopped, keep reading a little: the runtime may still be copying its last lines.
      if (stopped !== undefined && Date.now() - stopped >= EXIT_GRACE_MS) break;
      await sleep(FOLLOW_READ_MS);
      await reader.read(onLine);
      await out.flush();
      if (stopped === undefined && Date.now() - lastStatus >= STATUS_POLL_MS) {
        lastStatus = Date.now();
        stopped = await stoppedAt(client, containerId);
      }
    }
    await reader.read(onLine);
    await finish();
    await out.flush();
  } finally {
    await reader.close();
  }
}

/** Reads a log file line by line as it grows; when it is rotated (renamed away and re-created), finishes the old file and goes on with the new one. */
class LogFileReader {
  private handle: FileHandle | undefined;
  private ino = -1;
  private offset = 0;
  private rest = '';

  constructor(readonly path: string) {}

  /** False when there is no file (yet). */
  async open(): Promise<boolean> {
    try {
      this.handle = await open(this.path, 'r');
      this.ino = (await this.handle.stat()).ino;
      this.offset = 0;
      this.rest = '';
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Calls onLine for every whole line written since the last call; returns how many. */
  async read(onLine: (line: string) => Promise<void>): Promise<number> {
    if (!this.handle && !(await this.open())) return 0;
    let count = await this.readToEnd(onLine);
    const current = await stat(this.path).catch(() => undefined);
    if (current?.ino !== this.ino) {
      // Rotated: whatever reached the old file before the switch, then the new file from its start.
      count += await this.readToEnd(onLine);
      await this.close();
      if (current && (await this.open())) count += await this.readToEnd(onLine);
    }
    return count;
  }

  private async readToEnd(onLine: (line: string) => Promise<void>): Promise<number> {
    const handle = this.handle!;
    let count = 0;
    const buffer = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK, this.offset);
      if (bytesRead === 0) return count;
      this.offset += bytesRead;
      // A "\n" is never inside a UTF-8 sequence, but a chunk may end inside one: cut at the last "\n".
      const end = buffer.lastIndexOf(0x0a, bytesRead - 1);
      if (end < 0) {
        this.rest += buffer.toString('utf8', 0, bytesRead);
        continue;
      }
      const lines = (this.rest + buffer.toString('utf8', 0, end)).split('\n');
      this.rest = buffer.toString('utf8', end + 1, bytesRead);
      for (const line of lines) await onLine(line);
      count += lines.length;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes to stdout and stderr in the order lines come, in batches, waiting when a pipe is full
 * (so a large log is not held in memory).
 */
class OrderedOutput {
  private stream: 'stdout' | 'stderr' = 'stdout';
  private pending = '';

  async write(stream: 'stdout' | 'stderr', text: string): Promise<void> {
    if (stream !== this.stream) {
      await this.flush();
      this.stream = stream;
    }
    this.pending += text;
    if (this.pending.length >= 64 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending === '') return;
    const target: Writable = this.stream === 'stdout' ? process.stdout : process.stderr;
    const text = this.pending;
    this.pending = '';
    if (!target.write(text)) await once(target, 'drain');
  }
}

/** `mascri logs … | head`: the reader went away; that is not an error. */
function exitQuietlyOnClosedPipe(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
