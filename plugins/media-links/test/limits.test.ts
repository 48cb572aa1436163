import { describe, expect, it } from "vitest";
import { ExtractionQueue } from "../src/extraction-queue.js";
import { FailureBackoff } from "../src/failure-backoff.js";
import { RateLimits } from "../src/rate-limits.js";
import { ResultCache } from "../src/result-cache.js";
import { parseSettings } from "../src/settings.js";

const rate = (overrides: Record<string, unknown>) => parseSettings({ rate_limiting: overrides }).rate;

describe("rate limits", () => {
  it("let a burst through, then one request per 60/N seconds, per room", () => {
    const limits = new RateLimits(rate({ max_requests_per_minute: 60, burst_size: 10, room_max_requests_per_minute: 6, room_burst_size: 2 }), 0);
    expect(["!a", "!a", "!a"].map((r) => limits.tryTake(r, 0))).toEqual(["ok", "ok", "room"]);
    expect(limits.tryTake("!b", 0)).toBe("ok");
    expect(limits.tryTake("!a", 9_999)).toBe("room");
    expect(limits.tryTake("!a", 10_000)).toBe("ok");
  });

  it("hold every room back when the instance's own limit is used up", () => {
    const limits = new RateLimits(rate({ max_requests_per_minute: 1, burst_size: 2, room_max_requests_per_minute: 60, room_burst_size: 60 }), 0);
    expect(limits.tryTake("!a", 0)).toBe("ok");
    expect(limits.tryTake("!b", 0)).toBe("ok");
    expect(limits.tryTake("!c", 0)).toBe("instance");
    // A refused request takes nothing: !c's room bucket is still full.
    expect(limits.tryTake("!c", 60_000)).toBe("ok");
  });

  it("let everything through when rate limiting is off", () => {
    const limits = new RateLimits(rate({ enabled: false, max_requests_per_minute: 1, burst_size: 1 }), 0);
    expect(Array.from({ length: 5 }, () => limits.tryTake("!a", 0))).toEqual(["ok", "ok", "ok", "ok", "ok"]);
  });
});

describe("failure backoff", () => {
  it("doubles the wait with each failure in a row, up to the cap, and starts over after a success", () => {
    const b = new FailureBackoff(30_000, 100_000);
    expect(b.notBefore).toBe(0);
    expect([b.failed(0), b.failed(0), b.failed(0), b.failed(0)]).toEqual([30_000, 60_000, 100_000, 100_000]);
    expect(b.consecutiveFailures).toBe(4);
    expect(b.notBefore).toBe(100_000);
    b.succeeded();
    expect(b.consecutiveFailures).toBe(0);
    expect(b.notBefore).toBe(0);
    expect(b.failed(5_000)).toBe(30_000);
    expect(b.notBefore).toBe(35_000);
  });
});

describe("result cache", () => {
  it("answers within the TTL, forgets after it, keeps at most N entries, and stores nothing at TTL 0", () => {
    const c = new ResultCache<string>(1000, 2);
    c.set("a", "A", 0);
    expect(c.get("a", 999)).toBe("A");
    expect(c.get("a", 1000)).toBeUndefined();
    c.set("a", "A", 0);
    c.set("b", "B", 0);
    c.set("c", "C", 0);
    expect([c.get("a", 1), c.get("b", 1), c.get("c", 1)]).toEqual([undefined, "B", "C"]);
    const off = new ResultCache<string>(0, 10);
    off.set("a", "A", 0);
    expect(off.get("a", 0)).toBeUndefined();
    expect(off.size).toBe(0);
  });
});

describe("extraction queue", () => {
  /** A clock that only moves when the queue sleeps. */
  function scripted() {
    let now = 0;
    const sleeps: number[] = [];
    return {
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
      sleeps,
      at: () => now,
    };
  }

  it("runs jobs one at a time in order, with the minimum delay between starts", async () => {
    const clock = scripted();
    const started: Array<[string, number]> = [];
    const q = new ExtractionQueue<string>({
      maxQueue: 10,
      minDelayMs: 5000,
      notBefore: () => 0,
      run: async (job) => void started.push([job, clock.at()]),
      now: clock.now,
      sleep: clock.sleep,
    });
    expect(["a", "b", "c"].map((j) => q.offer(j))).toEqual([true, true, true]);
    await q.idle();
    expect(started).toEqual([["a", 0], ["b", 5000], ["c", 10_000]]);
  });

  it("waits for the failure backoff before the next job, and refuses jobs beyond max_queue", async () => {
    const clock = scripted();
    const backoff = new FailureBackoff(30_000, 900_000);
    const started: Array<[string, number]> = [];
    const q = new ExtractionQueue<string>({
      maxQueue: 2,
      minDelayMs: 0,
      notBefore: () => backoff.notBefore,
      run: async (job) => {
        started.push([job, clock.at()]);
        backoff.failed(clock.at());
      },
      now: clock.now,
      sleep: clock.sleep,
    });
    // "a" starts at once (taken off the queue), "b" and "c" wait, "d" finds the queue full.
    expect(q.offer("a")).toBe(true);
    expect([q.offer("b"), q.offer("c"), q.offer("d")]).toEqual([true, true, false]);
    await q.idle();
    expect(started).toEqual([["a", 0], ["b", 30_000], ["c", 90_000]]);
  });

  it("drops waiting jobs when stopped", async () => {
    let release!: () => void;
    const ran: string[] = [];
    const q = new ExtractionQueue<string>({
      maxQueue: 10,
      minDelayMs: 0,
      notBefore: () => 0,
      run: (job) => {
        ran.push(job);
        return new Promise<void>((r) => (release = r));
      },
    });
    q.offer("a");
    q.offer("b");
    const stopped = q.stop();
    release();
    await stopped;
    expect(ran).toEqual(["a"]);
    expect(q.offer("c")).toBe(false);
  });
});
