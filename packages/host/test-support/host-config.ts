// The BotyardConfig of a host kept in a temporary folder, as loadConfig would produce it from a
// minimal config.yaml there: everything in `dir`, loopback only, no homeserver, no metrics.
import { join } from "node:path";
import { API_FEATURES, type ApiFeature, type BotyardConfig } from "../src/config/index.js";
import { DEFAULT_LONG_POLL_SECONDS } from "../src/config/schema.js";

export const SERVER_SECRET = "test-unshared-secret-0123456789";

export interface HostConfigOverrides {
  server?: Partial<BotyardConfig["server"]>;
  features?: Partial<Record<ApiFeature, boolean>>;
  homeservers?: BotyardConfig["homeservers"];
  admins?: BotyardConfig["admins"];
}

export function hostConfigIn(dir: string, overrides: HostConfigOverrides = {}): BotyardConfig {
  return {
    database: join(dir, "botyard.db"),
    plugin_directories: { upload: join(dir, "plugins"), load: [join(dir, "plugins")], trash: join(dir, "trash") },
    plugin_databases: { sqlite: join(dir, "databases") },
    server: {
      hostname: "127.0.0.1",
      port: 0,
      public_url: "http://127.0.0.1:29316",
      ui_base_path: "/_matrix/maubot",
      plugin_base_path: "/_matrix/maubot/plugin/",
      unshared_secret: SERVER_SECRET,
      token_expiry: 7 * 24 * 3600,
      trusted_proxies: [],
      ...overrides.server,
    },
    homeservers: overrides.homeservers ?? {},
    admins: overrides.admins ?? {},
    api_features: { ...Object.fromEntries(API_FEATURES.map((f) => [f, true])), ...overrides.features } as Record<ApiFeature, boolean>,
    logging: { level: "debug", console: "off", file: null },
    workers: { max_memory_mb: 512, max_web_response_mb: 16 },
    sync: { long_poll_seconds: DEFAULT_LONG_POLL_SECONDS },
    admin_room: null,
    metrics: { enabled: false, path: "/metrics", listen: null, secret: null },
    encryption: { enabled: false, store: join(dir, "crypto"), pickle_key: null },
  };
}
