// GET <metrics.path> on the management listener: the Prometheus text format, never open by
// accident. A scrape authenticates with an admin token or with `metrics.secret` as its bearer.
import type { Middleware } from "koa";
import { sameSecret } from "../metrics/metrics-server.js";
import type { ApiMetricsRecorder } from "../metrics/recorder.js";
import { ApiError } from "../errors.js";
import { requestToken, type TokenIssuer } from "./tokens.js";

/** What serves the exposition (HostMetrics). */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

export function metricsRoute(path: string, exposition: MetricsExposition, secret: string | null, tokens: TokenIssuer): Middleware {
  return async (ctx, next) => {
    if (ctx.path !== path) return next();
    if (ctx.method !== "GET" && ctx.method !== "HEAD") throw new ApiError("method_not_allowed", `Use GET on ${path}.`);
    const token = requestToken(ctx);
    if (!token) throw new ApiError("auth_token_missing", "Missing access token: send an admin token or metrics.secret as `Authorization: Bearer …`");
    if (!(secret !== null && sameSecret(token, secret)) && tokens.verify(token) === null) {
      throw new ApiError("auth_token_invalid", "Invalid access token for the metrics endpoint");
    }
    ctx.type = exposition.contentType;
    ctx.body = await exposition.render();
  };
}

/** Times every request by its route template (`ctx._matchedRoute` from @koa/router). */
export function requestMetrics(recorder: ApiMetricsRecorder, pluginBasePath: string): Middleware {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const route = typeof matched === "string" ? matched : ctx.path.startsWith(pluginBasePath) ? `${pluginBasePath}:instance/*` : "unmatched";
      recorder.apiRequest(ctx.method, route, ctx.status, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
