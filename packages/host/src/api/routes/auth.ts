// Login, ping, features, version (maubot's auth.py, login.py, base.py).
import type { Router } from "@koa/router";
import { timingSafeEqual } from "node:crypto";
import { verifyPassword } from "../../config/index.js";
import { ApiError } from "../../errors.js";
import { readJsonObject } from "../body.js";
import type { RouteContext } from "../route-context.js";
import { optionalUser, requireUser } from "../tokens.js";

// Compared when the user is unknown, so a wrong name takes as long as a wrong password.
const DUMMY_HASH = "$2b$12$Ym7WNLVnCp0L4jJl0LMZdOTKEPazg2zK4EVPOXs/HvKMoptPA5v3u";

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerAuthRoutes(router: Router, rc: RouteContext): void {
  const { config } = rc.deps;

  if (config.api_features.login) {
    router.post("/auth/login", async (ctx) => {
      const body = await readJsonObject(ctx, rc.limits.jsonBytes);
      // maubot's login with the server secret (used by scripts) is for `user`, default root.
      const secretUser = typeof body.user === "string" && body.user ? body.user : "root";
      const named = typeof body.secret === "string" ? secretUser : typeof body.username === "string" ? body.username : "";
      // The name is part of the throttle's key (login-throttle.ts); cut, so a key stays small.
      const tried = named.slice(0, 256);
      const retry = rc.throttle.take(ctx.ip, tried);
      if (retry > 0) throw new ApiError("rate_limited", "Too many failed logins; try again later", { retry_after_ms: retry });
      let user: string | null = null;
      if (typeof body.secret === "string") {
        if (sameSecret(body.secret, config.server.unshared_secret) && isAdmin(config.admins, secretUser)) user = secretUser;
      } else if (typeof body.username === "string" && typeof body.password === "string") {
        // maubot never lets root log in with a password; botyard does when root has a password hash
        // (the first-run config makes one), and an empty value still disables it.
        const hash = Object.hasOwn(config.admins, body.username) ? config.admins[body.username] : undefined;
        const ok = await verifyPassword(body.password, hash || DUMMY_HASH);
        if (ok && hash) user = body.username;
      }
      if (!user) {
        rc.log.warn({ address: ctx.ip, user: tried.slice(0, 100) }, "failed admin login");
        throw new ApiError("invalid_auth", "Invalid username or password");
      }
      rc.throttle.giveBack(ctx.ip, tried);
      rc.log.info({ user }, "admin logged in");
      ctx.body = { token: rc.tokens.issue(user) };
    });
  }

  router.post("/auth/ping", (ctx) => {
    const user = requireUser(ctx, rc.tokens);
    ctx.body = { username: user, features: config.api_features };
  });

  router.get("/features", (ctx) => {
    ctx.body = optionalUser(ctx, rc.tokens) ? config.api_features : { login: config.api_features.login };
  });

  router.get("/version", (ctx) => {
    ctx.body = { version: rc.deps.version };
  });
}

/** maubot's is_admin: root, or any name in `admins`. */
export function isAdmin(admins: Record<string, string>, user: string): boolean {
  return user === "root" || Object.hasOwn(admins, user);
}
