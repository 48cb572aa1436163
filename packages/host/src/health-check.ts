// `botyard health`: asks a running daemon's GET /health whether it answers, for the systemd
// health timer (packaging/systemd/botyard-health.service) and any other probe. A daemon whose
// event loop hangs still holds its port, so only a request that comes back proves it works.
// A few attempts a short while apart, so one slow answer (a bundle upload being unpacked, a
// long SQLite write) does not restart a healthy daemon.

/** Where a daemon on the example config's address answers. */
export const DEFAULT_HEALTH_URL = "http://127.0.0.1:29316/_matrix/maubot/v1/health";

export interface HealthCheckOptions {
  url: string;
  /** Tries before giving up (at least 1). */
  attempts: number;
  /** Pause between tries. */
  intervalMs: number;
  /** Bound on each request. */
  timeoutMs: number;
}

export interface HealthCheckResult {
  healthy: boolean;
  /** What the last attempt saw, for the journal: "200 ok" or why it failed. */
  detail: string;
  attemptsMade: number;
}

/** The answer must be 200 with `{"status": "ok"}`; anything else is a failed attempt. */
async function probeOnce(url: string, timeoutMs: number): Promise<{ healthy: boolean; detail: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
    // The answer is tiny; a larger one is not botyard's and is not read whole.
    const text = (await res.text()).slice(0, 1000);
    let status: unknown;
    try {
      status = (JSON.parse(text) as { status?: unknown }).status;
    } catch {
      status = undefined;
    }
    if (res.status === 200 && status === "ok") return { healthy: true, detail: "200 ok" };
    return { healthy: false, detail: `${res.status} ${JSON.stringify(text.slice(0, 200))}` };
  } catch (err) {
    // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, a timeout).
    const cause = err instanceof Error && err.cause instanceof Error ? (err.cause as NodeJS.ErrnoException).code : undefined;
    return { healthy: false, detail: cause ?? (err instanceof Error ? err.message : String(err)) };
  }
}

export async function checkHealth(options: HealthCheckOptions): Promise<HealthCheckResult> {
  let last = { healthy: false, detail: "not tried" };
  const attempts = Math.max(1, options.attempts);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    last = await probeOnce(options.url, options.timeoutMs);
    if (last.healthy) return { ...last, attemptsMade: attempt };
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  return { ...last, attemptsMade: attempts };
}
