// A management API on a temporary folder with the real modules (createHost: HostStore, logging
// with its LogRing, PluginRegistry, ClientPool, InstanceSupervisor), on a free loopback port.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import type { ApiServer } from "../src/api/server.js";
import type { AccountCalls, ApiLimits } from "../src/api/deps.js";
import { TokenIssuer } from "../src/api/tokens.js";
import type { PluginRegistry } from "../src/bundles/index.js";
import type { ApiFeature, BotyardConfig, HomeserverConfig } from "../src/config/index.js";
import { createHost, type SupervisorTunables } from "../src/host.js";
import type { InstanceSupervisor } from "../src/instances/index.js";
import { createLogging, type Logging } from "../src/logging/index.js";
import type { ClientPool } from "../src/matrix/index.js";
import type { HostStore, ClientRow } from "../src/store/index.js";
import { hostConfigIn, SERVER_SECRET } from "./host-config.js";

export { SERVER_SECRET } from "./host-config.js";

export const ADMIN = { username: "admin", password: "correct horse battery" };
/** A second admin with a password (the login throttle counts per name). */
export const OTHER_ADMIN = { username: "other", password: "staple tuna gravy" };

export interface ApiHarnessOptions {
  limits?: Partial<ApiLimits>;
  features?: Partial<Record<ApiFeature, boolean>>;
  homeservers?: Record<string, HomeserverConfig>;
  tokenExpiry?: number;
  trustedProxies?: string[];
  accounts?: AccountCalls;
  /** Worker limits and timeouts of the instance supervisor. */
  supervisor?: Pick<SupervisorTunables, "maxMemoryBytes" | "memoryCheckIntervalMs" | "maxWebResponseBytes" | "webTimeoutMs">;
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
  const config = hostConfigIn(dir, {
    server: { token_expiry: options.tokenExpiry ?? 7 * 24 * 3600, trusted_proxies: options.trustedProxies ?? [] },
    features: options.features,
    homeservers: options.homeservers,
    // Cost 4 keeps the tests fast; the API does not care about the cost.
    admins: { [ADMIN.username]: bcrypt.hashSync(ADMIN.password, 4), [OTHER_ADMIN.username]: bcrypt.hashSync(OTHER_ADMIN.password, 4), nopassword: "" },
  });
  const logging = createLogging(config.logging);
  const host = await createHost(config, {
    logging,
    api: { port: 0, version: "0.1.0-test", limits: options.limits, accounts: options.accounts, webAdminDir: options.webAdminDir },
    supervisor: { stopTimeoutMs: 2_000, ...options.supervisor },
  });
  const { store, registry, supervisor, clients } = host;
  const server = host.api;
  if (!server) throw new Error("createHost was asked for the API and did not listen");
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
      await host.close();
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
