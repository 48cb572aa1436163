// The host's side of a check thread (check-thread-entry.ts): a worker created on first use,
// given one job at a time, each with a time limit. A job over its limit has the thread
// terminated (a synchronous stall, say a backtracking regex, cannot be interrupted any other
// way) and the next job gets a fresh one; so does a job that crashes it (out of memory). An idle
// thread ends after a while, and never keeps the process alive.
import { Worker, type ResourceLimits } from "node:worker_threads";
import type { ErrCode } from "../errors.js";
import type { CheckJob, CheckKind, CheckReply, CheckRequest, CheckResults } from "./check-protocol.js";
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
  /** The thread ends after this long without a job (default 30 s). */
  idleMs?: number;
}

export class CheckThread {
  private worker: Worker | null = null;
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
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private spawn(): Worker {
    const worker = new Worker(compiledFile("./check-thread-entry.js", import.meta.url), {
      resourceLimits: this.options.resourceLimits ?? { maxOldGenerationSizeMb: 256 },
      stdout: false,
      stderr: false,
    });
    // Referenced only while a job runs (see runNow): an idle check thread never keeps the process alive.
    worker.unref();
    // Errors are reported through the job's exit handler; this keeps them from being uncaught.
    worker.on("error", () => undefined);
    return worker;
  }

  private runNow(job: CheckJob, timeoutMs: number): Promise<CheckResults[CheckKind]> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = (this.worker ??= this.spawn());
    const id = ++this.nextId;
    worker.ref();
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
      const onMessage = (reply: CheckReply) => {
        if (reply.id !== id) return;
        finish();
        if (reply.ok) resolve(reply.value);
        else reject(new CheckFailure("refused", reply.message, reply.errcode));
      };
      const onExit = () => {
        finish();
        if (this.worker === worker) this.worker = null;
        const why = (lastError as (Error & { code?: string }) | null)?.code === "ERR_WORKER_OUT_OF_MEMORY" ? "ran out of memory" : `stopped (${lastError?.message ?? "no error"})`;
        reject(new CheckFailure("crashed", `the check ${why}`));
      };
      const timer = setTimeout(() => {
        finish();
        if (this.worker === worker) this.worker = null;
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
    this.idleTimer = setTimeout(() => void this.close(), this.options.idleMs ?? 30_000);
    this.idleTimer.unref();
  }
}
