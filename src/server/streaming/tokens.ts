import { randomString } from '../../common/random.js';

/** Tokens waiting at once; past this, new requests are refused (kubelet's limit too). */
export const MAX_PENDING_TOKENS = 1000;
export const TOKEN_TTL_MS = 30_000;

/**
 * Single-use, short-lived tokens for streaming URLs: 192 random bits each, consumed on
 * first use, forgotten after `ttlMs` if unused.
 */
export class TokenCache<T> {
  private readonly entries = new Map<string, { value: T; expires: number }>();

  constructor(
    private readonly ttlMs = TOKEN_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Stores `value` under a new token; undefined when too many are pending. */
  insert(value: T): string | undefined {
    this.evictExpired();
    if (this.entries.size >= MAX_PENDING_TOKENS) return undefined;
    const token = randomString(24, 'base64url');
    this.entries.set(token, { value, expires: this.now() + this.ttlMs });
    return token;
  }

  /** The value for `token` if it is known and fresh; the token is gone afterwards either way. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    this.entries.delete(token);
    if (!entry || entry.expires <= this.now()) return undefined;
    return entry.value;
  }

  get size(): number {
    this.evictExpired();
    return this.entries.size;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) if (entry.expires <= now) this.entries.delete(token);
  }
}
