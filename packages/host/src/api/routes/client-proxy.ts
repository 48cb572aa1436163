// `/proxy/{mxid}/_matrix/...` (maubot's client_proxy.py): a Matrix request made with a bot's
// access token, e.g. the web UI's avatar upload. Method, body, query (minus access_token) and
// headers (minus Host and the admin's Authorization) pass through; the answer is streamed back.
import { Readable } from "node:stream";
import type { Router } from "@koa/router";
import { ApiError } from "../../errors.js";
import { readRawBody } from "../body.js";
import type { RouteContext } from "../route-context.js";
import { isMxid } from "../validate.js";

const DROPPED_REQUEST_HEADERS = new Set(["host", "authorization", "connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", "expect"]);
// fetch() already decoded the body, so length and encoding of the original no longer apply.
const DROPPED_RESPONSE_HEADERS = new Set(["content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"]);

export function registerClientProxyRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  if (!deps.config.api_features.client_proxy) return;

  router.all("/proxy/:id/*path", async (ctx) => {
    const id = ctx.params.id!;
    const client = isMxid(id) ? deps.store.getClient(id) : undefined;
    if (!client) throw new ApiError("client_not_found", `Client ${id} not found`);
    const path = ctx.params.path ?? "";
    if (!path.startsWith("_matrix/")) throw new ApiError("resource_not_found", "Only /_matrix/ paths are proxied");
    const query = new URLSearchParams(ctx.querystring);
    query.delete("access_token");
    const base = client.homeserver.replace(/\/+$/, "");
    const target = new URL(`${base}/${path}`);
    // The path arrives decoded, so `_matrix/..%2F_synapse/...` would resolve outside /_matrix/.
    if (!target.pathname.startsWith(`${new URL(base).pathname.replace(/\/+$/, "")}/_matrix/`)) {
      throw new ApiError("resource_not_found", "Only /_matrix/ paths are proxied");
    }
    target.search = query.toString();
    const headers = new Headers();
    for (const [name, value] of Object.entries(ctx.headers)) {
      if (value === undefined || DROPPED_REQUEST_HEADERS.has(name)) continue;
      headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    headers.set("authorization", `Bearer ${client.access_token}`);
    if (!headers.has("x-forwarded-for")) headers.set("x-forwarded-for", ctx.ip);
    // Buffered, not streamed: Synapse's media upload insists on a Content-Length.
    const body = ["GET", "HEAD"].includes(ctx.method) ? undefined : await readRawBody(ctx, rc.limits.bundleBytes);
    let res: Response;
    try {
      res = await fetch(target, {
        method: ctx.method,
        headers,
        body,
        redirect: "manual",
      });
    } catch (err) {
      throw new ApiError("bad_client_connection_details", `Could not reach ${client.homeserver}: ${(err as Error).message}`);
    }
    ctx.status = res.status;
    res.headers.forEach((value, name) => {
      if (!DROPPED_RESPONSE_HEADERS.has(name)) ctx.set(name, value);
    });
    ctx.body = res.body ? Readable.fromWeb(res.body as import("node:stream/web").ReadableStream) : "";
  });
}
