// The configuration as the rest of the host sees it: defaults filled in, paths absolute,
// secrets read from their files, admin passwords bcrypt-hashed.
import type { ApiFeature, LogLevel } from "./schema.js";

export type { ApiFeature, LogLevel } from "./schema.js";

export interface HomeserverConfig {
  /** Client-server API base URL. */
  url: string;
  /** Synapse registration_shared_secret, or null. */
  secret: string | null;
  /** Registration token (m.login.registration_token), or null. */
  registration_token: string | null;
}

export interface BotyardConfig {
  /** Absolute path of the host's SQLite file. */
  database: string;
  plugin_directories: {
    /** Absolute folder uploads are written to. */
    upload: string;
    /** Absolute folders loaded at start. */
    load: string[];
    /** Absolute trash folder, or null when removed bundles are deleted (`trash: delete`). */
    trash: string | null;
  };
  plugin_databases: {
    /** Absolute folder of the instances' SQLite files. */
    sqlite: string;
  };
  server: {
    hostname: string;
    port: number;
    /** Without a trailing slash. */
    public_url: string;
    /** Without a trailing slash, e.g. /_matrix/maubot. */
    ui_base_path: string;
    /** With a trailing slash, e.g. /_matrix/maubot/plugin/. */
    plugin_base_path: string;
    unshared_secret: string;
    /** Lifetime of admin login tokens, in seconds. */
    token_expiry: number;
    /** Proxies whose X-Forwarded-For names the client (addresses, CIDRs, proxy-addr's names). */
    trusted_proxies: string[];
  };
  homeservers: Record<string, HomeserverConfig>;
  /** Admin name → bcrypt hash; "" means password login is disabled for that name. */
  admins: Record<string, string>;
  api_features: Record<ApiFeature, boolean>;
  logging: {
    level: LogLevel;
    console: "pretty" | "json" | "off";
    /** Absolute path of a JSON-lines log file, or null. */
    file: string | null;
  };
  /** Limits of each plugin worker thread. */
  workers: {
    /** JS heap + external memory (Buffers) a worker may use before it is terminated and restarted. */
    max_memory_mb: number;
    /** Largest body a plugin web endpoint may answer with. */
    max_web_response_mb: number;
  };
  admin_room: { room_id: string; client: string } | null;
  /** botyard extension: the Prometheus endpoint. */
  metrics: {
    enabled: boolean;
    /** e.g. /metrics */
    path: string;
    /** host and port of a listener of its own, or null for the management API's. */
    listen: { hostname: string; port: number } | null;
    /** Bearer secret Prometheus may send instead of an admin token; null for none. */
    secret: string | null;
  };
  /** The bot accounts' /sync. */
  sync: {
    /** How long an idle /sync waits at the homeserver before it answers with nothing. */
    long_poll_seconds: number;
  };
  /** End-to-end encryption of the bot accounts that sync. */
  encryption: {
    enabled: boolean;
    /** Absolute folder of the per-account crypto stores. */
    store: string;
    /**
     * crypto_db_pickle_key (maubot's name): the key the stores are encrypted with; null: a key
     * generated into the store folder (pickle.key).
     */
    pickle_key: string | null;
  };
}

/** Something that happened while loading, to be logged once logging is up. */
export interface ConfigNote {
  level: "info" | "warn";
  message: string;
}

export interface LoadedConfig {
  /** Absolute path of the file that was read. */
  path: string;
  config: BotyardConfig;
  /** Every secret value in the config, for the log scrubber. */
  secrets: string[];
  notes: ConfigNote[];
}

/** The config file is unusable; the message names the file and the key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
