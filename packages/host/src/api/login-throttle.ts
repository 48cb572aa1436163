// Failed logins per client address, as a token bucket: `burst` attempts right away, then one
// more every `refillMs`. An attempt takes its token before the (slow, on purpose) bcrypt
// compare, so a burst of parallel guesses is cut at `burst` too; a successful login gives its
// token back. Valid admin tokens are never throttled.
export class LoginThrottle {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one attempt for `address`: 0 when granted, else the milliseconds until the next one. */
  take(address: string): number {
    const bucket = this.refreshed(address) ?? { tokens: this.burst, updated: this.now() };
    if (bucket.tokens < 1) return Math.max(1, Math.ceil((1 - bucket.tokens) * this.refillMs));
    bucket.tokens -= 1;
    this.buckets.set(address, bucket);
    this.prune();
    return 0;
  }

  /** The attempt succeeded: it does not count. */
  giveBack(address: string): void {
    const bucket = this.refreshed(address);
    if (bucket) bucket.tokens = Math.min(this.burst, bucket.tokens + 1);
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
