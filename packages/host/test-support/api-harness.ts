// A management API on a temporary folder with the real modules: HostStore, logging (LogRing),
// PluginRegistry, InstanceSupervisor, ClientPool, listening on a free loopback port.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { startApiServer, type ApiServer } from "../src/api/server.js";
import type { AccountCalls, ApiLimits } from "../src/api/deps.js";
import { TokenIssuer } from "../src/api/tokens.js";
import { PluginRegistry } from "../src/bundles/index.js";
import { API_FEATURES, type ApiFeature, type BotyardConfig, type HomeserverConfig } from "../src/config/index.js";
import { InstanceSupervisor, type InstanceSupervisorOptions } from "../src/instances/index.js";
import { createLogging, type Logging } from "../src/logging/index.js";
import { ClientPool } from "../src/matrix/index.js";
import { HostStore, type ClientRow } from "../src/store/index.js";

export const ADMIN = { username: "admin", password: "correct horse battery" };
/** A second admin with a password (the login throttle counts per name). */
export const OTHER_ADMIN = { username: "other", password: "staple tuna gravy" };
export const SERVER_SECRET = "test-unshared-secret-0123456789";

export interface ApiHarnessOptions {
  limits?: Partial<ApiLimits>;
  features?: Partial<Record<ApiFeature, boolean>>;
  homeservers?: Record<string, HomeserverConfig>;
  tokenExpiry?: number;
  trustedProxies?: string[];
  accounts?: AccountCalls;
  /** Worker limits and timeouts of the instance supervisor. */
  supervisor?: Partial<Pick<InstanceSupervisorOptions, "maxMemoryBytes" | "memoryCheckIntervalMs" | "maxWebResponseBytes" | "webTimeoutMs">>;
  /** The built web admin page to serve (default: the repository's web-admin/dist). */
  webAdminDir?: string;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** Parsed JSON body (undefined when the body is empty or not JSON). */
  json: any;
}

export interface ApiHarness {
  dir: string;
  base: string;
  config: BotyardConfig;
  store: HostStore;
  registry: PluginRegistry;
  supervisor: InstanceSupervisor;
  clients: ClientPool;
  logging: Logging;
  server: ApiServer;
  /** A valid admin token. */
  token: string;
  request(method: string, path: string, options?: { body?: unknown; raw?: Buffer | string; token?: string | null; headers?: Record<string, string> }): Promise<ApiResponse>;
  /** A disabled client row (no homeserver needed). */
  addClient(id: string, overrides?: Partial<ClientRow>): ClientRow;
  close(): Promise<void>;
}

export async function startApiHarness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), "botyard-api-"));
  const config: BotyardConfig = {
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
      token_expiry: options.tokenExpiry ?? 7 * 24 * 3600,
      trusted_proxies: options.trustedProxies ?? [],
    },
    homeservers: options.homeservers ?? {},
    // Cost 4 keeps the tests fast; the API does not care about the cost.
    admins: { [ADMIN.username]: bcrypt.hashSync(ADMIN.password, 4), [OTHER_ADMIN.username]: bcrypt.hashSync(OTHER_ADMIN.password, 4), nopassword: "" },
    api_features: { ...Object.fromEntries(API_FEATURES.map((f) => [f, true])), ...options.features } as Record<ApiFeature, boolean>,
    logging: { level: "debug", console: "off", file: null },
    workers: { max_memory_mb: 512, max_web_response_mb: 16 },
    admin_room: null,
    metrics: { enabled: false, path: "/metrics", listen: null, secret: null },
    encryption: { enabled: false, store: join(dir, "crypto"), pickle_key: null },
  };
  for (const d of [config.plugin_directories.upload, config.plugin_databases.sqlite, config.plugin_directories.trash!]) await mkdir(d, { recursive: true });
  const logging = createLogging(config.logging);
  const store = HostStore.open(config.database);
  const registry = new PluginRegistry({
    records: store,
    uploadDir: config.plugin_directories.upload,
    loadDirs: config.plugin_directories.load,
    trashDir: config.plugin_directories.trash,
    codeDir: join(dir, "plugin-code"),
    logger: logging.logger,
  });
  await registry.loadAll();
  const clients = new ClientPool({ logger: logging.logger, rows: store });
  const supervisor = new InstanceSupervisor({
    records: store,
    plugins: registry,
    clients,
    logger: logging.logger,
    databaseDir: config.plugin_databases.sqlite,
    webappBaseUrl: config.server.public_url + config.server.plugin_base_path,
    stopTimeoutMs: 2_000,
    ...options.supervisor,
  });
  clients.attachSink(supervisor);
  const server = await startApiServer(
    { config, store, logging, registry, supervisor, clients, version: "0.1.0-test", limits: options.limits, accounts: options.accounts, webAdminDir: options.webAdminDir },
    { port: 0 },
  );
  const base = `http://127.0.0.1:${server.port}`;

  const request: ApiHarness["request"] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const token = opts.token === undefined ? harness.token : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | Buffer | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };

  const harness: ApiHarness = {
    dir,
    base,
    config,
    store,
    registry,
    supervisor,
    clients,
    logging,
    server,
    token: "",
    request,
    addClient(id, overrides = {}) {
      const row: ClientRow = {
        id, homeserver: "http://127.0.0.1:9", access_token: "token-" + id, device_id: "DEV", enabled: false, next_batch: "", filter_id: "",
        sync: true, autojoin: false, online: true, displayname: "disable", avatar_url: "disable", ...overrides,
      };
      store.putClient(row);
      return row;
    },
    async close() {
      await server.close();
      await supervisor.stopAll();
      await clients.stopAll();
      store.close();
      logging.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (config.api_features.login) {
    const login = await request("POST", "/_matrix/maubot/v1/auth/login", { body: ADMIN, token: null });
    if (login.status !== 200) throw new Error(`harness login failed: ${login.text}`);
    harness.token = login.json.token;
  } else {
    // No login route: a token signed like the server's.
    harness.token = new TokenIssuer(SERVER_SECRET, config.server.token_expiry, () => true).issue(ADMIN.username);
  }
  return harness;
}
