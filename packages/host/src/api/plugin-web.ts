// Plugin web endpoints: `<plugin_base_path><instance id>/<path>` for any method goes to the
// instance's worker (InstanceSupervisor.handleWeb) and its answer comes back as is, a large body
// streamed from the worker. Request bodies are capped (limits.webBodyBytes), answers too (the
// supervisor's maxWebResponseBytes). No admin auth, as in maubot: the plugin decides who may call it.
import { Readable } from "node:stream";
import type { Middleware } from "koa";
import type { WebRequest } from "@botyard/sdk";
import { ApiError } from "../errors.js";
import { readRawBody } from "./body.js";
import type { RouteContext } from "./route-context.js";

/** Framing is the host's business; a plugin's values for these would corrupt the response. */
const HOP_BY_HOP = new Set(["connection", "content-length", "keep-alive", "transfer-encoding", "upgrade"]);

export function pluginWebMiddleware(rc: RouteContext): Middleware {
  const base = rc.deps.config.server.plugin_base_path;
  return async (ctx, next) => {
    if (!ctx.path.startsWith(base)) return next();
    const rest = ctx.path.slice(base.length);
    const slash = rest.indexOf("/");
    let id: string;
    try {
      id = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash)).toLowerCase();
    } catch {
      throw new ApiError("instance_not_found", "No such instance");
    }
    if (!id || !rc.deps.store.getInstance(id)) throw new ApiError("instance_not_found", "No such instance");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(ctx.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const request: WebRequest = {
      method: ctx.method,
      path: slash < 0 ? "/" : rest.slice(slash),
      query: ctx.querystring,
      headers,
      body: new Uint8Array(await readRawBody(ctx, rc.limits.webBodyBytes)),
    };
    const response = await rc.deps.supervisor.handleWeb(id, request);
    ctx.status = response.status;
    for (const [name, value] of Object.entries(response.headers)) {
      if (!HOP_BY_HOP.has(name.toLowerCase())) ctx.set(name, value);
    }
    const body = response.body;
    if (body instanceof Readable) {
      // Streamed from the worker a chunk at a time; the length lets the client tell a cut-off body.
      ctx.body = body;
      ctx.length = response.bytes;
    } else {
      ctx.body = body === undefined ? "" : typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    }
  };
}
