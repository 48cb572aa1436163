// Who the client is, for the login throttle and the logs: the connecting address, or, when that
// is one of `server.trusted_proxies`, the address its X-Forwarded-For names (proxy-addr walks the
// header from the nearest hop and stops at the first address it does not trust). koa's own
// `proxy: true` would believe the header from anyone, so a client could pick its own address.
import type { Middleware } from "koa";
import proxyaddr from "proxy-addr";

export function clientAddressMiddleware(trustedProxies: readonly string[]): Middleware {
  const trust = proxyaddr.compile([...trustedProxies]);
  return async (ctx, next) => {
    ctx.request.ip = proxyaddr(ctx.req, trust);
    await next();
  };
}
