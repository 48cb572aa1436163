// loadConfig: read config.yaml, validate it, fill in what botyard generates (unshared secret,
// password hashes) and write those back into the file, then resolve paths and secret files.
import path from "node:path";
import proxyaddr from "proxy-addr";
import { ConfigFile } from "./config-file.js";
import { dictConfigLevel, maubotKeyNotes } from "./maubot-keys.js";
import { hashPassword, isBcryptHash, randomSecret } from "./passwords.js";
import { API_FEATURES, type ApiFeature } from "./schema.js";
import { resolveSecret, type SecretSource, type SecretSpec } from "./secrets.js";
import { ConfigError, type BotyardConfig, type ConfigNote, type HomeserverConfig, type LoadedConfig } from "./types.js";
import { validateConfigData } from "./validate.js";

/**
 * The shape of config.yaml after validation and defaults: the loaded BotyardConfig except where
 * loading resolves something (secret specs, `trash: delete`, token_expiry durations).
 */
type RawConfig = Omit<BotyardConfig, "plugin_directories" | "server" | "homeservers" | "admins" | "metrics" | "encryption"> & {
  metrics: Omit<BotyardConfig["metrics"], "listen" | "secret"> & { listen: string | null; secret: SecretSpec | null };
  encryption: Omit<BotyardConfig["encryption"], "pickle_key">;
  crypto_db_pickle_key: SecretSpec | null;
  plugin_directories: Omit<BotyardConfig["plugin_directories"], "trash"> & { trash: string };
  server: Omit<BotyardConfig["server"], "unshared_secret" | "token_expiry"> & {
    unshared_secret: SecretSpec;
    token_expiry: number | string;
  };
  homeservers: Record<string, { url: string; secret: SecretSpec | null; registration_token: SecretSpec | null }>;
  admins: Record<string, SecretSpec>;
};

export interface LoadOptions {
  /** Defaults to process.env.CREDENTIALS_DIRECTORY. */
  credentialsDirectory?: string;
  /** Write generated values back into the file (default true). */
  rewrite?: boolean;
}

export async function loadConfig(file: string, options: LoadOptions = {}): Promise<LoadedConfig> {
  const absolute = path.resolve(file);
  const configFile = ConfigFile.read(absolute, file);
  const label = configFile.label;
  const raw = configFile.toJS();
  // Read before validation fills in defaults: what the operator wrote.
  const maubotNotes = maubotKeyNotes(raw);
  const writtenLogging = (raw as { logging?: unknown }).logging;
  const maubotLogLevel =
    writtenLogging && typeof writtenLogging === "object" && !Object.hasOwn(writtenLogging, "level")
      ? dictConfigLevel(writtenLogging as Record<string, unknown>)
      : null;
  validateConfigData(raw, label);
  const data = raw as RawConfig;

  if (/^postgres(ql)?:/i.test(data.database)) {
    throw new ConfigError(`${label}: database: botyard keeps its data in SQLite; give a file path (PostgreSQL is not supported)`);
  }
  const configDir = path.dirname(absolute);
  const source: SecretSource = {
    configDir,
    credentialsDirectory: options.credentialsDirectory ?? process.env.CREDENTIALS_DIRECTORY,
    fileLabel: label,
  };
  const notes: ConfigNote[] = [...maubotNotes];
  const secrets: string[] = [];
  let changed = false;

  // server.unshared_secret
  let unsharedSecret: string;
  if (data.server.unshared_secret === "generate") {
    unsharedSecret = randomSecret();
    configFile.set(["server", "unshared_secret"], unsharedSecret);
    changed = true;
    notes.push({ level: "info", message: "generated server.unshared_secret" });
  } else {
    const resolved = resolveSecret(data.server.unshared_secret, "server.unshared_secret", source);
    if (resolved.value.length < 16) {
      throw new ConfigError(`${label}: server.unshared_secret must be at least 16 characters (or "generate")`);
    }
    unsharedSecret = resolved.value;
  }
  secrets.push(unsharedSecret);

  // crypto_db_pickle_key (null: the daemon keeps a generated key in the store folder)
  let pickleKey: string | null = null;
  if (data.crypto_db_pickle_key !== null) {
    pickleKey = resolveSecret(data.crypto_db_pickle_key, "crypto_db_pickle_key", source).value;
    if (pickleKey.length === 0) throw new ConfigError(`${label}: crypto_db_pickle_key is empty; give a secret or leave it out`);
    secrets.push(pickleKey);
  }

  // homeservers
  const homeservers: Record<string, HomeserverConfig> = {};
  for (const [name, hs] of Object.entries(data.homeservers)) {
    const where = `homeservers[${JSON.stringify(name)}]`;
    const secret = hs.secret === null ? null : resolveSecret(hs.secret, `${where}.secret`, source).value || null;
    const token =
      hs.registration_token === null
        ? null
        : resolveSecret(hs.registration_token, `${where}.registration_token`, source).value || null;
    if (secret) secrets.push(secret);
    if (token) secrets.push(token);
    homeservers[name] = { url: hs.url.replace(/\/+$/, ""), secret, registration_token: token };
  }

  // metrics: its bearer secret
  const metricsSecret = data.metrics.secret === null ? null : resolveSecret(data.metrics.secret, "metrics.secret", source).value || null;
  if (metricsSecret) secrets.push(metricsSecret);

  // admins: plaintext → bcrypt, as maubot does
  const admins: Record<string, string> = {};
  for (const [name, spec] of Object.entries(data.admins)) {
    const resolved = resolveSecret(spec, `admins[${JSON.stringify(name)}]`, source);
    let value = resolved.value;
    if (value === "" || isBcryptHash(value)) {
      admins[name] = value;
      continue;
    }
    secrets.push(value);
    if (value === "password" && !resolved.external) {
      // The example's placeholder must never become a working login.
      value = randomSecret();
      notes.push({ level: "warn", message: `admin "${name}" had the placeholder password; replaced by a random one` });
    }
    const hash = await hashPassword(value);
    admins[name] = hash;
    if (resolved.external) {
      notes.push({
        level: "warn",
        message: `admin "${name}": the password file holds a plaintext password; store a bcrypt hash (botyard hash-password) instead`,
      });
    } else {
      configFile.set(["admins", name], hash);
      changed = true;
      notes.push({ level: "info", message: `hashed the plaintext password of admin "${name}"` });
    }
  }

  if (changed && options.rewrite !== false) {
    try {
      configFile.save();
      notes.push({ level: "info", message: `rewrote ${absolute} with the generated values` });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      notes.push({
        level: "warn",
        message: `could not rewrite ${absolute} (${code}); generated values last until the next restart`,
      });
    }
  }

  const resolvePath = (p: string) => path.resolve(configDir, p);
  const config: BotyardConfig = {
    database: resolvePath(data.database.replace(/^sqlite:(\/\/\/?)?/, "")),
    plugin_directories: {
      upload: resolvePath(data.plugin_directories.upload),
      load: data.plugin_directories.load.map(resolvePath),
      trash: data.plugin_directories.trash === "delete" ? null : resolvePath(data.plugin_directories.trash),
    },
    plugin_databases: { sqlite: resolvePath(data.plugin_databases.sqlite) },
    server: {
      hostname: data.server.hostname,
      port: data.server.port,
      public_url: data.server.public_url.replace(/\/+$/, ""),
      ui_base_path: data.server.ui_base_path.replace(/\/+$/, "") || "/",
      plugin_base_path: data.server.plugin_base_path,
      unshared_secret: unsharedSecret,
      token_expiry: parseDuration(data.server.token_expiry),
      trusted_proxies: checkedProxies(data.server.trusted_proxies, label),
    },
    homeservers,
    admins,
    api_features: Object.fromEntries(API_FEATURES.map((f) => [f, data.api_features[f]])) as Record<ApiFeature, boolean>,
    logging: {
      level: maubotLogLevel ?? data.logging.level,
      console: data.logging.console,
      file: data.logging.file === null ? null : resolvePath(data.logging.file),
    },
    workers: data.workers,
    sync: data.sync,
    admin_room: data.admin_room,
    metrics: {
      enabled: data.metrics.enabled,
      path: data.metrics.path,
      listen: data.metrics.listen === null ? null : parseListen(data.metrics.listen),
      secret: metricsSecret,
    },
    encryption: { enabled: data.encryption.enabled, store: resolvePath(data.encryption.store), pickle_key: pickleKey },
  };
  if (!config.plugin_directories.load.includes(config.plugin_directories.upload)) {
    notes.push({
      level: "warn",
      message: "plugin_directories.upload is not in plugin_directories.load: uploaded bundles are not loaded after a restart",
    });
  }
  return { path: absolute, config, secrets, notes };
}

/** Each entry as proxy-addr reads it; a typo is an error here, not a proxy silently untrusted. */
function checkedProxies(entries: string[], label: string): string[] {
  for (const [i, entry] of entries.entries()) {
    try {
      proxyaddr.compile(entry);
    } catch {
      throw new ConfigError(`${label}: server.trusted_proxies[${i}] "${entry}" is not an IP address, a CIDR range or loopback/linklocal/uniquelocal`);
    }
  }
  return entries;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** 3600 → 3600; "12h" → 43200; "7d" → 604800 (validated by the schema already). */
export function parseDuration(value: number | string): number {
  if (typeof value === "number") return value;
  const m = /^([0-9]+)([smhd]?)$/.exec(value)!;
  return Number(m[1]) * UNIT_SECONDS[m[2] || "s"]!;
}

/** "127.0.0.1:9316" or "[::1]:9316" → hostname and port (validated by the schema already). */
function parseListen(value: string): { hostname: string; port: number } {
  const at = value.lastIndexOf(":");
  return { hostname: value.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(value.slice(at + 1)) };
}
