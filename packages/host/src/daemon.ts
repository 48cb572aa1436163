// The daemon: config → logging → the host (createHost: store, plugin registry, bot accounts,
// instances, API) → start. stop() takes them down in reverse, each step bounded, so
// SIGINT/SIGTERM ends the process within 5 s with the databases closed.
import path from "node:path";
import type { Logger } from "pino";
import { API_PREFIX, type ApiServer } from "./api/index.js";
import type { PluginRegistry } from "./bundles/plugin-registry.js";
import type { InstanceSupervisor } from "./instances/index.js";
import { loadConfig, type BotyardConfig, type LoadedConfig, type LoadOptions } from "./config/index.js";
import { createHost, type FullHostOptions, type Host } from "./host.js";
import { componentLogger, createLogging, type Logging, type LoggingOptions } from "./logging/index.js";
import type { ClientPool } from "./matrix/index.js";
import { assertPortFree, takeDataLock, type DataLock } from "./startup-guard.js";
import { stopWithin } from "./stop-within.js";
import type { HostMetrics } from "./metrics/host-metrics.js";
import { assertDatabaseWhole, type HostStore } from "./store/index.js";
import { hostVersion } from "./version.js";
import { closeCheckThreads } from "./workers/bounded-checks.js";

export { hostVersion } from "./version.js";

export interface DaemonOptions {
  configPath: string;
  /** Passed to loadConfig (credentials directory, rewrite). */
  load?: LoadOptions;
  /** Passed to createLogging (e.g. a console collector in tests). */
  logging?: Pick<LoggingOptions, "console" | "ringCapacity">;
  /** Passed to createHost (e.g. a test that records the room events the instances get). */
  roomEvents?: FullHostOptions["roomEvents"];
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
  private host: Host | null = null;
  private log!: Logger;
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

    // Listens before the bot accounts start: a slow homeserver must not keep the API down.
    const host = (this.host = await createHost(config, {
      logging: this.logging,
      api: { startedAt },
      roomEvents: this.options.roomEvents,
      // Shutdown must finish within 5 s; a plugin gets 2 s for its stop().
      supervisor: { stopTimeoutMs: 2_000 },
      stopBudgetsMs: STOP_BUDGET_MS,
    }));
    ({ store: this.store, registry: this.registry, clients: this.clients, supervisor: this.supervisor, metrics: this.metrics, api: this.api } = host);
    await host.start();

    this.state = "running";
    this.log.info({ port: this.api?.port }, `botyard running on http://${config.server.hostname}:${this.api?.port}/ (management API: ${API_PREFIX})`);
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
    await this.host?.close();
    await stopWithin(this.log, "check threads", closeCheckThreads(), 300);
    this.log?.info("botyard stopped");
    this.logging?.close();
    this.lock?.release();
    this.state = "stopped";
  }
}
