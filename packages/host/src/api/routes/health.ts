// GET /health: `{"status":"ok"}` for anyone (for load balancers and probes); with an admin
// token also the version, uptime, instance counts by state and each client's sync status.
import type { Router } from "@koa/router";
import type { RouteContext } from "../route-context.js";
import type { HealthJson, InstanceState } from "../types.js";
import { optionalUser } from "../tokens.js";

export function registerHealthRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  const startedAt = deps.startedAt ?? Date.now();
  router.get("/health", (ctx) => {
    if (!optionalUser(ctx, rc.tokens)) {
      ctx.body = { status: "ok" };
      return;
    }
    const instances: Record<InstanceState, number> = { stopped: 0, starting: 0, running: 0, stopping: 0, failed: 0 };
    for (const row of deps.store.listInstances()) {
      const { state } = deps.supervisor.status(row.id);
      instances[state] += 1;
    }
    const clients = deps.store.listClients().map((row) => {
      const s = deps.clients.status(row.id);
      return { id: row.id, enabled: row.enabled, started: s.started, sync: row.sync, sync_ok: s.sync_ok, last_error: s.last_error };
    });
    const body: HealthJson = {
      status: "ok",
      version: deps.version,
      started_at: new Date(startedAt).toISOString(),
      uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
      instances,
      clients,
    };
    ctx.body = body;
  });
}
