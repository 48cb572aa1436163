// Retry rules for calls to a homeserver: `M_LIMIT_EXCEEDED` waits what the server asks
// (`retry_after_ms`), an unreachable server is retried with exponential backoff until a deadline.
// Every other error is the caller's to handle.
import { ConnectionError, MatrixError } from "matrix-js-sdk/lib/http-api/index.js";

export interface RetryPolicy {
  /** Give up on an unreachable homeserver after this long (ms). */
  connectionDeadlineMs: number;
  /** Most rate-limit waits before giving up. */
  maxRateLimitRetries: number;
  /** Longest single wait (ms), whatever the server asks. */
  maxWaitMs: number;
  /** Aborts waiting (e.g. the client is stopping). */
  signal?: AbortSignal;
  /** Told of each rate-limit answer that is waited out (metrics). */
  onRateLimited?: () => void;
}

export const DEFAULT_RETRY: RetryPolicy = { connectionDeadlineMs: 60_000, maxRateLimitRetries: 8, maxWaitMs: 60_000 };

export function isRateLimited(err: unknown): err is MatrixError {
  return err instanceof MatrixError && err.errcode === "M_LIMIT_EXCEEDED";
}

/** Network failure: the homeserver did not answer (or answered with a proxy/5xx gateway error). */
export function isUnreachable(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  if (err instanceof MatrixError) return err.httpStatus === 502 || err.httpStatus === 503 || err.httpStatus === 504;
  return err instanceof TypeError && /fetch failed/i.test(err.message);
}

export function isUnknownToken(err: unknown): err is MatrixError {
  return err instanceof MatrixError && err.errcode === "M_UNKNOWN_TOKEN";
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs `fn` until it succeeds or fails with an error that retrying cannot fix. */
export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  const started = Date.now();
  let rateLimitRetries = 0;
  let backoff = 500;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (isRateLimited(err) && rateLimitRetries < policy.maxRateLimitRetries) {
        rateLimitRetries++;
        policy.onRateLimited?.();
        const asked = err.getRetryAfterMs() ?? backoff;
        await sleep(Math.min(Math.max(asked, 0), policy.maxWaitMs), policy.signal);
        continue;
      }
      if (isUnreachable(err) && Date.now() - started + backoff <= policy.connectionDeadlineMs) {
        await sleep(backoff, policy.signal);
        backoff = Math.min(backoff * 2, 10_000);
        continue;
      }
      throw err;
    }
  }
}
