import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HttpApiEvent, type HttpApiEventHandlerMap, type IRequestOpts, MatrixError, MatrixHttpApi, Method } from "matrix-js-sdk/lib/http-api/index.js";
import { TypedEventEmitter } from "matrix-js-sdk/lib/models/typed-event-emitter.js";
import { LongPoll } from "./long-poll.js";
import { botFetch, isSyncRequest, REQUEST_TIMEOUT_MS, SYNC_BUFFER_MS, SyncAnswer, syncDeadlineMs, withClearedLocalTimeouts } from "./sync-http.js";

/** An HTTP server on a free loopback port: its base URL, and a close that drops kept-alive sockets. */
async function serveOnLoopback(handler: http.RequestListener): Promise<{ base: string; close: () => void }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}

describe("botFetch", () => {
  const seen: Seen[] = [];
  let server: Awaited<ReturnType<typeof serveOnLoopback>>;
  let base: string;
  beforeAll(async () => {
    server = await serveOnLoopback((req, res) => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      const url = new URL(req.url ?? "/", "http://x");
      if (url.searchParams.get("status") === "302") {
        res.writeHead(302, { Location: "/_matrix/client/v3/sync?moved=1" }).end();
      } else if (url.searchParams.get("status") === "429") {
        res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "3" }).end(JSON.stringify({ errcode: "M_LIMIT_EXCEEDED" }));
      } else if (url.searchParams.get("slow")) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write('{"next_batch":');
      } else {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ next_batch: "s2", path: url.pathname }));
      }
    });
    base = server.base;
  });
  afterAll(() => server.close());

  const recorded: Array<[string, number, boolean] | ["429", string]> = [];
  const metrics = {
    syncRequest: (bot: string, seconds: number, ok: boolean) => void recorded.push([bot, seconds, ok]),
    rateLimited: (bot: string) => void recorded.push(["429", bot]),
  } as never;
  const f = botFetch("@bot:x", metrics);
  /** The SDK's own HTTP client, with botFetch as its fetch (as sdk-client.ts builds it). */
  const sdkHttpApi = () =>
    new MatrixHttpApi(new TypedEventEmitter<HttpApiEvent, HttpApiEventHandlerMap>(), {
      baseUrl: base,
      prefix: "/_matrix/client/v3",
      onlyData: true,
      accessToken: "t",
      fetchFn: botFetch("@bot:x"),
    });

  it("takes only a GET of /sync over node:http", () => {
    expect(isSyncRequest(new URL(`${base}/_matrix/client/v3/sync?since=s1`))).toBe(true);
    expect(isSyncRequest(new URL(`${base}/_matrix/client/v3/sync`), { method: "POST", body: "{}" })).toBe(false);
    expect(isSyncRequest(new URL(`${base}/_matrix/client/v3/sync/extra`))).toBe(false);
    expect(isSyncRequest(new URL(`${base}/_matrix/client/v3/account/whoami`))).toBe(false);
  });

  it("answers a Response the SDK reads as fetch's, and times the /sync", async () => {
    recorded.length = 0;
    const res = await f(`${base}/_matrix/client/v3/sync?since=s1`, { method: "GET", headers: { Authorization: "Bearer t", Accept: "application/json" } });
    expect(res.ok).toBe(true);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ next_batch: "s2", path: "/_matrix/client/v3/sync" });
    const last = seen.at(-1)!;
    expect(last.headers.authorization).toBe("Bearer t");
    // fetch sends sec-fetch-mode; node:http does not: this one went over node:http.
    expect(last.headers["sec-fetch-mode"]).toBeUndefined();
    expect(recorded).toEqual([["@bot:x", expect.any(Number), true]]);

    await f(`${base}/_matrix/client/v3/account/whoami`, { method: "GET" });
    expect(seen.at(-1)!.headers["sec-fetch-mode"]).toBe("cors");
  });

  it("answers a success with its body once, as a Response does", async () => {
    const url = `${base}/_matrix/client/v3/sync?since=s1`;
    const res = await f(new URL(url), { method: "GET" });
    expect(res).toBeInstanceOf(SyncAnswer);
    expect([res.status, res.url, res.bodyUsed]).toEqual([200, url, false]);
    const blob = await res.blob();
    expect(blob.type).toBe("application/json");
    expect(JSON.parse(await blob.text())).toMatchObject({ next_batch: "s2" });
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow(TypeError);
    const bytes = new Uint8Array(await (await f(url, { method: "GET" })).arrayBuffer());
    expect(JSON.parse(Buffer.from(bytes).toString("utf8"))).toMatchObject({ next_batch: "s2" });
  });

  it("serves the SDK's own HTTP client: a /sync's JSON, and a MatrixError with its headers", async () => {
    const api = sdkHttpApi();
    expect(await api.authedRequest(Method.Get, "/sync", { since: "s1", timeout: "30000" })).toEqual({ next_batch: "s2", path: "/_matrix/client/v3/sync" });
    expect(seen.at(-1)!.headers["sec-fetch-mode"]).toBeUndefined();
    const failed = await api.authedRequest(Method.Get, "/sync", { status: "429" }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(MatrixError);
    expect((failed as MatrixError).errcode).toBe("M_LIMIT_EXCEEDED");
    expect((failed as MatrixError).getRetryAfterMs()).toBe(3000);
  });

  it("gives a /sync up to its long-poll timeout plus the SDK's buffer, then aborts it as the SDK did", async () => {
    expect(syncDeadlineMs(new URL(`${base}/_matrix/client/v3/sync?timeout=30000`))).toBe(30_000 + SYNC_BUFFER_MS);
    expect(syncDeadlineMs(new URL(`${base}/_matrix/client/v3/sync`))).toBe(SYNC_BUFFER_MS);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const pending = f(`${base}/_matrix/client/v3/sync?slow=3&timeout=1000`, { method: "GET" });
      const settled = pending.catch((err: unknown) => err);
      // Only setTimeout is faked: let the request reach the server (bounded, on setImmediate).
      for (let i = 0; i < 1_000 && !seen.at(-1)?.url.includes("slow=3"); i++) await new Promise((r) => setImmediate(r));
      expect(seen.at(-1)!.url).toContain("slow=3");
      vi.advanceTimersByTime(1_000 + SYNC_BUFFER_MS - 1);
      expect(vi.getTimerCount()).toBe(1);
      vi.advanceTimersByTime(1);
      expect(await settled).toMatchObject({ name: "AbortError" });
      // Given up for good: not sent again as a reset of a kept-alive socket would be.
      for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
      expect(seen.filter((s) => s.url.includes("slow=3"))).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it("leaves the SDK no local-timeout timer for a /sync, and keeps its 60 s one for other requests", async () => {
    const api = sdkHttpApi();
    withClearedLocalTimeouts(api);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      // As SyncApi.doSyncRequest asks: the long poll plus 80 s. Unpatched, each leaves a timer.
      const sync = () => api.authedRequest(Method.Get, "/sync", { since: "s1", timeout: "30000" }, undefined, { localTimeoutMs: 110_000 } as IRequestOpts);
      await sync(); // the connection, and whatever opening it schedules
      const timers = vi.getTimerCount();
      await sync();
      await sync();
      expect(vi.getTimerCount()).toBe(timers);
      await api.authedRequest(Method.Get, "/account/whoami");
      expect(vi.getTimerCount()).toBe(timers + 1);
      vi.advanceTimersByTime(REQUEST_TIMEOUT_MS);
      expect(vi.getTimerCount()).toBe(timers);
    } finally {
      vi.useRealTimers();
    }
  });

  it("gives an error answer with its status and headers, and counts a 429", async () => {
    recorded.length = 0;
    const res = await f(`${base}/_matrix/client/v3/sync?status=429`, { method: "GET" });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(await res.text()).toContain("M_LIMIT_EXCEEDED");
    expect(recorded).toEqual([["@bot:x", expect.any(Number), false], ["429", "@bot:x"]]);
  });

  it("follows a redirect as fetch does", async () => {
    const res = await f(`${base}/_matrix/client/v3/sync?status=302`, { method: "GET" });
    expect(await res.json()).toMatchObject({ next_batch: "s2" });
    expect(seen.at(-1)!.url).toBe("/_matrix/client/v3/sync?moved=1");
  });

  it("rejects with the signal's reason when aborted, before or during the answer", async () => {
    const stopped = new AbortController();
    const pending = f(`${base}/_matrix/client/v3/sync?slow=1`, { method: "GET", signal: stopped.signal });
    await new Promise((r) => setTimeout(r, 50));
    stopped.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    await expect(f(`${base}/_matrix/client/v3/sync`, { method: "GET", signal: AbortSignal.abort(new Error("gone")) })).rejects.toThrow("gone");
    await expect(f(`${base}/_matrix/client/v3/sync?slow=2`, { method: "GET", signal: AbortSignal.timeout(50) })).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("rejects a connection error as fetch does (a TypeError with the cause)", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(f(`http://127.0.0.1:${port}/_matrix/client/v3/sync`, { method: "GET" })).rejects.toMatchObject({
      name: "TypeError",
      cause: { code: "ECONNREFUSED" },
    });
  });
});

describe("botFetch behind a proxy that gives up on long waits", () => {
  // A gateway with a 150 ms read timeout in front of a homeserver that holds each /sync for its
  // timeout (capped at 400 ms here): a wait over 150 ms gets a 504 at 150 ms.
  const waits: string[] = [];
  let gateway: Awaited<ReturnType<typeof serveOnLoopback>>;
  let base: string;
  beforeAll(async () => {
    gateway = await serveOnLoopback((req, res) => {
      const timeout = Number(new URL(req.url ?? "/", "http://x").searchParams.get("timeout") ?? 0);
      waits.push(String(timeout));
      const answer = timeout > 150 ? () => res.writeHead(504).end("<html>504 Gateway Time-out</html>") : () => res.writeHead(200, { "Content-Type": "application/json" }).end('{"next_batch":"s2"}');
      setTimeout(answer, Math.min(timeout, 150));
    });
    base = `${gateway.base}/_matrix/client/v3/sync`;
  });
  afterAll(() => gateway.close());

  it("asks a cut wait again at once for the fallback, and keeps to it", async () => {
    waits.length = 0;
    const recorded: boolean[] = [];
    const metrics = { syncRequest: (_bot: string, _s: number, ok: boolean) => void recorded.push(ok), rateLimited: () => {} } as never;
    const f = botFetch("@bot:x", metrics, new LongPoll({ waitMs: 400, fallbackMs: 100 }));
    const first = await f(`${base}?since=s1&timeout=400`, { method: "GET" });
    expect([first.status, await first.json()]).toEqual([200, { next_batch: "s2" }]);
    expect(waits).toEqual(["400", "100"]);
    expect(recorded).toEqual([false, true]);
    await f(`${base}?since=s2&timeout=400`, { method: "GET" });
    await f(`${base}?since=s2&timeout=0`, { method: "GET" });
    expect(waits).toEqual(["400", "100", "100", "0"]);
  });

  it("hands the SDK a 504 that came sooner than the fallback's time, and one with no LongPoll", async () => {
    waits.length = 0;
    const early = await botFetch("@bot:x", undefined, new LongPoll({ waitMs: 400, fallbackMs: 300 }))(`${base}?timeout=400`, { method: "GET" });
    expect(early.status).toBe(504);
    const without = await botFetch("@bot:x")(`${base}?timeout=400`, { method: "GET" });
    expect(without.status).toBe(504);
    expect(waits).toEqual(["400", "400"]);
  });
});

describe("botFetch behind the environment's proxy (NODE_USE_ENV_PROXY=1)", () => {
  it("sends /sync through the proxy, as fetch sends the rest", async () => {
    const target = http.createServer((_req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end('{"next_batch":"s9"}'));
    const proxied: string[] = [];
    // A forward proxy for plain HTTP: the request line carries the absolute URL.
    const proxy = http.createServer((req, res) => {
      proxied.push(req.url ?? "");
      const upstream = http.request(req.url ?? "", { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    await Promise.all([target, proxy].map((s) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))));
    const port = (s: http.Server) => (s.address() as AddressInfo).port;
    vi.stubEnv("NODE_USE_ENV_PROXY", "1");
    vi.stubEnv("HTTP_PROXY", `http://127.0.0.1:${port(proxy)}`);
    vi.stubEnv("NO_PROXY", "");
    vi.resetModules();
    try {
      const { botFetch: viaProxy } = await import("./sync-http.js");
      const res = await viaProxy("@bot:x")(`http://127.0.0.1:${port(target)}/_matrix/client/v3/sync?since=s1`, { method: "GET" });
      expect(await res.json()).toEqual({ next_batch: "s9" });
      expect(proxied).toEqual([`http://127.0.0.1:${port(target)}/_matrix/client/v3/sync?since=s1`]);
    } finally {
      vi.unstubAllEnvs();
      for (const s of [target, proxy]) {
        s.closeAllConnections();
        s.close();
      }
    }
  });
});
