// Instances (maubot's instance.py): list, get, create or update with PUT, delete. Ids are
// lower-cased as maubot does; create and update go through the InstanceSupervisor.
import type { Router } from "@koa/router";
import { ApiError } from "../../errors.js";
import type { InstancePatch } from "../../instances/index.js";
import { DEFAULT_NOTIFICATION_LEVEL } from "../../logging/notification-level.js";
import type { InstanceRow } from "../../store/index.js";
import { readJsonObject } from "../body.js";
import type { RouteContext } from "../route-context.js";
import { instanceJson } from "../serialize.js";
import { instanceId, knownOrValidInstanceId, notificationLevel, optional } from "../validate.js";

export function registerInstanceRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  if (!deps.config.api_features.instance) return;

  const mustGet = (id: string): InstanceRow => {
    const row = deps.store.getInstance(id);
    if (!row) throw new ApiError("instance_not_found", `Instance ${id} not found`);
    return row;
  };
  const urlId = (raw: string): string => knownOrValidInstanceId(raw, (id) => deps.store.getInstance(id) !== undefined);
  const checkType = (type: string) => {
    if (!deps.registry.get(type)) throw new ApiError("plugin_type_not_found", `Plugin ${type} not found`);
  };
  const checkClient = (id: string) => {
    if (!deps.store.getClient(id)) throw new ApiError("primary_user_not_found", `Client ${id} not found`);
  };

  router.get("/instances", (ctx) => {
    ctx.body = deps.store.listInstances().map((row) => instanceJson(row, deps));
  });

  router.get("/instance/:id", (ctx) => {
    ctx.body = instanceJson(mustGet(urlId(ctx.params.id!)), deps);
  });

  router.put("/instance/:id", async (ctx) => {
    const id = urlId(ctx.params.id!);
    const body = await readJsonObject(ctx, rc.limits.jsonBytes);
    const fields = {
      id: optional(body, "id", "string"),
      type: optional(body, "type", "string"),
      primary_user: optional(body, "primary_user", "string"),
      enabled: optional(body, "enabled", "boolean"),
      started: optional(body, "started", "boolean"),
      config: optional(body, "config", "string"),
      isolated: optional(body, "isolated", "boolean"),
      error_notification_level: notificationLevel(optional(body, "error_notification_level", "string")),
    };
    const existing = deps.store.getInstance(id);

    if (!existing) {
      if (!fields.type) throw new ApiError("plugin_type_required", "Plugin type is required when creating plugin instances");
      if (!fields.primary_user) throw new ApiError("primary_user_required", "Primary user is required when creating plugin instances");
      checkType(fields.type);
      checkClient(fields.primary_user);
      const plugin = deps.registry.get(fields.type)!;
      await deps.supervisor.create({
        id,
        type: fields.type,
        enabled: fields.enabled ?? true,
        primary_user: fields.primary_user,
        config: fields.config ?? "",
        database_engine: plugin.bundle.manifest.database ? "sqlite" : null,
        isolated: fields.isolated ?? false,
        error_notification_level: fields.error_notification_level ?? DEFAULT_NOTIFICATION_LEVEL,
        state: "stopped",
        last_error: null,
      });
      rc.log.info({ instance: id, type: fields.type }, `created instance ${id}`);
      ctx.status = 201;
      ctx.body = instanceJson(mustGet(id), deps);
      return;
    }

    const patch: InstancePatch = {};
    if (fields.id !== undefined && fields.id.toLowerCase() !== id) patch.id = instanceId(fields.id);
    if (fields.type !== undefined && fields.type !== existing.type) {
      checkType(fields.type);
      patch.type = fields.type;
      patch.database_engine = deps.registry.get(fields.type)!.bundle.manifest.database ? "sqlite" : null;
    }
    if (fields.primary_user !== undefined && fields.primary_user !== existing.primary_user) {
      checkClient(fields.primary_user);
      patch.primary_user = fields.primary_user;
    }
    if (fields.enabled !== undefined) patch.enabled = fields.enabled;
    if (fields.config !== undefined) patch.config = fields.config;
    if (fields.isolated !== undefined) patch.isolated = fields.isolated;
    if (fields.error_notification_level !== undefined) patch.error_notification_level = fields.error_notification_level;
    let currentId = id;
    if (Object.keys(patch).length > 0) {
      await deps.supervisor.update(id, patch);
      currentId = patch.id ?? id;
    }
    if (fields.started === true) {
      const row = mustGet(currentId);
      if (row.enabled) await deps.supervisor.start(currentId);
    } else if (fields.started === false) {
      await deps.supervisor.stop(currentId);
    }
    ctx.body = instanceJson(mustGet(currentId), deps);
  });

  router.delete("/instance/:id", async (ctx) => {
    const id = urlId(ctx.params.id!);
    mustGet(id);
    await deps.supervisor.delete(id);
    rc.log.info({ instance: id }, `deleted instance ${id}`);
    ctx.status = 204;
  });
}
