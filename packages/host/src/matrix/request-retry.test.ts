import { describe, expect, it } from "vitest";
import { ConnectionError, MatrixError } from "matrix-js-sdk";
import { withRetry } from "./request-retry.js";

const policy = { connectionDeadlineMs: 5_000, maxRateLimitRetries: 3, maxWaitMs: 1_000 };

describe("withRetry", () => {
  it("waits retry_after_ms on M_LIMIT_EXCEEDED, then succeeds", async () => {
    let calls = 0;
    const result = await withRetry(async () => {
      if (++calls < 3) throw new MatrixError({ errcode: "M_LIMIT_EXCEEDED", error: "Too many requests", retry_after_ms: 50 }, 429);
      return "sent";
    }, policy);
    expect(result).toBe("sent");
    expect(calls).toBe(3);
  });

  it("gives up after the allowed number of rate-limit waits", async () => {
    let calls = 0;
    const err = await withRetry(async () => {
      calls++;
      throw new MatrixError({ errcode: "M_LIMIT_EXCEEDED", error: "slow down", retry_after_ms: 1 }, 429);
    }, policy).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MatrixError);
    expect(calls).toBe(4);
  });

  it("retries an unreachable homeserver, and never retries other Matrix errors", async () => {
    let calls = 0;
    expect(
      await withRetry(async () => {
        if (++calls < 2) throw new ConnectionError("fetch failed");
        return "ok";
      }, policy),
    ).toBe("ok");
    let forbidden = 0;
    await expect(
      withRetry(async () => {
        forbidden++;
        throw new MatrixError({ errcode: "M_FORBIDDEN", error: "no" }, 403);
      }, policy),
    ).rejects.toThrow(/no/);
    expect(forbidden).toBe(1);
  });

  it("stops waiting when aborted", async () => {
    const abort = new AbortController();
    const pending = withRetry(async () => {
      throw new MatrixError({ errcode: "M_LIMIT_EXCEEDED", error: "x", retry_after_ms: 60_000 }, 429);
    }, { ...policy, maxWaitMs: 60_000, signal: abort.signal });
    abort.abort(new Error("client stopped"));
    await expect(pending).rejects.toThrow(/client stopped/);
  });
});
