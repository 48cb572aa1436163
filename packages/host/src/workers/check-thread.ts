// The host's side of a check thread (check-thread-entry.ts): a worker created on first use,
// given one job at a time, each with a time limit that starts once the thread has loaded its
// modules (a cold start on a loaded machine takes seconds, and is the host's own code, not the
// input's cost). A job over its limit has the thread terminated (a synchronous stall, say a backtracking regex, cannot be interrupted any other
// way) and the next job gets a fresh one; so does a job that crashes it (out of memory). An idle
// thread ends after a while, and never keeps the process alive.
import { Worker, type ResourceLimits } from "node:worker_threads";
import type { ErrCode } from "../errors.js";
import type { CheckJob, CheckKind, CheckReply, CheckRequest, CheckResults, CheckThreadReady } from "./check-protocol.js";
import { compiledFile } from "./compiled-file.js";

/** Why a job gave no answer: its input was refused, it ran out of time, or the thread died. */
export class CheckFailure extends Error {
  constructor(
    readonly reason: "refused" | "timeout" | "crashed",
    message: string,
    /** The API errcode of a refusal (a BundleError in the thread), else null. */
    readonly errcode: ErrCode | null = null,
  ) {
    super(message);
    this.name = "CheckFailure";
  }
}

export interface CheckThreadOptions {
  /** V8 heap bounds of the thread; Buffers (zip contents) are outside them. */
  resourceLimits?: ResourceLimits;
  /** The thread ends after this long without a job (default IDLE_MS). */
  idleMs?: number;
}

/**
 * An idle thread's life. A check thread is a whole V8 isolate with ajv, yaml and the lexer
 * loaded, 8-10 MB of the daemon's RSS (bench/lean.mjs); a running daemon checks a bundle or
 * a config seldom (an upload, an instance start or edit), and a new thread starts in about
 * 0.1 s. Long enough for a burst (instances starting together, an operator saving twice).
 */
const IDLE_MS = 15_000;

/** Bound on a thread's start (loading ajv, yaml and the lexer), which no input influences. */
const START_LIMIT_MS = 60_000;

interface Thread {
  worker: Worker;
  /** Resolves when the thread has loaded its modules; rejects if it dies or does not in START_LIMIT_MS. */
  started: Promise<void>;
}

export class CheckThread {
  private thread: Thread | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: CheckThreadOptions = {}) {}

  /** Runs `job` after the jobs queued before it; rejects with a CheckFailure when it gives no answer. */
  run<K extends CheckKind>(job: Extract<CheckJob, { kind: K }>, timeoutMs: number): Promise<CheckResults[K]> {
    const task = () => this.runNow(job, timeoutMs) as Promise<CheckResults[K]>;
    const result = this.queue.then(task, task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Ends the thread now (jobs in flight fail as crashed). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const thread = this.thread;
    this.thread = null;
    await thread?.worker.terminate();
  }

  private spawn(): Thread {
    const worker = new Worker(compiledFile("./check-thread-entry.js", import.meta.url), {
      resourceLimits: this.options.resourceLimits ?? { maxOldGenerationSizeMb: 256 },
      stdout: false,
      stderr: false,
    });
    // Referenced only while a job runs (see runNow): an idle check thread never keeps the process alive.
    worker.unref();
    // Errors are reported through the job's exit handler; this keeps them from being uncaught.
    worker.on("error", () => undefined);
    const started = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`it did not start within ${START_LIMIT_MS / 1000} s`));
      }, START_LIMIT_MS);
      const onMessage = (message: CheckThreadReady | CheckReply) => {
        if (!("ready" in message)) return;
        done();
        resolve();
      };
      const onExit = (code: number) => {
        done();
        reject(new Error(`it exited with code ${code} while starting`));
      };
      const done = () => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.on("exit", onExit);
    });
    started.catch(() => undefined);
    return { worker, started };
  }

  private async runNow(job: CheckJob, timeoutMs: number): Promise<CheckResults[CheckKind]> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const thread = (this.thread ??= this.spawn());
    const { worker } = thread;
    worker.ref();
    try {
      await thread.started;
    } catch (err) {
      worker.unref();
      if (this.thread === thread) this.thread = null;
      throw new CheckFailure("crashed", `the check thread failed: ${(err as Error).message}`);
    }
    const id = ++this.nextId;
    return new Promise<CheckResults[CheckKind]>((resolve, reject) => {
      let lastError: Error | null = null;
      const onError = (err: Error) => (lastError = err);
      const finish = () => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        worker.unref();
        this.scheduleIdleEnd();
      };
      const onMessage = (reply: CheckThreadReady | CheckReply) => {
        if ("ready" in reply || reply.id !== id) return;
        finish();
        if (reply.ok) resolve(reply.value);
        else reject(new CheckFailure("refused", reply.message, reply.errcode));
      };
      const onExit = () => {
        finish();
        if (this.thread === thread) this.thread = null;
        const why = (lastError as (Error & { code?: string }) | null)?.code === "ERR_WORKER_OUT_OF_MEMORY" ? "ran out of memory" : `stopped (${lastError?.message ?? "no error"})`;
        reject(new CheckFailure("crashed", `the check ${why}`));
      };
      const timer = setTimeout(() => {
        finish();
        if (this.thread === thread) this.thread = null;
        void worker.terminate();
        reject(new CheckFailure("timeout", `the check took longer than ${timeoutMs / 1000} s`));
      }, timeoutMs);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      worker.postMessage({ id, job } satisfies CheckRequest);
    });
  }

  private scheduleIdleEnd(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.close(), this.options.idleMs ?? IDLE_MS);
    this.idleTimer.unref();
  }
}
