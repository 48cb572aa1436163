import { describe, expect, it } from "vitest";
import { RestartBackoff } from "./restart-backoff.js";

describe("RestartBackoff", () => {
  it("doubles the delay per crash in a row, caps it, then gives up", () => {
    const backoff = new RestartBackoff({ baseDelayMs: 100, maxDelayMs: 350, maxAttempts: 4, stableAfterMs: 10_000 });
    const delays = [1, 2, 3, 4, 5].map(() => backoff.recordCrash("plugin:x", 50).delayMs);
    expect(delays).toEqual([100, 200, 350, 350, null]);
  });

  it("starts a fresh count after a worker that lived long enough, and counts each worker on its own", () => {
    const backoff = new RestartBackoff({ baseDelayMs: 100, maxDelayMs: 10_000, maxAttempts: 5, stableAfterMs: 1000 });
    backoff.recordCrash("plugin:x", 10);
    expect(backoff.recordCrash("plugin:x", 10)).toEqual({ attempt: 2, delayMs: 200 });
    expect(backoff.recordCrash("instance:y", 10)).toEqual({ attempt: 1, delayMs: 100 });
    expect(backoff.recordCrash("plugin:x", 5000)).toEqual({ attempt: 1, delayMs: 100 });
  });

  it("runs a scheduled restart once, and not after it was cancelled", async () => {
    const backoff = new RestartBackoff();
    const ran: string[] = [];
    await new Promise<void>((resolve) => {
      backoff.schedule("a", 1, () => {
        ran.push("a");
        resolve();
      });
      backoff.schedule("b", 1, () => ran.push("b"));
      backoff.cancel("b");
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(ran).toEqual(["a"]);
  });
});
