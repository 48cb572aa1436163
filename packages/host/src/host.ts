// One way to assemble a host: store → metrics → plugin registry → bot accounts → instances → API,
// each part handed its links when it is constructed. The daemon, the test harnesses and the
// benches all build their host here and vary only the options, so none of them can wire a part
// differently or forget a link (a pool without its sink drops every room event silently).
//
// Only what every host needs is imported up front: the bot accounts (matrix-js-sdk), the API
// (koa), the metrics (prom-client) and the crypto store load when a host uses them.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import type { AccountCalls, ApiDeps, ApiLimits } from "./api/deps.js";
import type { ApiServer } from "./api/server.js";
import { PluginRegistry } from "./bundles/plugin-registry.js";
import type { BotyardConfig } from "./config/types.js";
import { InstanceDatabaseFiles } from "./instances/instance-database-files.js";
import { InstanceSupervisor, type InstanceSupervisorOptions } from "./instances/instance-supervisor.js";
import type { AdminNoticePoster } from "./logging/admin-notices.js";
import type { LogRing } from "./logging/log-ring.js";
import { componentLogger } from "./logging/logging.js";
import type { ClientPool } from "./matrix/client-pool.js";
import type { HostMetrics } from "./metrics/host-metrics.js";
import type { MetricsListener } from "./metrics/metrics-server.js";
import type { ClientCaller, RoomEventSink } from "./ports.js";
import { stopWithin } from "./stop-within.js";
import { HostStore } from "./store/host-store.js";
import { hostVersion } from "./version.js";

/** What the host logs through; a full Logging (createLogging) is a HostLogging. */
export interface HostLogging {
  logger: Logger;
  /** The in-memory log the API's /logs and the admin room notices read. */
  ring?: LogRing;
  /** Scrubs a value from every later line: the host adds each bot account's access token. */
  addSecret?(secret: string): void;
}

/** The supervisor settings tests and benches change (limits, timeouts, restart policy). */
export type SupervisorTunables = Partial<Omit<InstanceSupervisorOptions, "records" | "plugins" | "clients" | "logger" | "databaseDir" | "metrics">>;

export interface HostApiOptions {
  /** Port to listen on (default `server.port` of the config; 0: any free port). */
  port?: number;
  limits?: Partial<ApiLimits>;
  /** The homeserver account calls (default src/matrix/accounts.ts). */
  accounts?: AccountCalls;
  /** The built web admin page (default the repository's web-admin/dist). */
  webAdminDir?: string;
  /** When the process started (ms since the epoch), for GET /health's uptime; default now. */
  startedAt?: number;
  /** The version GET /version reports (default the host's own). */
  version?: string;
}

/** Time each step of close() may take before it is logged and left behind; absent: no limit. */
export interface StopBudgets {
  api?: number;
  instances?: number;
  clients?: number;
}

interface CommonHostOptions {
  supervisor?: SupervisorTunables;
  stopBudgetsMs?: StopBudgets;
}

/** A host with its bot accounts (a ClientPool) and, when `api` is given, the management API. */
export interface FullHostOptions extends CommonHostOptions {
  logging: HostLogging & { ring: LogRing };
  /** Listen with the management API (and `metrics.listen`, when configured); absent or null: no API. */
  api?: HostApiOptions | null;
  /** The sink room events go through on their way to the instances; a test wraps it to record them. */
  roomEvents?: (instances: RoomEventSink) => RoomEventSink;
  matrix?: undefined;
}

/** Instances without bot accounts: plugin Matrix calls go to `matrix` (tests and benches of the worker side). */
export interface InstanceHostOptions<C extends ClientCaller> extends CommonHostOptions {
  logging: HostLogging;
  matrix: C;
}

export interface Host<C extends ClientCaller = ClientPool> {
  config: BotyardConfig;
  store: HostStore;
  registry: PluginRegistry;
  /** Runs plugin Matrix calls: the ClientPool of the bot accounts, or the caller given as `matrix`. */
  clients: C;
  supervisor: InstanceSupervisor;
  /** The Prometheus metrics, when `metrics.enabled`. */
  metrics: HostMetrics | null;
  /** The listening management API, when asked for. */
  api: ApiServer | null;
  /** Starts the bot accounts, then the enabled instances, then the admin room notices. */
  start(): Promise<void>;
  /** Stops everything in reverse order and closes the store; safe to call more than once. */
  close(): Promise<void>;
}

export function createHost(config: BotyardConfig, options: FullHostOptions): Promise<Host<ClientPool>>;
export function createHost<C extends ClientCaller>(config: BotyardConfig, options: InstanceHostOptions<C>): Promise<Host<C>>;
export async function createHost(config: BotyardConfig, options: FullHostOptions | InstanceHostOptions<ClientCaller>): Promise<Host<ClientCaller>> {
  const { logger } = options.logging;
  const log = componentLogger(logger, "host");
  const version = hostVersion();
  const parts = new HostParts(log, options.stopBudgetsMs ?? {});
  try {
    for (const dir of [
      config.plugin_directories.upload,
      ...config.plugin_directories.load,
      config.plugin_databases.sqlite,
      ...(config.plugin_directories.trash ? [config.plugin_directories.trash] : []),
    ]) {
      // Bundles, databases and trash hold the bots' data: private to the user.
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }

    const store = (parts.store = HostStore.open(config.database));
    const { addSecret } = options.logging;
    if (addSecret) {
      for (const client of store.listClients()) addSecret(client.access_token);
      store.onClientStored((row) => addSecret(row.access_token));
    }
    log.info({ database: config.database }, "host database open");

    let metrics: HostMetrics | null = null;
    if (config.metrics.enabled) {
      const { HostMetrics } = await import("./metrics/host-metrics.js");
      const databases = new InstanceDatabaseFiles(config.plugin_databases.sqlite);
      metrics = new HostMetrics(version, {
        bots: () => store.listClients().map((row) => ({ id: row.id, enabled: row.enabled, syncing: pool?.status(row.id).sync_ok ?? false })),
        instances: () =>
          store.listInstances().map((row) => ({
            id: row.id,
            plugin: row.type,
            state: supervisor.status(row.id).state,
            databasePath: row.database_engine === "sqlite" ? databases.pathOf(row.id) : null,
          })),
        workerMetrics: () => supervisor.workerMetrics(),
      });
    }

    // The registry and the supervisor need each other (replacing a plugin stops and restarts its
    // instances; starting an instance reads its loaded plugin), and so do the pool and the
    // supervisor (room events in, plugin Matrix calls out). The part built first gets a forwarder
    // to the supervisor, built last; nothing calls through it before createHost returns.
    const registry = new PluginRegistry({
      records: store,
      uploadDir: config.plugin_directories.upload,
      loadDirs: config.plugin_directories.load,
      trashDir: config.plugin_directories.trash,
      codeDir: path.join(path.dirname(config.database), "plugin-code"),
      logger,
      hostVersion: version,
      instances: {
        suspendPlugin: (pluginId) => supervisor.suspendPlugin(pluginId),
        resumePlugin: (pluginId, instanceIds) => supervisor.resumePlugin(pluginId, instanceIds),
      },
    });

    let pool: ClientPool | null = null;
    let clients: ClientCaller;
    if (options.matrix) clients = options.matrix;
    else {
      const toInstances: RoomEventSink = {
        dispatch: (clientId, event) => supervisor.dispatch(clientId, event),
        commandsOf: (clientId) => supervisor.commandsOf(clientId),
      };
      const { ClientPool } = await import("./matrix/client-pool.js");
      clients = pool = parts.pool = new ClientPool({
        logger,
        rows: store,
        sink: options.roomEvents ? options.roomEvents(toInstances) : toInstances,
        metrics: metrics ?? undefined,
        longPollMs: config.sync.long_poll_seconds * 1000,
        encryption: config.encryption.enabled ? { storeDir: config.encryption.store, pickleKey: await pickleKey(config.encryption) } : null,
      });
    }

    const supervisor: InstanceSupervisor = (parts.supervisor = new InstanceSupervisor({
      webappBaseUrl: config.server.public_url + config.server.plugin_base_path,
      maxMemoryBytes: config.workers.max_memory_mb * 2 ** 20,
      maxWebResponseBytes: config.workers.max_web_response_mb * 2 ** 20,
      ...options.supervisor,
      records: store,
      plugins: registry,
      clients,
      logger,
      databaseDir: config.plugin_databases.sqlite,
      metrics: metrics ?? undefined,
    }));
    if (metrics) {
      const recorder = metrics;
      supervisor.on("restartScheduled", (info) => {
        for (const id of info.instanceIds) recorder.instanceRestarted(id, info.cause);
      });
    }

    await registry.loadAll();

    const ring = options.logging.ring;
    if (!options.matrix && options.api && pool && ring) {
      await listen(parts, options.api, { config, store, logging: { logger, ring }, registry, supervisor, clients: pool, version, metrics }, log);
    }

    return {
      config,
      store,
      registry,
      clients,
      supervisor,
      metrics,
      api: parts.api,
      start: async () => {
        if (pool) await pool.startAll();
        await supervisor.startAll();
        if (config.admin_room && ring) parts.adminNotices = await startAdminNotices(config.admin_room, ring, clients, store, log);
      },
      close: () => parts.close(),
    };
  } catch (err) {
    // A host that could not be built leaves nothing open behind it.
    await parts.close();
    throw err;
  }
}

/** The management API, and the metrics on a listener of their own when `metrics.listen` says so. */
async function listen(parts: HostParts, api: HostApiOptions, deps: ApiDeps & { metrics: HostMetrics | null }, log: Logger): Promise<void> {
  const { startApiServer } = await import("./api/server.js");
  const { limits, accounts, webAdminDir, startedAt } = api;
  parts.api = await startApiServer(
    { ...deps, version: api.version ?? deps.version, limits, accounts, webAdminDir, startedAt },
    api.port === undefined ? {} : { port: api.port },
  );
  const { config, metrics } = deps;
  if (metrics && config.metrics.listen) {
    const { startMetricsListener } = await import("./metrics/metrics-server.js");
    parts.metricsListener = await startMetricsListener(config.metrics.listen, config.metrics.path, config.metrics.secret, metrics);
    log.info(`metrics on http://${config.metrics.listen.hostname}:${parts.metricsListener.port}${config.metrics.path}`);
  }
}

/** The key the crypto stores are encrypted with: the configured one, or one generated into the store folder. */
async function pickleKey(encryption: BotyardConfig["encryption"]): Promise<string> {
  if (encryption.pickle_key !== null) return encryption.pickle_key;
  const { loadOrCreatePickleKey } = await import("./matrix/crypto/crypto-store.js");
  return loadOrCreatePickleKey(encryption.store);
}

async function startAdminNotices(
  target: NonNullable<BotyardConfig["admin_room"]>,
  ring: LogRing,
  caller: ClientCaller,
  store: HostStore,
  log: Logger,
): Promise<AdminNoticePoster> {
  const { AdminNoticePoster } = await import("./logging/admin-notices.js");
  const { DEFAULT_NOTIFICATION_LEVEL, levelnoOf } = await import("./logging/notification-level.js");
  const notices = new AdminNoticePoster({
    ring,
    caller,
    target,
    instanceLevel: (id) => {
      const row = store.getInstance(id);
      return row ? levelnoOf(row.error_notification_level ?? DEFAULT_NOTIFICATION_LEVEL) : undefined;
    },
    onPostError: (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, "could not post to the admin room"),
  });
  notices.start();
  return notices;
}

/** The parts built so far, closed in reverse order, each step within its budget. */
class HostParts {
  store: HostStore | null = null;
  pool: ClientPool | null = null;
  supervisor: InstanceSupervisor | null = null;
  api: ApiServer | null = null;
  metricsListener: MetricsListener | null = null;
  adminNotices: AdminNoticePoster | null = null;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly log: Logger,
    private readonly budgets: StopBudgets,
  ) {}

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    if (this.api) await stopWithin(this.log, "management API", this.api.close(), this.budgets.api);
    if (this.metricsListener) await stopWithin(this.log, "metrics listener", this.metricsListener.close(), 300);
    if (this.supervisor) await stopWithin(this.log, "instances", this.supervisor.stopAll(), this.budgets.instances);
    if (this.adminNotices) await stopWithin(this.log, "admin notices", this.adminNotices.stop(), 300);
    if (this.pool) await stopWithin(this.log, "bot accounts", this.pool.stopAll(), this.budgets.clients);
    this.store?.close();
  }
}
