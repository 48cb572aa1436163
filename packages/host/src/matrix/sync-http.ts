// The fetch every bot's SDK client uses. The long poll each bot keeps open (GET /sync, one per
// wait when idle: long-poll.ts) goes over node:http(s) with a keep-alive agent; everything else
// goes to Node's fetch.
//
// Why: fetch (undici) parses HTTP with llhttp compiled to WebAssembly, which the daemon runs
// unoptimised (--liftoff-only, runtime-flags.ts), and wraps each answer in WHATWG streams;
// node:http parses natively. Measured with bench/lean.mjs' method on this machine, a /sync round
// trip costs about half the client CPU; with hundreds of idle accounts that is most of the idle
// CPU that is not the homeserver's (issue 18). What fetch does that a /sync needs (abort with the
// signal's reason, following a redirect) is kept. A successful answer is a SyncAnswer (below);
// any other is a real Response, so errors read exactly as fetch's.
import http from "node:http";
import https from "node:https";
import type { IHttpOpts, MatrixHttpApi } from "matrix-js-sdk/lib/http-api/index.js";
import type { BotMetricsRecorder } from "../metrics/recorder.js";
import { askedTimeoutMs, type LongPoll } from "./long-poll.js";

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
  // The SDK passes a URL it built for this request and does not touch again.
  if (input instanceof URL) return input;
  try {
    return new URL(typeof input === "string" ? input : input.url);
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

/** node:http's raw header list (name, value, name, value, ...) as pairs. */
function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/**
 * A 2xx /sync answer, holding its body in one buffer. matrix-js-sdk (http-api/fetch.js) reads a
 * successful answer's `ok`, `status` and body (json, or text/blob); a real Response wraps the body
 * in a WHATWG stream and validates every header on construction: about a fifth of what an idle
 * /sync allocated (sampling heap profiler), and GC is about half of the idle CPU of hundreds of
 * accounts (issue 18). The headers become a real Headers only when read.
 */
export class SyncAnswer {
  readonly ok = true;
  readonly redirected = false;
  readonly type = "basic";
  #body: Buffer | null;
  #headers: Headers | null = null;

  constructor(
    readonly status: number,
    readonly statusText: string,
    private readonly rawHeaders: readonly string[],
    body: Buffer,
    readonly url: string,
  ) {
    this.#body = body;
  }

  get headers(): Headers {
    return (this.#headers ??= new Headers(headerPairs(this.rawHeaders)));
  }

  get bodyUsed(): boolean {
    return this.#body === null;
  }

  /** The body, once, as a Response gives it. */
  #take(): Buffer {
    const body = this.#body;
    if (!body) throw new TypeError("Body is unusable: Body has already been read");
    this.#body = null;
    return body;
  }

  async text(): Promise<string> {
    return this.#take().toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(this.#take().toString("utf8"));
  }

  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(this.#take());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return (await this.bytes()).buffer as ArrayBuffer;
  }

  async blob(): Promise<Blob> {
    return new Blob([this.#take()], { type: this.headers.get("content-type") ?? "" });
  }
}

/** What matrix-js-sdk allows a /sync beyond its long-poll timeout (sync.js BUFFER_PERIOD_MS). */
export const SYNC_BUFFER_MS = 80_000;

/**
 * A /sync's local timeout: its long-poll `timeout` plus the SDK's buffer, as SyncApi sets it. The
 * SDK's own timer for it is left out (see withClearedLocalTimeouts); this one is cleared.
 */
export function syncDeadlineMs(url: URL): number {
  return askedTimeoutMs(url) + SYNC_BUFFER_MS;
}

/** One GET over node:http(s); rejects as fetch does (the signal's reason, or a TypeError). */
function get(url: URL, init: RequestInit, retryReset: boolean): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : http;
    const req = transport.request(url, { method: "GET", headers: plainHeaders(init.headers), agent: agentFor(url.protocol as "http:" | "https:") });
    // Aborted or past its deadline: the request ends here, and its reset is not retried below.
    let gaveUp = false;
    const giveUp = (reason: unknown) => {
      gaveUp = true;
      req.destroy();
      reject(reason);
    };
    const onAbort = () => giveUp(abortReason(signal as AbortSignal));
    signal?.addEventListener("abort", onAbort, { once: true });
    // The SDK's local timeout fired as an abort with the default reason (AbortError): so does this.
    const deadline = setTimeout(() => giveUp(new DOMException("This operation was aborted", "AbortError")), syncDeadlineMs(url));
    const settle = () => {
      clearTimeout(deadline);
      signal?.removeEventListener("abort", onAbort);
    };
    req.on("error", (err: NodeJS.ErrnoException) => {
      settle();
      if (gaveUp) return;
      // A kept-alive socket the server had just closed: the request never reached it; once more.
      if (retryReset && req.reusedSocket && err.code === "ECONNRESET") get(url, init, false).then(resolve, reject);
      else reject(new TypeError("fetch failed", { cause: err }));
    });
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        settle();
        const timeout = AbortSignal.timeout(syncDeadlineMs(url));
        fetch(url, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout }).then(resolve, reject);
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
        const statusText = res.statusMessage ?? "";
        if (status >= 200 && status < 300 && !NULL_BODY_STATUS.has(status)) {
          // The SDK reads a successful answer as it reads a Response (see SyncAnswer).
          resolve(new SyncAnswer(status, statusText, res.rawHeaders, Buffer.concat(chunks), url.href) as unknown as Response);
          return;
        }
        const body = NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks);
        resolve(new Response(body, { status, statusText, headers: headerPairs(res.rawHeaders) }));
      });
    });
    req.end();
  });
}

/**
 * The SDK client's fetchFn: /sync over node:http, timed for the metrics (and its 429 answers
 * counted) when a recorder is given; other requests go to fetch untouched. With a LongPoll, a
 * /sync asks its wait, and one a proxy cut is asked again at once for the shorter fallback.
 */
export function botFetch(bot: string, metrics?: BotMetricsRecorder, longPoll?: LongPoll): typeof fetch {
  const send = async (url: URL, init: RequestInit): Promise<Response> => {
    const started = performance.now();
    try {
      const res = await get(url, init, true);
      const elapsed = performance.now() - started;
      metrics?.syncRequest(bot, elapsed / 1000, res.ok);
      if (res.status === 429) metrics?.rateLimited(bot);
      if (!res.ok && longPoll?.cutShort(url, elapsed, res.status)) return send(longPoll.urlFor(url), init);
      return res;
    } catch (err) {
      metrics?.syncRequest(bot, (performance.now() - started) / 1000, false);
      throw err;
    }
  };
  return async (input, init) => {
    const url = urlOf(input);
    if (!isSyncRequest(url, init)) return fetch(input, init);
    return send(longPoll ? longPoll.urlFor(url) : url, init ?? {});
  };
}

/** The default local timeout of every other request (the SDK has none of its own). */
export const REQUEST_TIMEOUT_MS = 60_000;

type RequestOtherUrl = MatrixHttpApi<IHttpOpts & { onlyData: true }>["requestOtherUrl"];

/**
 * matrix-js-sdk arms a timer for a request's local timeout (http-api/utils.js timeoutSignal) and
 * never clears it. A /sync asks for 110 s, so every idle account kept about four timers alive,
 * each holding an AbortController until it fired and made a DOMException: old-generation garbage
 * at the sync rate, which the major GC of hundreds of idle accounts pays for (issue 18). A GET of /sync
 * goes to botFetch without the SDK's timer, and botFetch keeps its deadline (syncDeadlineMs) with
 * a timer it clears; every other request keeps the SDK's own, by default REQUEST_TIMEOUT_MS.
 */
export function withClearedLocalTimeouts(api: MatrixHttpApi<IHttpOpts & { onlyData: true }>): void {
  const requestOtherUrl = api.requestOtherUrl.bind(api) as (...args: Parameters<RequestOtherUrl>) => ReturnType<RequestOtherUrl>;
  api.requestOtherUrl = ((method, url, body, opts) => {
    const sync = body == null && isSyncRequest(urlOf(url), { method });
    return requestOtherUrl(method, url, body, { ...opts, localTimeoutMs: sync ? undefined : (opts?.localTimeoutMs ?? REQUEST_TIMEOUT_MS) } as typeof opts);
  }) as RequestOtherUrl;
}
