import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from './children.js';
import { cliEnv, spawnFailure, type DockerCli } from './cli.js';

/** One line of `docker events --format '{{json .}}'` (a container's or an image's). */
export interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

export interface EventStreamStart {
  /**
   * Replay Docker's events from this time on (ms since the epoch) before the live ones: what
   * happened while the CLI was still subscribing is not lost.
   */
  sinceMs?: number;
}

export interface EventStreamHandlers {
  onEvent(event: DockerEvent): void;
  /** The stream ended (daemon gone or restarted, CLI killed); `reason` says why. */
  onEnd(reason: string): void;
}

/** The `docker events` filters of the containers carrying `label` (`key` or `key=value`). Pure. */
export function containerEventFilters(label: string): string[] {
  return ['type=container', `label=${label}`];
}

/** The `docker events` filters of image changes: pull, tag, untag, delete, import, load. Pure. */
export function imageEventFilters(): string[] {
  return ['type=image'];
}

/**
 * A long-lived `docker events` stream with the given filters. It runs until stop() is called
 * or Docker ends it; the caller restarts it (and resyncs) after onEnd.
 */
export class DockerEventStream {
  private child: ChildProcess | undefined;
  private stopped = false;

  constructor(
    private readonly cli: DockerCli,
    private readonly filters: readonly string[],
  ) {}

  start(handlers: EventStreamHandlers, options: EventStreamStart = {}): void {
    const filterArgs = this.filters.flatMap((filter) => ['--filter', filter]);
    const since = options.sinceMs !== undefined ? ['--since', (options.sinceMs / 1000).toFixed(3)] : [];
    const args = ['events', '--format', '{{json .}}', ...since, ...filterArgs];
    // node's spawn rather than execa: the server then loads no execa at all (about 3 MiB of RSS).
    let child: ChildProcess;
    let ended = false;
    let stderr = '';
    const end = (ending: { exitCode?: number; signal?: string; code?: string }) => {
      if (ended) return;
      ended = true;
      if (this.child === child) this.child = undefined;
      if (this.stopped) return;
      const reason = stderr.trim() || spawnFailure(ending, this.cli.binary, args)?.message || `docker events exited with ${ending.exitCode ?? ending.signal ?? ending.code ?? 'no code'}`;
      handlers.onEnd(reason);
    };
    try {
      child = spawn(this.cli.binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(cliEnv()) });
    } catch (error) {
      // Some failures (E2BIG, ...) are thrown at once; the caller hears of them as an ended stream.
      const code = (error as NodeJS.ErrnoException).code ?? 'ESPAWN';
      queueMicrotask(() => !this.stopped && handlers.onEnd(spawnFailure({ code }, this.cli.binary, args)?.message ?? `docker events could not be started (${code})`));
      return;
    }
    this.child = child;
    let pending = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (!line) continue;
        try {
          handlers.onEvent(JSON.parse(line) as DockerEvent);
        } catch {
          // a line that is not JSON is not an event
        }
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    child.on('error', (error: NodeJS.ErrnoException) => {
      // Not started (ENOENT, EACCES, ...): no exit follows.
      if (child.pid === undefined) end({ code: error.code ?? 'ESPAWN' });
    });
    child.on('close', (exitCode, signal) => end(exitCode !== null ? { exitCode } : { signal: signal ?? undefined }));
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    this.child = undefined;
  }
}
