// Extractions one at a time, in arrival order, with a minimum delay between two starts and the
// failure backoff's wait before the next one. Bounded: a full queue refuses new requests.

export interface QueueOptions<J> {
  maxQueue: number;
  minDelayMs: number;
  /** When the next extraction may start because of failures (0: no wait). */
  notBefore: () => number;
  run: (job: J) => Promise<void>;
  now?: () => number;
  /** Waits `ms` or until `signal` aborts (replaceable in tests). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A job that threw (run should handle its own errors; this is the last resort). */
  onError?: (err: unknown) => void;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

export class ExtractionQueue<J> {
  private readonly waiting: J[] = [];
  private running: Promise<void> | null = null;
  private lastStart = Number.NEGATIVE_INFINITY;
  private readonly stopping = new AbortController();
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private options: QueueOptions<J>) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
  }

  /** Requests waiting (not counting the one running). */
  get length(): number {
    return this.waiting.length;
  }

  /** Adds a job; false when the queue is full or stopped. */
  offer(job: J): boolean {
    if (this.stopping.signal.aborted || this.waiting.length >= this.options.maxQueue) return false;
    this.waiting.push(job);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
    return true;
  }

  /** New limits for the jobs still to come. */
  reconfigure(maxQueue: number, minDelayMs: number): void {
    this.options = { ...this.options, maxQueue, minDelayMs };
  }

  /** Resolves when nothing is waiting or running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Drops waiting jobs and ends the wait between jobs; the running job is the caller's to abort. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.waiting.length = 0;
    await this.running;
  }

  private async drain(): Promise<void> {
    const signal = this.stopping.signal;
    while (this.waiting.length > 0 && !signal.aborted) {
      const startAt = Math.max(this.lastStart + this.options.minDelayMs, this.options.notBefore());
      const wait = startAt - this.now();
      if (wait > 0) {
        await this.sleep(wait, signal);
        continue; // the backoff may have moved meanwhile; look again
      }
      const job = this.waiting.shift()!;
      this.lastStart = this.now();
      try {
        await this.options.run(job);
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  }
}
