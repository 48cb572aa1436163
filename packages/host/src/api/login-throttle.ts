// Failed logins per client address, as a token bucket: `burst` failures right away, then one more
// every `refillMs`. Checked before the (slow, on purpose) bcrypt compare, so guessing costs the
// guesser time and the host nothing. Successful logins and valid tokens are never throttled.
export class LoginThrottle {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `address` may try again, or 0 when it may try now. */
  retryAfter(address: string): number {
    const bucket = this.refreshed(address);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - bucket.tokens) * this.refillMs));
  }

  recordFailure(address: string): void {
    const bucket = this.refreshed(address) ?? { tokens: this.burst, updated: this.now() };
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.buckets.set(address, bucket);
    this.prune();
  }

  private refreshed(address: string): { tokens: number; updated: number } | undefined {
    const bucket = this.buckets.get(address);
    if (!bucket) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updated) / this.refillMs);
    bucket.updated = now;
    return bucket;
  }

  /** Full buckets carry no information; drop them so the map stays small. */
  private prune(): void {
    if (this.buckets.size < 1000) return;
    for (const address of [...this.buckets.keys()]) {
      const bucket = this.refreshed(address);
      if (bucket && bucket.tokens >= this.burst) this.buckets.delete(address);
    }
  }
}
