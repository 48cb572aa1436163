// The JSON the management API answers with, as types the host's serializers return and the web
// admin page (web-admin/) imports, so a changed shape breaks both builds. Type-only: nothing
// here may import Node modules (the page is type-checked against the DOM library).
import type { BundleManifest } from "../bundles/manifest.js";
import type { LogEntry } from "../logging/log-ring.js";
import type { NotificationLevel } from "../logging/notification-level.js";
import type { InstanceState } from "../store/types.js";
import type { TrustState } from "../matrix/crypto/trust-state.js";
import type { ColumnInfo, QueryResult, TablesResult } from "./database-console/protocol.js";

export type { BundleManifest, ColumnInfo, InstanceState, LogEntry, QueryResult, TablesResult, TrustState };

/** POST /client/{id}/generate_recovery_key (201): the recovery key, shown this once. */
export interface RecoveryKeyJson {
  success: true;
  recovery_key: string;
}

/** `{"errcode","error"}` plus extra keys some errors carry (e.g. `retry_after_ms`). */
export interface ApiErrorBody {
  errcode: string;
  error: string;
  [extra: string]: unknown;
}

export interface InstanceJson {
  id: string;
  type: string;
  enabled: boolean;
  started: boolean;
  primary_user: string;
  /** The effective config as YAML: the bundle's base-config.yaml merged with the instance's values. */
  config: string;
  base_config: string | null;
  database: boolean;
  database_interface: "asyncpg" | null;
  database_engine: "sqlite" | null;
  isolated: boolean;
  /** botyard extension: this instance's log records at or above it reach the admin room. */
  error_notification_level: NotificationLevel;
  state: InstanceState;
  last_error: string | null;
}

export interface PluginJson {
  id: string;
  version: string;
  instances: InstanceJson[];
  path: string;
  /** botyard extension: the bundle's maubot.yaml with defaults filled in. */
  manifest: BundleManifest;
  /** botyard extension: the resolved JSON Schema of the instance config, or null. */
  config_schema: Record<string, unknown> | null;
  /** botyard extension: base-config.yaml as text, or null. */
  base_config: string | null;
}

export interface ClientJson {
  id: string;
  homeserver: string;
  access_token: string;
  /** The row's device id, or the one whoami reported when the row has none. */
  device_id: string;
  /** The device's ed25519 key in groups of four while encryption runs (maubot's fingerprint). */
  fingerprint: string | null;
  enabled: boolean;
  started: boolean;
  sync: boolean;
  sync_ok: boolean;
  autojoin: boolean;
  online: boolean;
  displayname: string;
  avatar_url: string;
  remote_displayname: string | null;
  remote_avatar_url: string | null;
  instances: InstanceJson[];
  /** The device's verification state while encryption runs, else null (mautrix's names). */
  trust_state: TrustState | null;
  last_error: string | null;
}

/** The body of POST /client/new and PUT /client/{id} (every field optional on update). */
export interface ClientSettings {
  homeserver?: string;
  access_token?: string;
  device_id?: string;
  enabled?: boolean;
  started?: boolean;
  sync?: boolean;
  autojoin?: boolean;
  online?: boolean;
  displayname?: string;
  avatar_url?: string;
}

/** The body of PUT /instance/{id}. */
export interface InstanceSettings {
  id?: string;
  type?: string;
  primary_user?: string;
  enabled?: boolean;
  started?: boolean;
  config?: string;
  isolated?: boolean;
}

export interface HealthClient {
  id: string;
  enabled: boolean;
  started: boolean;
  sync: boolean;
  sync_ok: boolean;
  last_error: string | null;
}

/** GET /health with an admin token (without one: only `status`). */
export interface HealthJson {
  status: "ok";
  version: string;
  /** botyard extension: when the daemon started (ISO 8601) and for how long it has run. */
  started_at: string;
  uptime_seconds: number;
  instances: Record<InstanceState, number>;
  clients: HealthClient[];
}

export interface LoginResponse {
  token: string;
}

export interface PingResponse {
  username: string;
  features: Record<string, boolean>;
}

/** GET /client/auth/servers: homeserver name → URL. */
export type HomeserverList = Record<string, string>;

/** POST /client/auth/{server}/register|login without update_client. */
export interface AccountLoginResponse {
  user_id: string;
  access_token: string;
  device_id: string;
  home_server: string;
}

/** GET <ui_base_path>/paths.json */
export interface PathsJson {
  api_path: string;
}

/** The log websocket's messages after the token. */
export type LogSocketMessage = { auth_success: boolean } | { history: LogEntry[] } | LogEntry;
