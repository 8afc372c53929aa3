import { execa, type ResultPromise } from 'execa';
import { childMarks } from './children.js';
import { spawnFailure, type DockerCli } from './cli.js';

/** One line of `docker events --format '{{json .}}'` (a container's or an image's). */
export interface DockerEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
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
  private child: ResultPromise | undefined;
  private stopped = false;

  constructor(
    private readonly cli: DockerCli,
    private readonly filters: readonly string[],
  ) {}

  start(handlers: EventStreamHandlers): void {
    const filterArgs = this.filters.flatMap((filter) => ['--filter', filter]);
    const child = execa(this.cli.binary, ['events', '--format', '{{json .}}', ...filterArgs], {
      reject: false,
      buffer: false,
      stdin: 'ignore',
      env: childMarks(),
    });
    this.child = child;
    let pending = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
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
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
    void child.then((result) => {
      if (this.child === child) this.child = undefined;
      if (!this.stopped) handlers.onEnd(stderr.trim() || spawnFailure(result as { code?: unknown }, this.cli.binary, ['events'])?.message || `docker events exited with ${result.exitCode ?? result.signal ?? 'no code'}`);
    });
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill('SIGTERM');
    this.child = undefined;
  }
}
