import { describe, expect, it } from "vitest";
import { Scheduler, type Timers } from "./scheduler.js";
import { createTestContext } from "./testing.js";

/** A clock that only moves when the test says so. */
class TestTimers implements Timers {
  now = 0;
  #next = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#next;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Moves the clock, firing due timers in order, and lets their async bodies settle. */
  async advance(ms: number): Promise<void> {
    const until = this.now + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      for (let i = 0; i < 10; i++) await Promise.resolve();
    }
    this.now = until;
  }
}

describe("Scheduler", () => {
  it("runs periodic and one-shot tasks", async () => {
    const timers = new TestTimers();
    const { ctx } = createTestContext();
    const s = new Scheduler(ctx.log, timers);
    const runs: string[] = [];
    s.every(1000, () => void runs.push(`every@${timers.now}`));
    s.after(1500, () => void runs.push(`after@${timers.now}`));
    s.every(1000, () => void runs.push(`now@${timers.now}`), { immediate: true });
    await timers.advance(3000);
    expect(runs).toEqual(["now@0", "every@1000", "now@1000", "after@1500", "every@2000", "now@2000", "every@3000", "now@3000"]);
  });

  it("clears every task on stop", async () => {
    const timers = new TestTimers();
    const { ctx } = createTestContext();
    const s = new Scheduler(ctx.log, timers);
    let runs = 0;
    s.every(1000, () => void runs++);
    s.after(5000, () => void runs++);
    await timers.advance(1000);
    expect(runs).toBe(1);
    await s.stop();
    expect(timers.timers.size).toBe(0);
    expect(s.pending).toBe(0);
    await timers.advance(10_000);
    expect(runs).toBe(1);
    expect(() => s.after(10, () => undefined)).toThrow(/scheduler is stopped/);
  });

  it("logs a throwing task and keeps a periodic one going", async () => {
    const timers = new TestTimers();
    const { ctx, logs } = createTestContext();
    const s = new Scheduler(ctx.log, timers);
    let runs = 0;
    s.every(
      100,
      async () => {
        runs++;
        throw new Error(`failure ${runs}`);
      },
      { name: "poll" },
    );
    s.after(50, () => {
      throw new Error("once");
    });
    await timers.advance(300);
    expect(runs).toBe(3);
    const errors = logs.filter((l) => l.level === "error");
    expect(errors.map((l) => l.msg)).toEqual([
      "scheduled task after-1 failed",
      "scheduled task poll failed",
      "scheduled task poll failed",
      "scheduled task poll failed",
    ]);
    expect(errors[1]!.fields).toMatchObject({ error: "failure 1" });
  });

  it("cancels one task without touching the others", async () => {
    const timers = new TestTimers();
    const { ctx } = createTestContext();
    const s = new Scheduler(ctx.log, timers);
    const runs: string[] = [];
    const a = s.every(100, () => void runs.push("a"));
    s.every(100, () => void runs.push("b"));
    await timers.advance(100);
    a.cancel();
    await timers.advance(200);
    expect(runs).toEqual(["a", "b", "b", "b"]);
  });

  it("refuses delays setTimeout cannot keep", () => {
    const { ctx } = createTestContext();
    const s = new Scheduler(ctx.log, new TestTimers());
    expect(() => s.every(-1, () => undefined)).toThrow(RangeError);
    expect(() => s.after(2 ** 31, () => undefined)).toThrow(RangeError);
  });
});

describe("Scheduler stop during a run", () => {
  it("logs a task that fails because the instance stopped at debug level, not as an error", async () => {
    const timers = new TestTimers();
    const { ctx, logs } = createTestContext();
    const s = new Scheduler(ctx.log, timers);
    let fail!: (err: Error) => void;
    s.after(10, () => new Promise((_resolve, reject) => (fail = reject)), { name: "fetch" });
    await timers.advance(10);
    const stopping = s.stop();
    fail(new Error("aborted"));
    await stopping;
    expect(logs.map((l) => [l.level, l.msg])).toEqual([["debug", "scheduled task fetch ended by stop"]]);
  });
});
