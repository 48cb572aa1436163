// Creating bot accounts on a configured homeserver (maubot's client_auth.py): list the
// homeservers, register (Synapse shared secret, or a registration token when the homeserver
// entry has `registration_token` and no `secret`), password login. With `?update_client` the
// new access token is stored as a client right away.
import type { Router } from "@koa/router";
import type { Context } from "koa";
import type { HomeserverConfig } from "../../config/index.js";
import { ApiError } from "../../errors.js";
import type { AccountCredentials } from "../../matrix/index.js";
import { readJsonObject } from "../body.js";
import type { RouteContext } from "../route-context.js";
import { clientJson } from "../serialize.js";

function wantsClient(ctx: Context): boolean {
  const value = ctx.query.update_client;
  return typeof value === "string" && ["1", "true", "yes"].includes(value.toLowerCase());
}

/** maubot's LoginResponse JSON. */
function loginResponse(c: AccountCredentials): Record<string, unknown> {
  return { user_id: c.user_id, access_token: c.access_token, device_id: c.device_id, home_server: c.home_server };
}

export function registerClientAuthRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  if (!deps.config.api_features.client_auth) return;

  const credentialsOf = async (ctx: Context) => {
    const body = await readJsonObject(ctx, rc.limits.jsonBytes);
    const { username, password } = body;
    if (typeof username !== "string" || typeof password !== "string" || !username || !password) {
      throw new ApiError("username_or_password_missing", "Username or password missing");
    }
    return { body, username, password };
  };
  const answer = async (ctx: Context, hs: HomeserverConfig, creds: AccountCredentials, isLogin: boolean) => {
    if (!wantsClient(ctx)) {
      ctx.body = loginResponse(creds);
      return;
    }
    const { row, created } = await rc.botAccounts.saveCredentials(hs, creds);
    ctx.status = created ? 201 : isLogin ? 202 : 200;
    ctx.body = clientJson(row, deps);
  };

  router.get("/client/auth/servers", (ctx) => {
    ctx.body = Object.fromEntries(Object.entries(deps.config.homeservers).map(([name, hs]) => [name, hs.url]));
  });

  router.post("/client/auth/:server/register", async (ctx) => {
    const hs = rc.botAccounts.registrationServer(ctx.params.server!);
    const { body, username, password } = await credentialsOf(ctx);
    const userType = body.user_type === null ? null : typeof body.user_type === "string" ? body.user_type : "bot";
    await answer(ctx, hs, await rc.botAccounts.register(hs, username, password, userType), false);
  });

  router.post("/client/auth/:server/login", async (ctx) => {
    const hs = rc.botAccounts.server(ctx.params.server!);
    const { body, username, password } = await credentialsOf(ctx);
    const deviceName = typeof body.device_name === "string" ? body.device_name : undefined;
    await answer(ctx, hs, await rc.botAccounts.login(hs, username, password, deviceName), true);
  });
}
