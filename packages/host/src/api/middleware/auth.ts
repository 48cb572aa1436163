// Every API route needs an admin token except maubot's exemptions: /auth/*, /features and /logs
// (the websocket authenticates with its first frame), plus /health which answers more with one.
import type { Middleware } from "koa";
import { requireUser, type TokenIssuer } from "../tokens.js";

const EXEMPT_PREFIXES = ["/auth/"];
const EXEMPT_PATHS = new Set(["/features", "/logs", "/health"]);

export function authMiddleware(apiPrefix: string, tokens: TokenIssuer): Middleware {
  return async (ctx, next) => {
    const sub = ctx.path.startsWith(apiPrefix) ? ctx.path.slice(apiPrefix.length) : null;
    if (sub !== null && !EXEMPT_PATHS.has(sub) && !EXEMPT_PREFIXES.some((p) => sub.startsWith(p))) {
      ctx.state.user = requireUser(ctx, tokens);
    }
    await next();
  };
}
