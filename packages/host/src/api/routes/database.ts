// The instance database console (maubot's instance_database.py): tables, rows of one table, and
// one SQL statement, read-only unless the request says `"write": true`. Each runs in a child
// process with a time limit (database-console/).
import { existsSync } from "node:fs";
import type { Router } from "@koa/router";
import { ApiError } from "../../errors.js";
import { InstanceDatabaseFiles } from "../../instances/index.js";
import { readJsonObject } from "../body.js";
import type { RouteContext } from "../route-context.js";
import { instanceId } from "../validate.js";

/** SQLite identifier quoting. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function registerDatabaseRoutes(router: Router, rc: RouteContext): void {
  const { deps } = rc;
  if (!deps.config.api_features.instance_database) return;
  const databases = new InstanceDatabaseFiles(deps.config.plugin_databases.sqlite);

  /** The instance's database file, or a maubot answer when there is none. */
  const databaseOf = (rawId: string): string => {
    const id = instanceId(rawId);
    const row = deps.store.getInstance(id);
    if (!row) throw new ApiError("instance_not_found", `Instance ${id} not found`);
    const plugin = deps.registry.get(row.type);
    if (!plugin?.bundle.manifest.database) throw new ApiError("plugin_has_no_database", "Instance or plugin has no database");
    return databases.pathOf(id);
  };

  router.get("/instance/:id/database", async (ctx) => {
    const file = databaseOf(ctx.params.id!);
    // An instance that never ran has no file yet: no tables.
    ctx.body = existsSync(file) ? await rc.console.tables(file) : {};
  });

  router.get("/instance/:id/database/:table", async (ctx) => {
    const file = databaseOf(ctx.params.id!);
    const table = ctx.params.table!;
    const tables = existsSync(file) ? await rc.console.tables(file) : {};
    const info = Object.hasOwn(tables, table) ? tables[table] : undefined;
    if (!info) throw new ApiError("table_not_found", "Table not found");
    const orders = ([] as string[]).concat(ctx.query.order ?? []);
    const orderBy: string[] = [];
    for (const order of orders) {
      const [column = "", direction = ""] = order.split(":");
      // maubot ignores the whole ordering when a column is unknown.
      if (!Object.hasOwn(info.columns, column)) {
        orderBy.length = 0;
        break;
      }
      orderBy.push(`${quoteIdent(column)}${direction.toLowerCase() === "asc" ? " ASC" : direction ? " DESC" : ""}`);
    }
    const limitRaw = Number(typeof ctx.query.limit === "string" ? ctx.query.limit : 100);
    const limit = Number.isInteger(limitRaw) && limitRaw >= 0 ? Math.min(limitRaw, rc.limits.queryMaxRows) : 100;
    const sql = `SELECT * FROM ${quoteIdent(table)}${orderBy.length ? ` ORDER BY ${orderBy.join(", ")}` : ""} LIMIT ${limit}`;
    ctx.body = await rc.console.query(file, sql, { write: false, rowsAsDict: false });
  });

  router.post("/instance/:id/database/query", async (ctx) => {
    const file = databaseOf(ctx.params.id!);
    const body = await readJsonObject(ctx, rc.limits.jsonBytes);
    if (typeof body.query !== "string" || !body.query.trim()) throw new ApiError("query_missing", "Query missing");
    const write = body.write === true;
    if (!existsSync(file)) throw new ApiError("sql_error", "The instance has no database file yet (start it once)", { ok: false, query: body.query });
    const result = await rc.console.query(file, body.query, { write, rowsAsDict: body.rows_as_dict === true });
    if (write) rc.log.warn({ instance: ctx.params.id, query: body.query }, "database console query with writes allowed");
    ctx.body = result;
  });
}
