// GET /health: `{"status":"ok"}` for anyone (for load balancers and probes); with an admin
// token also instance counts by state and each client's sync status.
import type { Router } from "@koa/router";
import type { RouteContext } from "../route-context.js";
import { optionalUser } from "../tokens.js";

export function registerHealthRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  router.get("/health", (ctx) => {
    if (!optionalUser(ctx, rc.tokens)) {
      ctx.body = { status: "ok" };
      return;
    }
    const instances: Record<string, number> = { stopped: 0, starting: 0, running: 0, stopping: 0, failed: 0 };
    for (const row of deps.store.listInstances()) {
      const { state } = deps.supervisor.status(row.id);
      instances[state] = (instances[state] ?? 0) + 1;
    }
    const clients = deps.store.listClients().map((row) => {
      const s = deps.clients.status(row.id);
      return { id: row.id, enabled: row.enabled, started: s.started, sync: row.sync, sync_ok: s.sync_ok, last_error: s.last_error };
    });
    ctx.body = { status: "ok", version: deps.version, instances, clients };
  });
}
