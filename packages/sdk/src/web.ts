// The instance's web endpoints (maubot's `@web.get(...)`): routes with `:name` parameters and a
// trailing `*`, matched against the path below `<plugin_base_path><instance id>`.

import type { WebRequest, WebResponse } from "./contract.js";

export interface PluginWebRequest extends WebRequest {
  /** `:name` segments of the route, URI-decoded; `*` holds the rest of the path. */
  params: Record<string, string>;
  searchParams: URLSearchParams;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON; throws a 400 `WebError` when it is not JSON. */
  json<T = unknown>(): T;
}

export type WebHandler = (req: PluginWebRequest) => WebResponse | Promise<WebResponse>;

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS";

/** Throw from a handler to answer with `status` and a JSON `{ error }` body. */
export class WebError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "WebError";
    this.status = status;
  }
}

export function jsonResponse(data: unknown, status = 200, headers: Record<string, string> = {}): WebResponse {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(data) };
}

export function textResponse(text: string, status = 200, headers: Record<string, string> = {}): WebResponse {
  return { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers }, body: text };
}

interface Route {
  method: HttpMethod;
  pattern: string;
  segments: string[];
  handler: WebHandler;
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function matchRoute(route: Route, parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const seg = route.segments[i]!;
    if (seg === "*") {
      params["*"] = parts.slice(i).map(safeDecode).join("/");
      return params;
    }
    const part = parts[i];
    if (part === undefined) return null;
    if (seg.startsWith(":")) {
      params[seg.slice(1)] = safeDecode(part);
    } else if (seg !== part) {
      return null;
    }
  }
  return parts.length === route.segments.length ? params : null;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export class WebRouter {
  #routes: Route[] = [];

  add(method: HttpMethod, pattern: string, handler: WebHandler): void {
    if (!pattern.startsWith("/")) throw new Error(`web route ${pattern} must start with "/"`);
    const segments = splitPath(pattern);
    const star = segments.indexOf("*");
    if (star !== -1 && star !== segments.length - 1) throw new Error(`web route ${pattern}: "*" must be the last segment`);
    this.#routes.push({ method, pattern, segments, handler });
  }

  get(path: string, handler: WebHandler): void {
    this.add("GET", path, handler);
  }
  post(path: string, handler: WebHandler): void {
    this.add("POST", path, handler);
  }
  put(path: string, handler: WebHandler): void {
    this.add("PUT", path, handler);
  }
  patch(path: string, handler: WebHandler): void {
    this.add("PATCH", path, handler);
  }
  delete(path: string, handler: WebHandler): void {
    this.add("DELETE", path, handler);
  }

  clear(): void {
    this.#routes = [];
  }

  get size(): number {
    return this.#routes.length;
  }

  /**
   * The handler for a request and its params; "method" when the path exists under other
   * methods (405), null when nothing matches (404). HEAD falls back to GET.
   */
  find(method: string, path: string): { handler: WebHandler; params: Record<string, string> } | { allowed: string[] } | null {
    const parts = splitPath(path);
    const wanted = method.toUpperCase();
    const allowed = new Set<string>();
    let fallback: { handler: WebHandler; params: Record<string, string> } | null = null;
    for (const route of this.#routes) {
      const params = matchRoute(route, parts);
      if (!params) continue;
      if (route.method === wanted) return { handler: route.handler, params };
      if (wanted === "HEAD" && route.method === "GET" && !fallback) fallback = { handler: route.handler, params };
      allowed.add(route.method);
    }
    if (fallback) return fallback;
    return allowed.size > 0 ? { allowed: [...allowed].sort() } : null;
  }

  /** Answers one request; a throwing handler becomes a 500 (or the WebError's status), reported through `onError`. */
  async handle(req: WebRequest, onError: (err: unknown, route: string) => void): Promise<WebResponse> {
    const found = this.find(req.method, req.path);
    if (!found) return jsonResponse({ error: "Not found" }, 404);
    if ("allowed" in found) return jsonResponse({ error: "Method not allowed" }, 405, { allow: found.allowed.join(", ") });
    const request: PluginWebRequest = {
      ...req,
      params: found.params,
      searchParams: new URLSearchParams(req.query),
      text: () => new TextDecoder().decode(req.body),
      json: <T>() => {
        try {
          return JSON.parse(new TextDecoder().decode(req.body)) as T;
        } catch {
          throw new WebError(400, "Request body is not valid JSON");
        }
      },
    };
    try {
      const response = await found.handler(request);
      if (req.method.toUpperCase() === "HEAD") return { status: response.status, headers: response.headers ?? {} };
      return response;
    } catch (err) {
      if (err instanceof WebError) return jsonResponse({ error: err.message }, err.status);
      onError(err, `${req.method} ${req.path}`);
      return jsonResponse({ error: "Internal server error" }, 500);
    }
  }
}
