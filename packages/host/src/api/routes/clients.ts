// Bot accounts (maubot's client.py): list, get, create (POST /client/new, checked with whoami),
// PUT create-or-update, delete (not while instances use it), clearcache.
import type { Router } from "@koa/router";
import { ApiError } from "../../errors.js";
import type { ClientRow } from "../../store/index.js";
import { readJsonObject } from "../body.js";
import type { RouteContext } from "../route-context.js";
import { clientJson } from "../serialize.js";
import { clientRowOf, isMxid, optional } from "../validate.js";

/** The fields of a client body that are stored as given. */
function settings(body: Record<string, unknown>) {
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

/** Creates or updates a client row after checking its token; shared with the client-auth routes. */
export async function saveClient(
  rc: RouteContext,
  body: Record<string, unknown>,
  expectedId: string | null,
): Promise<{ row: ClientRow; created: boolean }> {
  const { deps } = rc;
  const s = settings(body);
  const existing = expectedId ? deps.store.getClient(expectedId) : undefined;
  const homeserver = s.homeserver ?? existing?.homeserver;
  const accessToken = s.access_token ?? existing?.access_token;
  if (!homeserver) throw new ApiError("bad_client_connection_details", "homeserver is required");
  if (!accessToken) throw new ApiError("bad_client_access_token", "access_token is required");
  let userId = existing?.id;
  let deviceId = s.device_id ?? existing?.device_id ?? "";
  // maubot's UI sends the whole client object on every edit; only new access details are checked.
  if (!existing || homeserver !== existing.homeserver || accessToken !== existing.access_token) {
    const who = await rc.accounts.whoami(homeserver, accessToken);
    if (expectedId !== null && who.user_id !== expectedId) {
      throw new ApiError("mxid_mismatch", `The access token belongs to ${who.user_id}, not ${expectedId}`);
    }
    if (s.device_id && who.device_id && s.device_id !== who.device_id) {
      throw new ApiError("mxid_mismatch", `The access token belongs to device ${who.device_id}, not ${s.device_id}`);
    }
    userId = who.user_id;
    deviceId = s.device_id ?? (who.device_id || deviceId);
  }
  if (!existing && expectedId === null && deps.store.getClient(userId!)) {
    throw new ApiError("user_exists", `There is already a client with the user ID ${userId}`);
  }
  const row: ClientRow = {
    id: userId!,
    homeserver,
    access_token: accessToken,
    device_id: deviceId,
    enabled: s.enabled ?? existing?.enabled ?? true,
    next_batch: existing?.next_batch ?? "",
    filter_id: existing?.filter_id ?? "",
    sync: s.sync ?? existing?.sync ?? true,
    autojoin: s.autojoin ?? existing?.autojoin ?? true,
    online: s.online ?? existing?.online ?? true,
    displayname: s.displayname ?? existing?.displayname ?? "disable",
    avatar_url: s.avatar_url ?? existing?.avatar_url ?? "disable",
  };
  deps.store.putClient(row);
  if (!existing) {
    await deps.clients.start(row);
    rc.log.info({ client: row.id }, `added client ${row.id}`);
  } else if (s.started === false || !row.enabled) {
    await deps.clients.stop(row.id);
  } else {
    await deps.clients.update(row);
  }
  return { row, created: !existing };
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
    const { row } = await saveClient(rc, body, null);
    ctx.status = 201;
    ctx.body = clientJson(row, deps);
  });

  router.put("/client/:id", async (ctx) => {
    const id = ctx.params.id!;
    if (!isMxid(id)) throw new ApiError("client_not_found", `Client ${id} not found (not a Matrix user id)`);
    const body = await readJsonObject(ctx, rc.limits.jsonBytes);
    const { row, created } = await saveClient(rc, body, id);
    ctx.status = created ? 201 : 200;
    ctx.body = clientJson(row, deps);
  });

  router.delete("/client/:id", async (ctx) => {
    const row = mustGet(ctx.params.id!);
    const users = deps.store.instancesOfClient(row.id);
    if (users.length > 0) {
      throw new ApiError("client_in_use", `Client ${row.id} is used by instances ${users.map((i) => i.id).join(", ")}; delete them first`);
    }
    await deps.clients.remove(row.id);
    deps.store.deleteClient(row.id);
    rc.log.info({ client: row.id }, `deleted client ${row.id}`);
    ctx.status = 204;
  });

  router.post("/client/:id/clearcache", async (ctx) => {
    const row = mustGet(ctx.params.id!);
    deps.store.putClient({ ...row, next_batch: "", filter_id: "" });
    await deps.clients.clearCache(row.id);
    ctx.body = { success: true };
  });
}
