// Bot accounts (maubot's client.py): list, get, create (POST /client/new, checked with whoami),
// PUT create-or-update, delete (not while instances use it), clearcache. What each change does is
// matrix/bot-accounts.ts; these routes parse the request and shape the answer.
import type { Router } from "@koa/router";
import { ApiError } from "../../errors.js";
import type { ClientSettings } from "../../matrix/bot-accounts.js";
import type { ClientRow } from "../../store/index.js";
import { readJsonObject } from "../body.js";
import type { RouteContext } from "../route-context.js";
import { clientJson } from "../serialize.js";
import { clientRowOf, isMxid, optional } from "../validate.js";

/** The account fields of a request body, type-checked (absent or null: not given). */
function clientSettings(body: Record<string, unknown>): ClientSettings {
  return {
    homeserver: optional(body, "homeserver", "string"),
    access_token: optional(body, "access_token", "string"),
    device_id: optional(body, "device_id", "string"),
    enabled: optional(body, "enabled", "boolean"),
    started: optional(body, "started", "boolean"),
    sync: optional(body, "sync", "boolean"),
    autojoin: optional(body, "autojoin", "boolean"),
    online: optional(body, "online", "boolean"),
    displayname: optional(body, "displayname", "string"),
    avatar_url: optional(body, "avatar_url", "string"),
  };
}

export function registerClientRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  if (!deps.config.api_features.client) return;

  const mustGet = (id: string): ClientRow => clientRowOf(deps.store, id);

  router.get("/clients", (ctx) => {
    ctx.body = deps.store.listClients().map((row) => clientJson(row, deps));
  });

  router.get("/client/:id", (ctx) => {
    ctx.body = clientJson(mustGet(ctx.params.id!), deps);
  });

  router.post("/client/new", async (ctx) => {
    const body = await readJsonObject(ctx, rc.limits.jsonBytes);
    const { row } = await rc.botAccounts.save(clientSettings(body), null);
    ctx.status = 201;
    ctx.body = clientJson(row, deps);
  });

  router.put("/client/:id", async (ctx) => {
    const id = ctx.params.id!;
    if (!isMxid(id)) throw new ApiError("client_not_found", `Client ${id} not found (not a Matrix user id)`);
    const body = await readJsonObject(ctx, rc.limits.jsonBytes);
    const { row, created } = await rc.botAccounts.save(clientSettings(body), id);
    ctx.status = created ? 201 : 200;
    ctx.body = clientJson(row, deps);
  });

  router.delete("/client/:id", async (ctx) => {
    await rc.botAccounts.remove(mustGet(ctx.params.id!));
    ctx.status = 204;
  });

  router.post("/client/:id/clearcache", async (ctx) => {
    await rc.botAccounts.clearCache(mustGet(ctx.params.id!));
    ctx.body = { success: true };
  });
}
