// Periodic and one-shot tasks of one instance (maubot's `self.sched`). Everything is cleared on
// stop; a task that throws is logged against the instance and a periodic task keeps running.

import type { PluginLogger } from "./contract.js";

export type Task = () => unknown;

export interface TaskHandle {
  /** Stops the task; a run in progress finishes but is not repeated. */
  cancel(): void;
  readonly name: string;
}

export interface EveryOptions {
  /** Shown in log lines about the task. */
  name?: string;
  /** Run once right away, then every `ms` (default: first run after `ms`). */
  immediate?: boolean;
}

/** Timers as a seam, so tests can use their own clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// setTimeout's limit; longer delays would fire at once.
const MAX_DELAY = 2 ** 31 - 1;

function checkDelay(ms: number, what: string): void {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DELAY) throw new RangeError(`${what}: delay must be between 0 and ${MAX_DELAY} ms, got ${ms}`);
}

export class Scheduler {
  readonly #log: PluginLogger;
  readonly #timers: Timers;
  readonly #pending = new Map<symbol, unknown>();
  readonly #running = new Set<Promise<void>>();
  #stopped = false;
  #counter = 0;

  readonly #report: ((name: string, seconds: number, failed: boolean) => void) | undefined;

  /** `report`: told of every run (the host's metrics). */
  constructor(log: PluginLogger, timers: Timers = realTimers, report?: (name: string, seconds: number, failed: boolean) => void) {
    this.#log = log;
    this.#timers = timers;
    this.#report = report;
  }

  /**
   * Runs `fn` every `ms`, measured from the end of the previous run, so runs of a slow task
   * never overlap (like maubot's `run_periodically`).
   */
  every(ms: number, fn: Task, options: EveryOptions = {}): TaskHandle {
    checkDelay(ms, "every");
    const name = options.name ?? `every-${++this.#counter}`;
    const key = Symbol(name);
    let cancelled = false;
    const loop = (delay: number) => {
      this.#arm(key, delay, async () => {
        await this.#run(name, fn);
        if (!cancelled && !this.#stopped) loop(ms);
      });
    };
    loop(options.immediate ? 0 : ms);
    return {
      name,
      cancel: () => {
        cancelled = true;
        this.#disarm(key);
      },
    };
  }

  /** Runs `fn` once after `ms`. */
  after(ms: number, fn: Task, options: { name?: string } = {}): TaskHandle {
    checkDelay(ms, "after");
    const name = options.name ?? `after-${++this.#counter}`;
    const key = Symbol(name);
    this.#arm(key, ms, () => this.#run(name, fn));
    return { name, cancel: () => this.#disarm(key) };
  }

  /** Number of tasks waiting for their timer. */
  get pending(): number {
    return this.#pending.size;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Clears every timer; resolves when runs in progress have finished (they are not awaited forever: the host's stop timeout applies). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const handle of this.#pending.values()) this.#timers.clearTimeout(handle);
    this.#pending.clear();
    await Promise.allSettled([...this.#running]);
  }

  #arm(key: symbol, ms: number, body: () => Promise<void>): void {
    if (this.#stopped) throw new Error("scheduler is stopped: tasks can only be added while the instance runs");
    const handle = this.#timers.setTimeout(() => {
      this.#pending.delete(key);
      if (this.#stopped) return;
      const run = body().finally(() => this.#running.delete(run));
      this.#running.add(run);
    }, ms);
    this.#pending.set(key, handle);
  }

  #disarm(key: symbol): void {
    const handle = this.#pending.get(key);
    if (handle !== undefined) this.#timers.clearTimeout(handle);
    this.#pending.delete(key);
  }

  async #run(name: string, fn: Task): Promise<void> {
    const started = performance.now();
    try {
      await fn();
      this.#report?.(name, (performance.now() - started) / 1000, false);
    } catch (err) {
      this.#report?.(name, (performance.now() - started) / 1000, !this.#stopped);
      // A task cut short by the instance stopping (its HTTP request aborted) is expected.
      if (this.#stopped) this.#log.debug(`scheduled task ${name} ended by stop`, errorFields(err));
      else this.#log.error(`scheduled task ${name} failed`, errorFields(err));
    }
  }
}

/** Log fields for a caught error. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: err.message, stack: err.stack };
  return { error: String(err) };
}
