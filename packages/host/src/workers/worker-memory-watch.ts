// Watches one worker's memory from the main thread: its JS heap and its external memory (Buffers,
// ArrayBuffers, external strings), which `resourceLimits` does not bound. A plugin that keeps
// Buffers grew the daemon to 4.8 GB with its heap well under the limit.
//
// Measured on Node 24 (see the 8c note): `worker.getHeapStatistics()` (Node 22.16+, 24+) answers
// for that worker's isolate alone (the main thread's figures do not move when a worker holds
// 200 MB of Buffers), its `external_memory` counts Buffers and ArrayBuffers, and it answers
// within milliseconds even while the worker's JS runs a tight loop or waits in Atomics.wait
// (V8 serves it at an interrupt), so a plugin that blocks its event loop is still measured.
// A worker stuck in a native call does not answer; the heartbeat catches that one.
import { Worker } from "node:worker_threads";

export interface WorkerMemoryUsage {
  /** Committed JS heap. */
  heapBytes: number;
  /** Buffers, ArrayBuffers and external strings of the worker's isolate. */
  externalBytes: number;
}

export const MB = 1024 * 1024;

/** Whether this Node can measure a worker from outside (22.16+, 24+). */
export const WORKER_MEMORY_MEASURABLE = typeof (Worker.prototype as Partial<Pick<Worker, "getHeapStatistics">>).getHeapStatistics === "function";

export class WorkerMemoryWatch {
  private timer: NodeJS.Timeout | null = null;
  private measuring = false;

  /**
   * @param onOverLimit called once, with the figures, the first time heap + external exceeds `limitBytes`
   */
  constructor(
    private readonly worker: Worker,
    private readonly limitBytes: number,
    private readonly intervalMs: number,
    private readonly onOverLimit: (usage: WorkerMemoryUsage) => void,
  ) {}

  start(): void {
    if (this.timer || !WORKER_MEMORY_MEASURABLE) return;
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Measures once; null when the worker is gone. */
  async measure(): Promise<WorkerMemoryUsage | null> {
    if (!WORKER_MEMORY_MEASURABLE) return null;
    try {
      const stats = await this.worker.getHeapStatistics();
      return { heapBytes: stats.total_heap_size, externalBytes: stats.external_memory };
    } catch {
      // ERR_WORKER_NOT_RUNNING: it exited between two checks; its exit is reported elsewhere.
      return null;
    }
  }

  private async check(): Promise<void> {
    // A worker that does not answer (stuck in a native call) must not pile up requests.
    if (this.measuring) return;
    this.measuring = true;
    try {
      const usage = await this.measure();
      if (!this.timer || !usage) return;
      if (usage.heapBytes + usage.externalBytes > this.limitBytes) {
        this.stop();
        this.onOverLimit(usage);
      }
    } finally {
      this.measuring = false;
    }
  }
}

/** "612 MB (JS heap 20 MB, Buffers and other external memory 592 MB)" */
export function describeUsage(usage: WorkerMemoryUsage): string {
  const mb = (bytes: number) => `${Math.round(bytes / MB)} MB`;
  return `${mb(usage.heapBytes + usage.externalBytes)} (JS heap ${mb(usage.heapBytes)}, Buffers and other external memory ${mb(usage.externalBytes)})`;
}
