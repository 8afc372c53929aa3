/** The outcome of one look at the Docker daemon. */
export interface Health {
  ok: boolean;
  /** Why it is not healthy (the daemon's or the CLI's words). */
  reason?: string;
}

/**
 * Whether the Docker daemon answers, asked at most once per `maxAgeMs` however often
 * /healthz is scraped: callers within that time share the last answer (or the call in flight).
 */
export class HealthCheck {
  private last: { at: number; result: Promise<Health> } | undefined;

  constructor(
    private readonly ping: () => Promise<unknown>,
    private readonly maxAgeMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  check(): Promise<Health> {
    const at = this.now();
    if (this.last && at - this.last.at < this.maxAgeMs) return this.last.result;
    const result = this.ping().then(
      (): Health => ({ ok: true }),
      (error: unknown): Health => ({ ok: false, reason: error instanceof Error ? error.message : String(error) }),
    );
    this.last = { at, result };
    return result;
  }
}
