// Plugins (maubot's plugin.py and plugin_upload.py): list, get, delete, reload, upload.
import type { Router, RouterContext } from "@koa/router";
import { ApiError, HostError } from "../../errors.js";
import { readBundleBody } from "../bundle-body.js";
import type { RouteContext } from "../route-context.js";
import { pluginJson } from "../serialize.js";

export function registerPluginRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  const features = deps.config.api_features;

  const mustGet = (id: string) => {
    const plugin = deps.registry.get(id);
    if (!plugin) throw new ApiError("plugin_not_found", `Plugin ${id} not found`);
    return plugin;
  };

  if (features.plugin) {
    router.get("/plugins", (ctx) => {
      ctx.body = deps.registry.list().map((p) => pluginJson(p, deps));
    });
    router.get("/plugin/:id", (ctx) => {
      ctx.body = pluginJson(mustGet(ctx.params.id!), deps);
    });
    router.delete("/plugin/:id", async (ctx) => {
      mustGet(ctx.params.id!);
      await deps.registry.delete(ctx.params.id!);
      ctx.status = 204;
    });
    router.post("/plugin/:id/reload", async (ctx) => {
      const id = ctx.params.id!;
      mustGet(id);
      try {
        await deps.registry.reload(id);
      } catch (err) {
        if (err instanceof HostError && err.errcode !== "internal_server_error") throw err;
        rc.log.error({ err, plugin: id }, "plugin reload failed");
        throw new ApiError("plugin_reload_fail", `Reloading plugin ${id} failed: ${(err as Error).message}`);
      }
      ctx.body = { success: true };
    });
  }

  if (features.plugin_upload) {
    const upload = async (ctx: RouterContext, options: { allowOverride: boolean; expectId?: string }) => {
      const buffer = await readBundleBody(ctx, rc.limits.bundleBytes);
      const { plugin, created } = await deps.registry.install(buffer, options);
      ctx.status = created ? 201 : 200;
      ctx.body = pluginJson(plugin, deps);
    };
    router.put("/plugin/:id", (ctx) => upload(ctx, { allowOverride: true, expectId: ctx.params.id! }));
    router.post("/plugins/upload", (ctx) => {
      // maubot: any non-empty value of allow_override means yes.
      const allow = ctx.query.allow_override;
      return upload(ctx, { allowOverride: typeof allow === "string" ? allow !== "" : Array.isArray(allow) });
    });
  }
}
