// Failed logins as token buckets: `burst` attempts right away, then one more every `refillMs`.
// Counted per client address AND user name, so five bad guesses at one name lock out that name
// from that address, not every admin behind the same reverse proxy; and per address over all
// names with a 4x larger budget, so one address cannot make unbounded bcrypt work by cycling
// names. An attempt takes its tokens before the (slow, on purpose) bcrypt compare, so a burst of
// parallel guesses is cut at `burst` too; a successful login gives them back. Valid admin tokens
// are never throttled.

/** How much more an address may try over all names than at one name. */
const ADDRESS_FACTOR = 4;

class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();

  constructor(
    private readonly burst: number,
    private readonly refillMs: number,
    private readonly now: () => number,
  ) {}

  /** 0 when `key` has a token, else the milliseconds until it has one. */
  wait(key: string): number {
    const tokens = this.refreshed(key)?.tokens ?? this.burst;
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) * this.refillMs));
  }

  take(key: string): void {
    const bucket = this.refreshed(key) ?? { tokens: this.burst, updated: this.now() };
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    this.prune();
  }

  giveBack(key: string): void {
    const bucket = this.refreshed(key);
    if (bucket) bucket.tokens = Math.min(this.burst, bucket.tokens + 1);
  }

  private refreshed(key: string): { tokens: number; updated: number } | undefined {
    const bucket = this.buckets.get(key);
    if (!bucket) return undefined;
    const now = this.now();
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updated) / this.refillMs);
    bucket.updated = now;
    return bucket;
  }

  /** Full buckets carry no information; drop them so the map stays small. */
  private prune(): void {
    if (this.buckets.size < 1000) return;
    for (const key of [...this.buckets.keys()]) {
      const bucket = this.refreshed(key);
      if (bucket && bucket.tokens >= this.burst) this.buckets.delete(key);
    }
  }
}

export class LoginThrottle {
  private readonly perName: TokenBuckets;
  private readonly perAddress: TokenBuckets;

  constructor(burst: number, refillMs: number, now: () => number = Date.now) {
    this.perName = new TokenBuckets(burst, refillMs, now);
    this.perAddress = new TokenBuckets(burst * ADDRESS_FACTOR, refillMs / ADDRESS_FACTOR, now);
  }

  /** Takes one attempt at `user` from `address`: 0 when granted, else the milliseconds to wait. */
  take(address: string, user: string): number {
    const nameKey = `${address}\n${user}`;
    const wait = Math.max(this.perName.wait(nameKey), this.perAddress.wait(address));
    if (wait > 0) return wait;
    this.perName.take(nameKey);
    this.perAddress.take(address);
    return 0;
  }

  /** The attempt succeeded: it does not count. */
  giveBack(address: string, user: string): void {
    this.perName.giveBack(`${address}\n${user}`);
    this.perAddress.giveBack(address);
  }
}
