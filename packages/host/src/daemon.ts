// The daemon: config → logging → store → plugin registry → bot accounts → instances → API.
// start() brings them up in that order; stop() takes them down in reverse, each step bounded,
// so SIGINT/SIGTERM ends the process within 5 s with the databases closed.
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { API_PREFIX, startApiServer, type ApiServer } from "./api/index.js";
// Not bundles/index.js: that loads the bundle reader, which only the check thread runs.
import { PluginRegistry } from "./bundles/plugin-registry.js";
import { InstanceDatabaseFiles, InstanceSupervisor } from "./instances/index.js";
import { loadConfig, type BotyardConfig, type LoadedConfig, type LoadOptions } from "./config/index.js";
import { AdminNoticePoster } from "./logging/admin-notices.js";
import { DEFAULT_NOTIFICATION_LEVEL, levelnoOf } from "./logging/notification-level.js";
import { componentLogger, createLogging, type Logging, type LoggingOptions } from "./logging/index.js";
import { ClientPool } from "./matrix/index.js";
import { assertPortFree, takeDataLock, type DataLock } from "./startup-guard.js";
import type { HostMetrics } from "./metrics/host-metrics.js";
import type { MetricsListener } from "./metrics/metrics-server.js";
import { assertDatabaseWhole, HostStore } from "./store/index.js";
import { loadOrCreatePickleKey } from "./matrix/crypto/crypto-store.js";
import { hostVersion } from "./version.js";
import { closeCheckThreads } from "./workers/bounded-checks.js";

export { hostVersion } from "./version.js";

export interface DaemonOptions {
  configPath: string;
  /** Passed to loadConfig (credentials directory, rewrite). */
  load?: LoadOptions;
  /** Passed to createLogging (e.g. a console collector in tests). */
  logging?: Pick<LoggingOptions, "console" | "ringCapacity">;
}

/** Time budget of each shutdown step; together under 5 s. */
const STOP_BUDGET_MS = { api: 1_000, instances: 2_500, clients: 800 } as const;

export class Daemon {
  loaded!: LoadedConfig;
  config!: BotyardConfig;
  logging!: Logging;
  store!: HostStore;
  registry!: PluginRegistry;
  clients!: ClientPool;
  supervisor!: InstanceSupervisor;
  /** The listening management API (null until start() got that far). */
  api: ApiServer | null = null;
  /** The Prometheus metrics, when `metrics.enabled`. */
  metrics: HostMetrics | null = null;
  private metricsListener: MetricsListener | null = null;
  private log!: Logger;
  private adminNotices: AdminNoticePoster | null = null;
  private lock: DataLock | null = null;
  private state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: DaemonOptions) {}

  async start(): Promise<void> {
    if (this.state !== "new") throw new Error(`Daemon.start() called twice (state ${this.state})`);
    this.state = "starting";
    const startedAt = Date.now();
    this.loaded = await loadConfig(this.options.configPath, this.options.load);
    this.config = this.loaded.config;
    const config = this.config;
    const version = hostVersion();
    // A damaged host database stops the start here, before a log file, a folder or a port.
    assertDatabaseWhole(config.database);
    // Before anything is opened: another botyard on this data folder, or on this port, stops us here.
    this.lock = takeDataLock(path.dirname(config.database));
    await assertPortFree(config.server.hostname, config.server.port, this.loaded.path);

    this.logging = createLogging(config.logging, { ...this.options.logging, secrets: this.loaded.secrets });
    this.log = componentLogger(this.logging.logger, "daemon");
    this.log.info({ config: this.loaded.path, version }, "botyard starting");
    for (const note of this.loaded.notes) this.log[note.level](note.message);

    for (const dir of [
      config.plugin_directories.upload,
      ...config.plugin_directories.load,
      config.plugin_databases.sqlite,
      ...(config.plugin_directories.trash ? [config.plugin_directories.trash] : []),
    ]) {
      // Bundles, databases and trash hold the bots' data: private to the user.
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }

    this.store = HostStore.open(config.database);
    for (const client of this.store.listClients()) this.logging.addSecret(client.access_token);
    this.store.onClientStored((row) => this.logging.addSecret(row.access_token));
    this.log.info({ database: config.database }, "host database open");

    this.registry = new PluginRegistry({
      records: this.store,
      uploadDir: config.plugin_directories.upload,
      loadDirs: config.plugin_directories.load,
      trashDir: config.plugin_directories.trash,
      codeDir: path.join(path.dirname(config.database), "plugin-code"),
      logger: this.logging.logger,
      hostVersion: version,
    });
    if (config.metrics.enabled) {
      // prom-client loads only when metrics are on.
      const { HostMetrics } = await import("./metrics/host-metrics.js");
      const databases = new InstanceDatabaseFiles(config.plugin_databases.sqlite);
      this.metrics = new HostMetrics(version, {
        bots: () => this.store.listClients().map((row) => ({ id: row.id, enabled: row.enabled, syncing: this.clients.status(row.id).sync_ok })),
        instances: () =>
          this.store.listInstances().map((row) => ({
            id: row.id,
            plugin: row.type,
            state: this.supervisor.status(row.id).state,
            databasePath: row.database_engine === "sqlite" ? databases.pathOf(row.id) : null,
          })),
        workerMetrics: () => this.supervisor.workerMetrics(),
      });
    }
    const metrics = this.metrics ?? undefined;
    this.clients = new ClientPool({
      logger: this.logging.logger,
      rows: this.store,
      metrics,
      encryption: config.encryption.enabled
        ? { storeDir: config.encryption.store, pickleKey: config.encryption.pickle_key ?? loadOrCreatePickleKey(config.encryption.store) }
        : null,
    });
    this.supervisor = new InstanceSupervisor({
      records: this.store,
      plugins: this.registry,
      clients: this.clients,
      logger: this.logging.logger,
      databaseDir: config.plugin_databases.sqlite,
      webappBaseUrl: config.server.public_url + config.server.plugin_base_path,
      maxMemoryBytes: config.workers.max_memory_mb * 2 ** 20,
      maxWebResponseBytes: config.workers.max_web_response_mb * 2 ** 20,
      // Shutdown must finish within 5 s; a plugin gets 2 s for its stop().
      stopTimeoutMs: 2_000,
      metrics,
    });
    if (metrics) {
      this.supervisor.on("restartScheduled", (info) => {
        for (const id of info.instanceIds) metrics.instanceRestarted(id, info.cause);
      });
    }
    this.clients.attachSink(this.supervisor);

    await this.registry.loadAll();
    // Listen before the bot accounts start: a slow homeserver must not keep the API down.
    this.api = await startApiServer({
      config,
      store: this.store,
      logging: this.logging,
      registry: this.registry,
      supervisor: this.supervisor,
      clients: this.clients,
      version,
      metrics: this.metrics,
      startedAt,
    });
    if (this.metrics && config.metrics.listen) {
      const { startMetricsListener } = await import("./metrics/metrics-server.js");
      this.metricsListener = await startMetricsListener(config.metrics.listen, config.metrics.path, config.metrics.secret, this.metrics);
      this.log.info(`metrics on http://${config.metrics.listen.hostname}:${this.metricsListener.port}${config.metrics.path}`);
    }
    await this.clients.startAll();
    await this.supervisor.startAll();

    if (config.admin_room) {
      this.adminNotices = new AdminNoticePoster({
        ring: this.logging.ring,
        caller: this.clients,
        target: config.admin_room,
        instanceLevel: (id) => {
          const row = this.store.getInstance(id);
          return row ? levelnoOf(row.error_notification_level ?? DEFAULT_NOTIFICATION_LEVEL) : undefined;
        },
        onPostError: (err) =>
          this.log.warn({ err: err instanceof Error ? err.message : String(err) }, "could not post to the admin room"),
      });
      this.adminNotices.start();
    }

    this.state = "running";
    this.log.info({ port: this.api.port }, `botyard running on http://${config.server.hostname}:${this.api.port}/ (management API: ${API_PREFIX})`);
  }

  /** Stops everything that started; safe to call in any state and more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<void> {
    const previous = this.state;
    this.state = "stopping";
    if (previous === "new") {
      this.state = "stopped";
      return;
    }
    this.log?.info("botyard stopping");
    if (this.api) await this.bounded("management API", this.api.close(), STOP_BUDGET_MS.api);
    if (this.metricsListener) await this.bounded("metrics listener", this.metricsListener.close(), 300);
    if (this.supervisor) await this.bounded("instances", this.supervisor.stopAll(), STOP_BUDGET_MS.instances);
    await this.bounded("check threads", closeCheckThreads(), 300);
    if (this.adminNotices) await this.bounded("admin notices", this.adminNotices.stop(), 300);
    if (this.clients) await this.bounded("bot accounts", this.clients.stopAll(), STOP_BUDGET_MS.clients);
    this.store?.close();
    this.log?.info("botyard stopped");
    this.logging?.close();
    this.lock?.release();
    this.state = "stopped";
  }

  /** Waits for `work` at most `ms`; a step that overruns is logged and left behind. */
  private async bounded(what: string, work: Promise<unknown>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms);
    });
    try {
      const result = await Promise.race([work.then(() => "done" as const), timeout]);
      if (result === "timeout") this.log?.warn(`stopping ${what} took longer than ${ms} ms; going on`);
    } catch (err) {
      this.log?.error({ err }, `error while stopping ${what}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
