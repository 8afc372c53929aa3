import type { Logger } from '../common/logger.js';
import type { DockerEventSource } from '../docker/adapter.js';
import type { DockerEvent } from '../docker/events.js';

const RESTART_DELAYS_MS = [200, 500, 1000, 2000, 5000];

export interface FollowOptions {
  log: Logger;
  onEvent(event: DockerEvent): void;
  /** Runs each time the stream (re)starts. */
  onStart?(): void;
  /** Runs each time Docker ends the stream, before the restart is planned. */
  onEnd?(): void;
  /** Loads everything again after a restart (events were missed meanwhile). */
  reload(): Promise<void>;
  /** What the warning says when the stream ended, e.g. "docker events stream ended; restarting it with a full resync". */
  endedMessage: string;
  /** What the debug line says when a reload failed. */
  reloadFailedMessage: string;
}

/**
 * A Docker event stream followed for as long as it is wanted: when Docker ends it (the daemon
 * restarted or went away), it starts again after a delay that grows while restarts fail (200 ms
 * to 5 s), and everything is reloaded, since what happened meanwhile was not told.
 */
/** How far back a (re)started stream has Docker replay events (clock steps between client and engine included). */
const REPLAY_MS = 2000;

export class FollowedStream {
  private timer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private stopped = false;

  constructor(
    private readonly source: DockerEventSource,
    private readonly options: FollowOptions,
  ) {}

  start(): void {
    this.options.onStart?.();
    // The CLI subscribes some milliseconds after it starts, and the reload after a restart runs
    // meanwhile: a change in between would be in neither. Docker replays what happened since
    // shortly before (seen twice at worst: an event only makes the store look again).
    this.source.start({
      onEvent: (event) => this.options.onEvent(event),
      onEnd: (reason) => {
        this.options.onEnd?.();
        if (this.stopped) return;
        const delay = RESTART_DELAYS_MS[Math.min(this.restarts, RESTART_DELAYS_MS.length - 1)]!;
        this.restarts++;
        this.options.log.warn(this.options.endedMessage, { reason, retryInMs: delay });
        this.timer = setTimeout(() => {
          this.start();
          this.options.reload().then(
            () => (this.restarts = 0),
            (error: unknown) => this.options.log.debug(this.options.reloadFailedMessage, { error: String(error) }),
          );
        }, delay);
      },
    }, { sinceMs: Date.now() - REPLAY_MS });
  }

  stop(): void {
    this.stopped = true;
    this.source.stop();
    clearTimeout(this.timer);
  }
}
