// maubot's dev_open feature opens a plugin's source file in the developer's editor. botyard has
// no editor integration, so it answers the UI's probe with "disabled" and registers no POST.
import type { Router } from "@koa/router";
import type { RouteContext } from "../route-context.js";

export function registerDebugOpenRoutes(router: Router, rc: RouteContext): void {
  if (!rc.deps.config.api_features.dev_open) return;
  router.get("/debug/open", (ctx) => {
    ctx.body = { enabled: false };
  });
}
