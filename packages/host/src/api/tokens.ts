// Admin tokens: JWTs signed (HS256) with the server's unshared secret, with an expiry (maubot's
// never expire; ours do, after `server.token_expiry` seconds). A token names its admin; it stops
// working when that admin is removed from the config.
import jwt from "jsonwebtoken";
import type { Context } from "koa";
import { ApiError } from "../errors.js";

const ISSUER = "botyard";

export class TokenIssuer {
  constructor(
    private readonly secret: string,
    private readonly expirySeconds: number,
    private readonly isAdmin: (user: string) => boolean,
  ) {}

  issue(user: string): string {
    return jwt.sign({ user_id: user }, this.secret, { algorithm: "HS256", expiresIn: this.expirySeconds, issuer: ISSUER });
  }

  /** The admin a token belongs to, or null when it is invalid, expired or names no admin. */
  verify(token: string): string | null {
    try {
      const payload = jwt.verify(token, this.secret, { algorithms: ["HS256"], issuer: ISSUER });
      if (typeof payload !== "object" || typeof payload.user_id !== "string") return null;
      return this.isAdmin(payload.user_id) ? payload.user_id : null;
    } catch {
      return null;
    }
  }
}

/** The token of a request: `Authorization: Bearer …`, else `?access_token=` (maubot's get_token). */
export function requestToken(ctx: Context): string | null {
  const header = ctx.get("authorization");
  if (header) return header.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() || null : null;
  const query = ctx.query.access_token;
  return typeof query === "string" && query ? query : null;
}

/** The admin of an authenticated request, or the 401 maubot answers. */
export function requireUser(ctx: Context, tokens: TokenIssuer): string {
  const token = requestToken(ctx);
  if (!token) throw new ApiError("auth_token_missing", "Missing access token");
  const user = tokens.verify(token);
  if (!user) throw new ApiError("auth_token_invalid", "Invalid access token");
  return user;
}

/** The admin of a request whose token is optional (/features, /health), or null. */
export function optionalUser(ctx: Context, tokens: TokenIssuer): string | null {
  const token = requestToken(ctx);
  return token ? tokens.verify(token) : null;
}
