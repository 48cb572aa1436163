// What the benches that assemble a host import: createHost from the built host (packages/host/dist,
// so build first), the config of a host in a temporary folder, and the libraries they use to make
// bundles and loggers.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const hostDist = join(root, "packages/host/dist");
export const { createHost } = await import(join(hostDist, "host.js"));
const { API_FEATURES } = await import(join(hostDist, "config/schema.js"));
export const { default: AdmZip } = await import("adm-zip");
export const YAML = (await import("yaml")).default;
export const { pino } = await import("pino");

/** A host's config (BotyardConfig) with everything in `dir`, loopback only, quiet logging. */
export function benchConfig(dir, { admins = {} } = {}) {
  return {
    database: join(dir, "botyard.db"),
    plugin_directories: { upload: join(dir, "plugins"), load: [join(dir, "plugins")], trash: null },
    plugin_databases: { sqlite: join(dir, "databases") },
    server: {
      hostname: "127.0.0.1", port: 0, public_url: "http://127.0.0.1:29316", ui_base_path: "/_matrix/maubot",
      plugin_base_path: "/_matrix/maubot/plugin/", unshared_secret: "bench-secret-0123456789abcdef", token_expiry: 3600, trusted_proxies: [],
    },
    homeservers: {},
    admins,
    api_features: Object.fromEntries(API_FEATURES.map((f) => [f, true])),
    logging: { level: "warn", console: "off", file: null },
    workers: { max_memory_mb: 512, max_web_response_mb: 16 },
    admin_room: null,
    metrics: { enabled: false, path: "/metrics", listen: null, secret: null },
    encryption: { enabled: false, store: join(dir, "crypto"), pickle_key: null },
  };
}

/** A bot account row that needs no homeserver (instances only need their primary_user to exist). */
export function benchClientRow(id) {
  return {
    id, homeserver: "http://127.0.0.1:1", access_token: "t", device_id: "D", enabled: true, next_batch: "", filter_id: "",
    sync: true, autojoin: false, online: true, displayname: "disable", avatar_url: "disable",
  };
}
