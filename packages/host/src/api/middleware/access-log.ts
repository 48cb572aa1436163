// One debug line per request, like maubot's access log; the path only (a query may carry
// ?access_token=), with the status and the time taken.
import type { Middleware } from "koa";
import type { Logger } from "pino";

export function accessLogMiddleware(log: Logger): Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      if (log.isLevelEnabled("debug")) {
        log.debug({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, `${ctx.method} ${ctx.path} ${ctx.status}`);
      }
    }
  };
}
