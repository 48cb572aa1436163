// Messages between the API and a database console process (one process per request).
import type { StatementKind } from "./statement-kind.js";

export type ConsoleJob =
  | { op: "tables"; file: string }
  | { op: "query"; file: string; sql: string; kind: StatementKind; write: boolean; rowsAsDict: boolean; maxRows: number };

export interface ColumnInfo {
  type: string;
  nullable: boolean;
  default: string | null;
  primary: boolean;
  unique: boolean;
}

export type TablesResult = Record<string, { columns: Record<string, ColumnInfo> }>;

export interface QueryResult {
  ok: true;
  query: string;
  rows?: unknown[];
  columns?: string[];
  rowcount?: number;
  inserted_primary_key?: number;
  /** botyard extension: more rows existed than the caps allowed. */
  truncated?: boolean;
  /** botyard extension: which cap stopped the rows, for the operator. */
  truncated_reason?: string;
}

export type ConsoleReply =
  | { ok: true; result: TablesResult | QueryResult }
  | { ok: false; kind: "not_allowed" | "sql_error"; error: string };
