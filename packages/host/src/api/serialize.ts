// The JSON shapes of maubot's management API (maubot-survey §1.4), plus botyard's additive
// fields: an instance's `state`, `last_error`, `isolated` and `error_notification_level`, a
// client's `last_error`, a plugin's manifest, config schema and base config. The shapes are
// declared once in types.ts.
import type { LoadedPlugin } from "../bundles/index.js";
import { effectiveConfigText } from "../instances/index.js";
import { DEFAULT_NOTIFICATION_LEVEL } from "../logging/notification-level.js";
import type { ClientRow, InstanceRow } from "../store/index.js";
import type { ApiDeps } from "./deps.js";
import type { ClientJson, InstanceJson, PluginJson } from "./types.js";

export function instanceJson(row: InstanceRow, deps: ApiDeps): InstanceJson {
  const status = deps.supervisor.status(row.id);
  const plugin = deps.registry.get(row.type);
  const hasDatabase = Boolean(plugin?.bundle.manifest.database);
  const baseConfig = plugin?.bundle.baseConfigText ?? null;
  return {
    id: row.id,
    type: row.type,
    enabled: row.enabled,
    started: status.state === "running",
    primary_user: row.primary_user,
    // maubot answers with the config merged over the base config, so editors open on the real settings.
    config: effectiveConfigText(baseConfig, row.config),
    base_config: baseConfig,
    database: hasDatabase && deps.config.api_features.instance_database,
    database_interface: hasDatabase ? "asyncpg" : null,
    database_engine: hasDatabase ? "sqlite" : null,
    isolated: row.isolated,
    error_notification_level: row.error_notification_level ?? DEFAULT_NOTIFICATION_LEVEL,
    state: status.state,
    last_error: status.lastError,
  };
}

export function pluginJson(plugin: LoadedPlugin, deps: ApiDeps): PluginJson {
  return {
    id: plugin.id,
    version: plugin.version,
    instances: deps.store.instancesOfPlugin(plugin.id).map((row) => instanceJson(row, deps)),
    path: plugin.path,
    manifest: plugin.bundle.manifest,
    config_schema: plugin.bundle.configSchema,
    base_config: plugin.bundle.baseConfigText,
  };
}

export function clientJson(row: ClientRow, deps: ApiDeps): ClientJson {
  const status = deps.clients.status(row.id);
  return {
    id: row.id,
    homeserver: row.homeserver,
    access_token: row.access_token,
    device_id: row.device_id || (status.device_id ?? ""),
    fingerprint: status.fingerprint,
    enabled: row.enabled,
    started: status.started,
    sync: row.sync,
    sync_ok: status.sync_ok,
    autojoin: row.autojoin,
    online: row.online,
    displayname: row.displayname,
    avatar_url: row.avatar_url,
    remote_displayname: status.remote_displayname,
    remote_avatar_url: status.remote_avatar_url,
    instances: deps.store.instancesOfClient(row.id).map((i) => instanceJson(i, deps)),
    trust_state: status.trust_state,
    last_error: status.last_error,
  };
}
