// `this.http`: fetch with a timeout covering the whole exchange (headers and body) and a cap on
// the body size, so a slow or huge answer from a third-party server cannot stall or bloat an
// instance. The body is read before the call resolves.

export interface HttpOptions {
  /** Whole request, body included (default 10 s). */
  timeoutMs?: number;
  /** Largest body accepted, in bytes (default 5 MiB). */
  maxBytes?: number;
}

export interface HttpRequest extends HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Aborts the request early (e.g. on stop). */
  signal?: AbortSignal;
  redirect?: "follow" | "error" | "manual";
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  /** URL after redirects. */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Uint8Array;
  text(): string;
  /** Parses the body as JSON; throws HttpError when it is not JSON. */
  json<T = unknown>(): T;
}

export type HttpErrorKind = "timeout" | "too_large" | "network" | "aborted" | "bad_json";

export class HttpError extends Error {
  readonly kind: HttpErrorKind;
  readonly url: string;
  constructor(kind: HttpErrorKind, url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HttpError";
    this.kind = kind;
    this.url = url;
  }
}

export type FetchFn = typeof globalThis.fetch;

export interface HttpClientOptions extends HttpOptions {
  /** User-Agent sent unless a request sets one. */
  userAgent?: string;
  /** The fetch implementation (tests may pass their own). */
  fetch?: FetchFn;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;

export class HttpClient {
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #userAgent: string | undefined;
  readonly #fetch: FetchFn;
  readonly #stop = new AbortController();

  constructor(options: HttpClientOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#userAgent = options.userAgent;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async fetch(url: string | URL, request: HttpRequest = {}): Promise<HttpResponse> {
    const href = String(url);
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    const maxBytes = request.maxBytes ?? this.#maxBytes;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = [timeout, this.#stop.signal];
    if (request.signal) signals.push(request.signal);
    const signal = AbortSignal.any(signals);
    const headers: Record<string, string> = { ...request.headers };
    if (this.#userAgent && !Object.keys(headers).some((h) => h.toLowerCase() === "user-agent")) headers["user-agent"] = this.#userAgent;

    const failure = (err: unknown): HttpError => {
      if (timeout.aborted) return new HttpError("timeout", href, `${href}: no complete answer within ${timeoutMs} ms`, { cause: err });
      if (signal.aborted) return new HttpError("aborted", href, `${href}: request aborted`, { cause: err });
      if (err instanceof HttpError) return err;
      const why = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
      return new HttpError("network", href, `${href}: ${why}`, { cause: err });
    };

    let response: Response;
    try {
      const init: RequestInit = { method: request.method ?? "GET", headers, signal, redirect: request.redirect ?? "follow" };
      if (request.body !== undefined) init.body = request.body as RequestInit["body"];
      response = await this.#fetch(href, init);
    } catch (err) {
      throw failure(err);
    }
    let body: Uint8Array;
    try {
      body = await readCapped(response, maxBytes, href);
    } catch (err) {
      throw failure(err);
    }
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      responseHeaders[key.toLowerCase()] = value;
    });
    const finalUrl = response.url || href;
    return {
      status: response.status,
      ok: response.ok,
      url: finalUrl,
      headers: responseHeaders,
      body,
      text: () => new TextDecoder().decode(body),
      json: <T>() => {
        try {
          return JSON.parse(new TextDecoder().decode(body)) as T;
        } catch (err) {
          throw new HttpError("bad_json", finalUrl, `${finalUrl}: answer is not JSON`, { cause: err });
        }
      },
    };
  }

  /** GET and parse JSON; throws HttpError on a non-2xx status too. */
  async getJson<T = unknown>(url: string | URL, options: Omit<HttpRequest, "method" | "body"> = {}): Promise<T> {
    const res = await this.fetch(url, { ...options, headers: { accept: "application/json", ...options.headers } });
    if (!res.ok) throw new HttpError("network", res.url, `${res.url}: HTTP ${res.status}`);
    return res.json<T>();
  }

  /** Aborts every request in flight; later requests fail at once. Called when the instance stops. */
  abortAll(): void {
    this.#stop.abort();
  }
}

async function readCapped(response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new HttpError("too_large", url, `${url}: body of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new HttpError("too_large", url, `${url}: body is over the ${maxBytes}-byte limit`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}
