// When to bring a crashed worker's instances back: exponential backoff per worker, a cap on the
// delay, and a cap on crashes in a row (then they stay failed). A worker that lived long enough
// before dying starts a fresh count. Also owns the pending restart timers, one per instance.

export interface RestartPolicy {
  /** First delay after a crash; doubles with each crash in a row. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Restarts in a row before the instances stay failed. */
  maxAttempts: number;
  /** A worker that lived this long before dying starts a fresh count. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { baseDelayMs: 1000, maxDelayMs: 60_000, maxAttempts: 5, stableAfterMs: 60_000 };

export class RestartBackoff {
  readonly policy: RestartPolicy;
  private readonly crashes = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(policy: Partial<RestartPolicy> = {}) {
    this.policy = { ...DEFAULT_RESTART_POLICY, ...policy };
  }

  /** Records a crash of worker `key` that had lived `livedMs`; `delayMs` is null when it is time to give up. */
  recordCrash(key: string, livedMs: number): { attempt: number; delayMs: number | null } {
    const attempt = (livedMs >= this.policy.stableAfterMs ? 0 : (this.crashes.get(key) ?? 0)) + 1;
    this.crashes.set(key, attempt);
    if (attempt > this.policy.maxAttempts) return { attempt, delayMs: null };
    return { attempt, delayMs: Math.min(this.policy.baseDelayMs * 2 ** (attempt - 1), this.policy.maxDelayMs) };
  }

  /** Runs `restart` for instance `id` after `delayMs`, replacing any restart already pending for it. */
  schedule(id: string, delayMs: number, restart: () => void): void {
    this.cancel(id);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      restart();
    }, delayMs);
    // A pending restart alone must not keep the process alive.
    timer.unref();
    this.timers.set(id, timer);
  }

  cancel(id: string): void {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
  }

  cancelAll(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
