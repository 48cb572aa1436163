// Exponential backoff after failed extractions: after n failures in a row the next extraction
// waits base × 2^(n-1), at most `max`. A success starts over.

export class FailureBackoff {
  private failures = 0;
  private until = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}

  /** Failures in a row so far. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** When the next extraction may start (0: now). */
  get notBefore(): number {
    return this.until;
  }

  /** Records a failure at `now`; returns the wait it imposes. */
  failed(now: number): number {
    this.failures++;
    const wait = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.failures - 1, 30));
    this.until = now + wait;
    return wait;
  }

  succeeded(): void {
    this.failures = 0;
    this.until = 0;
  }
}
