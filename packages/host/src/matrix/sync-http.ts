// The fetch every bot's SDK client uses. The long poll each bot keeps open (GET /sync, every 30 s
// when idle) goes over node:http(s) with a keep-alive agent; everything else goes to Node's fetch.
//
// Why: fetch (undici) parses HTTP with llhttp compiled to WebAssembly, which the daemon runs
// unoptimised (--liftoff-only, runtime-flags.ts), and wraps each answer in WHATWG streams;
// node:http parses natively. Measured with bench/lean.mjs' method on this machine, a /sync round
// trip costs about half the client CPU; with hundreds of idle accounts that is most of the idle
// CPU that is not the homeserver's (issue 18). The answer is a real Response, so the SDK reads it
// as it reads fetch's; what fetch does that a /sync needs (abort with the signal's reason,
// following a redirect) is kept.
import http from "node:http";
import https from "node:https";
import type { BotMetricsRecorder } from "../metrics/recorder.js";

const SYNC_PATH = /^\/_matrix\/client\/[^/]+\/sync$/;
const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

/**
 * Node gives fetch the environment's proxy under NODE_USE_ENV_PROXY=1 / --use-env-proxy, but a
 * custom agent only when asked (proxyEnv); /sync goes the way every other request goes.
 */
function agentOptions(): http.AgentOptions {
  const envProxy = process.env.NODE_USE_ENV_PROXY === "1" || process.execArgv.includes("--use-env-proxy");
  return { keepAlive: true, ...(envProxy ? { proxyEnv: process.env } : {}) };
}

let agents: { "http:": http.Agent; "https:": https.Agent } | null = null;
const agentFor = (protocol: "http:" | "https:") => (agents ??= { "http:": new http.Agent(agentOptions()), "https:": new https.Agent(agentOptions()) })[protocol];

function urlOf(input: string | URL | Request): URL | null {
  try {
    return new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
  } catch {
    return null;
  }
}

/** A GET of /sync with no body: what goes over node:http. */
export function isSyncRequest(url: URL | null, init?: RequestInit): url is URL {
  return !!url && (url.protocol === "http:" || url.protocol === "https:") && SYNC_PATH.test(url.pathname) && (init?.method ?? "GET") === "GET" && init?.body == null;
}

function plainHeaders(headers: RequestInit["headers"]): Record<string, string> {
  if (!headers) return {};
  if (headers instanceof Headers || Array.isArray(headers)) return Object.fromEntries(headers as Iterable<[string, string]>);
  return headers as Record<string, string>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** One GET over node:http(s); rejects as fetch does (the signal's reason, or a TypeError). */
function get(url: URL, init: RequestInit, retryReset: boolean): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : http;
    const req = transport.request(url, { method: "GET", headers: plainHeaders(init.headers), agent: agentFor(url.protocol as "http:" | "https:") });
    const onAbort = () => {
      req.destroy();
      reject(abortReason(signal as AbortSignal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const settle = () => signal?.removeEventListener("abort", onAbort);
    req.on("error", (err: NodeJS.ErrnoException) => {
      settle();
      if (signal?.aborted) return;
      // A kept-alive socket the server had just closed: the request never reached it; once more.
      if (retryReset && req.reusedSocket && err.code === "ECONNRESET") get(url, init, false).then(resolve, reject);
      else reject(new TypeError("fetch failed", { cause: err }));
    });
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        settle();
        fetch(url, init).then(resolve, reject);
        return;
      }
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (err) => {
        settle();
        if (!signal?.aborted) reject(new TypeError("fetch failed", { cause: err }));
      });
      res.on("end", () => {
        settle();
        const headers: Array<[string, string]> = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
        const body = NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, statusText: res.statusMessage ?? "", headers }));
      });
    });
    req.end();
  });
}

/**
 * The SDK client's fetchFn: /sync over node:http, timed for the metrics (and its 429 answers
 * counted) when a recorder is given; other requests go to fetch untouched.
 */
export function botFetch(bot: string, metrics?: BotMetricsRecorder): typeof fetch {
  return async (input, init) => {
    const url = urlOf(input);
    if (!isSyncRequest(url, init)) return fetch(input, init);
    const started = performance.now();
    try {
      const res = await get(url, init ?? {}, true);
      metrics?.syncRequest(bot, (performance.now() - started) / 1000, res.ok);
      if (res.status === 429) metrics?.rateLimited(bot);
      return res;
    } catch (err) {
      metrics?.syncRequest(bot, (performance.now() - started) / 1000, false);
      throw err;
    }
  };
}
