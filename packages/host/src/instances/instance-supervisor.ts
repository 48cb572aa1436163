// Runs plugin instances: their states with every change logged and stored, create, update and
// delete one operation per instance at a time, and routing of room events, web requests, config
// changes and plugin Matrix calls between the host and the instances. The worker threads they run
// in, and their restarts after a death, are the WorkerFleet's.
import { EventEmitter } from "node:events";
import type { ClientMethod, CommandHelp, LogLevel, MatrixEvent, WebRequest } from "@botyard/sdk";
import type { Logger } from "pino";
import type { LoadedPlugin, PluginInstanceHost } from "../bundles/plugin-registry.js";
import { ApiError, type ErrCode } from "../errors.js";
import { KeyedSerialQueue } from "../keyed-serial-queue.js";
import { componentLogger, instanceLogger } from "../logging/logging.js";
import type { ClientCaller, RoomEventSink } from "../ports.js";
import type { InstanceMetricsRecorder } from "../metrics/recorder.js";
import type { InstanceRow, InstanceState } from "../store/types.js";
import { InstanceConfigError, resolveInstanceConfig } from "./instance-config.js";
import { InstanceDatabaseFiles } from "./instance-database-files.js";
import { RequestTimeoutError, WebResponseTooLargeError, WorkerDiedError, type PluginWebReply } from "../workers/plugin-worker.js";
import { WorkerFleet, type FleetEvents, type FleetWorker, type WorkerSettings } from "./worker-fleet.js";

export type { RestartPolicy } from "./restart-backoff.js";

/** What the supervisor needs from the host store (HostStore has these). */
export interface InstanceRecords {
  listInstances(): InstanceRow[] | Promise<InstanceRow[]>;
  getInstance(id: string): InstanceRow | null | undefined | Promise<InstanceRow | null | undefined>;
  putInstance(row: InstanceRow): unknown;
  deleteInstance(id: string): unknown;
  renameInstance(oldId: string, newId: string): unknown;
  setInstanceState(id: string, state: InstanceState, lastError: string | null): unknown;
}

/** Where loaded plugins come from (PluginRegistry). */
export interface PluginSource {
  get(id: string): LoadedPlugin | undefined;
  attachInstances?(host: PluginInstanceHost): void;
}

export interface InstanceSupervisorOptions extends WorkerSettings {
  records: InstanceRecords;
  plugins: PluginSource;
  clients: ClientCaller;
  logger: Logger;
  /** Folder of the instance databases (`plugin_databases.sqlite`). */
  databaseDir: string;
  /** `public_url` + `plugin_base_path` (ends with "/"); null when there is no public URL. */
  webappBaseUrl?: string | null;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  webTimeoutMs?: number;
  /** Counts events handed to instances, and makes workers keep metrics (default: off). */
  metrics?: InstanceMetricsRecorder;
}

export interface InstanceStatus {
  state: InstanceState;
  lastError: string | null;
}

export type InstancePatch = Partial<Pick<InstanceRow, "id" | "type" | "enabled" | "primary_user" | "config" | "database_engine" | "isolated" | "error_notification_level">>;

export interface SupervisorEvents extends FleetEvents {
  state: [instanceId: string, state: InstanceState, lastError: string | null];
}

interface InstanceRuntime {
  state: InstanceState;
  lastError: string | null;
  /** Snapshot of the row the instance was started with. */
  row: InstanceRow | null;
  workerKey: string | null;
}

const MAX_INSTANCE_ID_LENGTH = 100;
const MAX_INSTANCE_ID_BYTES = 200;

/** Why `id` cannot name an instance (it names its database file and a URL segment), or null. */
export function invalidInstanceId(id: string): string | null {
  // The id names its database file `<id>.db` (and `<id>.db-wal`, `<id>.db.restoring`), and file
  // names end at 255 bytes: 100 characters and 200 bytes leave room for every suffix.
  if (id.length === 0 || id.length > MAX_INSTANCE_ID_LENGTH || Buffer.byteLength(id) > MAX_INSTANCE_ID_BYTES) {
    return `must be 1 to ${MAX_INSTANCE_ID_LENGTH} characters (${MAX_INSTANCE_ID_BYTES} bytes in UTF-8) long`;
  }
  if (/[/\\\x00-\x1f\x7f]/.test(id)) return "may not contain slashes, backslashes or control characters";
  if (id.startsWith(".")) return "may not start with a dot";
  return null;
}

function checkInstanceId(id: string): void {
  const problem = invalidInstanceId(id);
  if (problem) throw new ApiError("invalid_id", `Instance id ${JSON.stringify(id)} ${problem}.`);
}

export class InstanceSupervisor extends EventEmitter<SupervisorEvents> implements RoomEventSink, PluginInstanceHost {
  private readonly runtimes = new Map<string, InstanceRuntime>();
  /** Operations on one instance run one at a time, in call order. */
  private readonly locks = new KeyedSerialQueue();
  private readonly log: Logger;
  private readonly fleet: WorkerFleet;
  private readonly databases: InstanceDatabaseFiles;

  constructor(private readonly options: InstanceSupervisorOptions) {
    super();
    this.log = componentLogger(options.logger, "instances");
    this.databases = new InstanceDatabaseFiles(options.databaseDir);
    this.fleet = new WorkerFleet({
      ...options,
      logger: this.log,
      keepMetrics: options.metrics !== undefined,
      hooks: {
        clientCall: (workerKey, instanceId, method, params) => this.clientCall(workerKey, instanceId, method, params),
        log: (workerKey, instanceId, level, msg, fields) => this.pluginLog(workerKey, instanceId, level, msg, fields),
        workerLost: (ids, reason) => this.workerLost(ids, reason),
        restartsExhausted: async (ids, message) => {
          for (const id of ids) await this.setState(id, "failed", message);
        },
        restartInstance: (id) => this.restartFailed(id),
      },
    });
    this.fleet.on("workerDied", (info) => this.emit("workerDied", info));
    this.fleet.on("restartScheduled", (info) => this.emit("restartScheduled", info));
    this.fleet.on("gaveUp", (info) => this.emit("gaveUp", info));
    options.plugins.attachInstances?.(this);
  }

  // ---- lifecycle of all instances ----

  /** Starts every enabled instance; the others are recorded as stopped. */
  async startAll(): Promise<void> {
    this.fleet.open();
    const rows = await this.options.records.listInstances();
    await Promise.all(
      rows.map(async (row) => {
        if (row.enabled) await this.start(row.id);
        // A disabled instance keeps the reason it is not running (a failure, an invalid config,
        // the plugin an imported instance still needs) until it is started again.
        else await this.setState(row.id, "stopped", row.last_error);
      }),
    );
  }

  /**
   * Stops every instance (each waits for its plugin's stop up to the stop timeout) and every
   * worker. Bounded: work in flight gets one stop timeout to finish, and workers that do not exit
   * when asked are terminated.
   */
  async stopAll(): Promise<void> {
    this.fleet.close();
    const budget = this.options.stopTimeoutMs ?? 10_000;
    // Let operations in flight (a restart that already began) finish before stopping everything.
    await withinMs(this.locks.idle(), budget);
    const active = [...this.runtimes.entries()].filter(([, rt]) => rt.workerKey !== null).map(([id]) => id);
    await withinMs(Promise.all(active.map((id) => this.stop(id))), budget + 1000);
    await this.fleet.retireAll();
  }

  // ---- one instance ----

  async create(row: InstanceRow): Promise<InstanceStatus> {
    checkInstanceId(row.id);
    return this.locks.run(row.id, async () => {
      if (await this.options.records.getInstance(row.id)) {
        throw new ApiError("invalid_id", `An instance with id ${row.id} already exists.`);
      }
      await this.options.records.putInstance({ ...row, state: "stopped", last_error: null });
      this.runtimes.set(row.id, { state: "stopped", lastError: null, row: null, workerKey: null });
      if (row.enabled) await this.doStart(row.id);
      return this.status(row.id);
    });
  }

  /**
   * Changes an instance. A config change of a running instance is validated first (an invalid
   * one is refused, `invalid_config`, and nothing changes) and then reaches the plugin through
   * `__botyardConfigUpdate`; a change of plugin, client or isolation restarts it; disabling stops it.
   */
  async update(id: string, patch: InstancePatch): Promise<InstanceStatus> {
    return this.locks.run(id, async () => {
      let row = await this.mustGet(id);
      if (patch.id !== undefined && patch.id !== id) {
        checkInstanceId(patch.id);
        row = await this.rename(row, patch.id);
      }
      const next: InstanceRow = { ...row, ...patch, id: row.id };
      const rt = this.runtime(row.id);
      const active = rt.state === "running" || rt.state === "starting";
      const restartNeeded = active && (next.type !== row.type || next.primary_user !== row.primary_user || next.isolated !== row.isolated);
      const configChanged = next.config !== row.config;
      if (active && configChanged && !restartNeeded && next.enabled) {
        const plugin = this.options.plugins.get(next.type);
        let config: Record<string, unknown>;
        try {
          if (!plugin) throw new InstanceConfigError(`plugin ${next.type} is not loaded`);
          config = await resolveInstanceConfig(plugin.bundle, next.config);
        } catch (err) {
          throw new ApiError("invalid_config", (err as Error).message);
        }
        await this.options.records.putInstance({ ...next, state: rt.state, last_error: rt.lastError });
        rt.row = next;
        const entry = this.fleet.get(rt.workerKey);
        if (entry) {
          await entry.worker.updateConfig(next.id, config, this.options.startTimeoutMs ?? 30_000).catch((err: unknown) => {
            this.instanceLog(next.id).error({ err: (err as Error).message }, `config update failed: ${(err as Error).message}`);
          });
        }
        return this.status(next.id);
      }
      await this.options.records.putInstance({ ...next, state: rt.state, last_error: rt.lastError });
      if (!next.enabled) this.fleet.cancelRestart(next.id);
      if (active && (!next.enabled || restartNeeded)) await this.doStop(next.id);
      if (restartNeeded && next.enabled) await this.doStart(next.id);
      return this.status(next.id);
    });
  }

  async delete(id: string): Promise<void> {
    await this.locks.run(id, async () => {
      await this.mustGet(id);
      await this.doStop(id);
      await this.options.records.deleteInstance(id);
      this.runtimes.delete(id);
      await this.databases.remove(id);
    });
  }

  start(id: string): Promise<InstanceStatus> {
    return this.locks.run(id, async () => {
      await this.doStart(id);
      return this.status(id);
    });
  }

  stop(id: string): Promise<InstanceStatus> {
    return this.locks.run(id, async () => {
      await this.doStop(id);
      return this.status(id);
    });
  }

  status(id: string): InstanceStatus {
    const rt = this.runtimes.get(id);
    return rt ? { state: rt.state, lastError: rt.lastError } : { state: "stopped", lastError: null };
  }

  /** Stops the plugin's instances and workers and starts them again (new code, if any, is loaded). */
  async restartPlugin(pluginId: string): Promise<Array<{ instanceId: string; error: string }>> {
    const ids = await this.suspendPlugin(pluginId);
    return this.resumePlugin(pluginId, ids);
  }

  // ---- PluginInstanceHost (bundle replacement) ----

  async suspendPlugin(pluginId: string): Promise<string[]> {
    const ids = [...this.runtimes.entries()]
      .filter(([, rt]) => rt.row?.type === pluginId && (rt.state === "running" || rt.state === "starting"))
      .map(([id]) => id);
    await Promise.all(ids.map((id) => this.stop(id)));
    // Nothing of the old code may stay loaded.
    await this.fleet.retirePlugin(pluginId);
    return ids;
  }

  async resumePlugin(_pluginId: string, instanceIds: string[]): Promise<Array<{ instanceId: string; error: string }>> {
    const results = await Promise.all(instanceIds.map(async (instanceId) => ({ instanceId, status: await this.start(instanceId) })));
    return results
      .filter((r) => r.status.state !== "running")
      .map((r) => ({ instanceId: r.instanceId, error: r.status.lastError ?? `instance is ${r.status.state}` }));
  }

  // ---- RoomEventSink and routing ----

  dispatch(clientId: string, event: MatrixEvent): void {
    for (const [id, rt] of this.runtimes) {
      if (rt.state !== "running" || !rt.row?.enabled || rt.row.primary_user !== clientId || !rt.workerKey) continue;
      this.fleet.get(rt.workerKey)?.worker.dispatch(id, event);
      this.options.metrics?.eventDispatched(id);
    }
  }

  /** Every live worker's metrics (prom-client JSON); a worker that does not answer in time is left out. */
  async workerMetrics(timeoutMs = 500): Promise<unknown[][]> {
    const answers = await Promise.all(this.fleet.all().map((entry) => entry.worker.metrics(timeoutMs).catch(() => null)));
    return answers.filter((a): a is unknown[] => a !== null);
  }

  async commandsOf(clientId: string): Promise<Array<{ instanceId: string; commands: CommandHelp[] }>> {
    const targets = [...this.runtimes.entries()].filter(([, rt]) => rt.state === "running" && rt.row?.primary_user === clientId && rt.workerKey);
    const results = await Promise.all(
      targets.map(async ([id, rt]) => {
        const entry = this.fleet.get(rt.workerKey);
        if (!entry) return null;
        try {
          return { instanceId: id, commands: await entry.worker.commands(id, 5000) };
        } catch (err) {
          this.instanceLog(id).warn({ err: (err as Error).message }, "could not list commands");
          return null;
        }
      }),
    );
    return results.filter((r): r is { instanceId: string; commands: CommandHelp[] } => r !== null);
  }

  /** The instance's answer to a web request; a larger body comes as a stream pulled from its worker. */
  async handleWeb(instanceId: string, request: WebRequest): Promise<PluginWebReply> {
    const rt = this.runtimes.get(instanceId);
    const entry = rt?.state === "running" ? this.fleet.get(rt.workerKey) : undefined;
    if (!entry) return textResponse(404, `instance ${instanceId} is not running`);
    try {
      return await entry.worker.web(instanceId, request, this.options.webTimeoutMs ?? 30_000);
    } catch (err) {
      if (err instanceof RequestTimeoutError) return textResponse(504, "the plugin did not answer in time");
      if (err instanceof WorkerDiedError) return textResponse(502, "the plugin's worker stopped");
      if (err instanceof WebResponseTooLargeError) {
        this.instanceLog(instanceId).warn({ bytes: err.bytes, limit: err.limit }, `web answer refused: ${err.message}`);
        const limitMb = Math.round(err.limit / 2 ** 20);
        return errorResponse(
          "plugin_response_too_large",
          `The plugin answered with ${err.bytes} bytes, over the ${limitMb} MiB limit of plugin web responses (workers.max_web_response_mb); nothing of it was sent.`,
        );
      }
      return textResponse(500, "the plugin's web handler failed");
    }
  }

  // ---- internals ----

  private async doStart(id: string): Promise<void> {
    const row = await this.mustGet(id);
    const rt = this.runtime(id);
    if (rt.state === "running" || rt.state === "starting") return;
    this.fleet.cancelRestart(id);
    if (this.fleet.stopping) return;
    rt.row = row;
    const badId = invalidInstanceId(id);
    if (badId) {
      await this.setState(id, "failed", `the instance id ${badId}; rename it`);
      return;
    }
    const plugin = this.options.plugins.get(row.type);
    if (!plugin) {
      await this.setState(id, "failed", `plugin ${row.type} is not loaded`);
      return;
    }
    let config: Record<string, unknown>;
    try {
      config = await resolveInstanceConfig(plugin.bundle, row.config);
    } catch (err) {
      // An invalid config keeps the instance stopped; the message names the path to fix.
      await this.setState(id, "stopped", (err as Error).message);
      return;
    }
    await this.setState(id, "starting", null);
    const key = row.isolated ? `instance:${id}` : `plugin:${row.type}`;
    let entry: FleetWorker;
    try {
      entry = await this.fleet.ensureWorker(key, plugin);
    } catch (err) {
      await this.setState(id, "failed", `the plugin's code failed to load: ${(err as Error).message}`);
      return;
    }
    entry.instances.add(id);
    rt.workerKey = key;
    const manifest = plugin.bundle.manifest;
    try {
      await entry.worker.startInstance(
        {
          instanceId: id,
          userId: row.primary_user,
          config,
          dbPath: manifest.database ? this.databases.pathOf(id) : null,
          webappUrl: manifest.webapp && this.options.webappBaseUrl ? `${this.options.webappBaseUrl}${encodeURIComponent(id)}` : null,
        },
        this.options.startTimeoutMs ?? 30_000,
      );
      await this.setState(id, "running", null);
    } catch (err) {
      // A dead worker's instances are handled (failed, restart scheduled) by onWorkerDied;
      // one that joined after the death is not among them and simply failed to start.
      if (err instanceof WorkerDiedError && entry.casualties?.has(id)) return;
      entry.instances.delete(id);
      rt.workerKey = null;
      if (err instanceof RequestTimeoutError) {
        // The plugin's start hangs; release what it holds in the worker (best effort).
        void entry.worker.stopInstance(id, this.options.stopTimeoutMs ?? 10_000).catch(() => undefined);
      }
      await this.setState(id, "failed", (err as Error).message);
      if (entry.instances.size === 0) await this.fleet.retire(entry);
    }
  }

  private async doStop(id: string): Promise<void> {
    this.fleet.cancelRestart(id);
    const rt = this.runtimes.get(id);
    if (!rt) return;
    const entry = this.fleet.get(rt.workerKey);
    if (!entry) {
      rt.workerKey = null;
      if (rt.state !== "stopped") await this.setState(id, "stopped", rt.state === "failed" ? rt.lastError : null);
      return;
    }
    await this.setState(id, "stopping", null);
    let error: string | null = null;
    try {
      await entry.worker.stopInstance(id, this.options.stopTimeoutMs ?? 10_000);
    } catch (err) {
      if (!(err instanceof WorkerDiedError)) {
        error = `stop: ${(err as Error).message}`;
        this.instanceLog(id).warn({ err: (err as Error).message }, "the plugin did not stop cleanly");
      }
    }
    entry.instances.delete(id);
    rt.workerKey = null;
    if (entry.instances.size === 0) await this.fleet.retire(entry);
    await this.setState(id, "stopped", error);
  }

  /** The worker of these instances died: they run nowhere now. */
  private async workerLost(ids: string[], reason: string): Promise<void> {
    for (const id of ids) {
      const rt = this.runtimes.get(id);
      if (rt) rt.workerKey = null;
      await this.setState(id, "failed", reason);
    }
  }

  /** Only what is still failed and enabled comes back; an operator's stop or disable in between wins. */
  private async restartFailed(id: string): Promise<void> {
    await this.locks.run(id, async () => {
      if (this.fleet.stopping || this.runtimes.get(id)?.state !== "failed") return;
      const row = await this.options.records.getInstance(id);
      if (row?.enabled) await this.doStart(id);
    }).catch((err: unknown) => this.instanceLog(id).error({ err: (err as Error).message }, "restart failed"));
  }

  private async clientCall(workerKey: string, instanceId: string, method: string, params: unknown): Promise<unknown> {
    const rt = this.runtimes.get(instanceId);
    // Plugin code can post on its port directly: it may act only for instances in its own worker.
    if (rt?.workerKey !== workerKey) throw new Error(`instance ${instanceId} does not run in this worker`);
    // "stopping" too: a plugin may say goodbye from its stop().
    if (!rt?.row || (rt.state !== "running" && rt.state !== "starting" && rt.state !== "stopping")) {
      throw new Error(`instance ${instanceId} is not running`);
    }
    return this.options.clients.call(rt.row.primary_user, method as ClientMethod, params as never);
  }

  private pluginLog(workerKey: string, instanceId: string | null, level: LogLevel | "fatal", msg: string, fields?: Record<string, unknown>): void {
    const own = instanceId !== null && this.runtimes.get(instanceId)?.workerKey === workerKey;
    const logger = own ? this.instanceLog(instanceId) : this.log.child({ worker: workerKey, claimedInstance: instanceId ?? undefined });
    // A plugin's fields may not pose as another logger or instance, or rewrite the record's own keys.
    const { name: _name, instance_id: _instance, client_id: _client, level: _level, time: _time, msg: _msg, pid: _pid, hostname: _host, ...safe } = fields ?? {};
    logger[level](safe, msg);
  }

  private instanceLog(id: string): Logger {
    return instanceLogger(this.options.logger, id);
  }

  private async setState(id: string, state: InstanceState, lastError: string | null): Promise<void> {
    const rt = this.runtime(id);
    const previous = rt.state;
    rt.state = state;
    rt.lastError = lastError;
    const log = this.instanceLog(id);
    // One line per change (the stored last_error keeps a YAML error's snippet for the API).
    const summary = lastError?.split("\n")[0]!.replace(/:\s*$/, "");
    if (state === "failed") log.error({ state, previous, error: lastError }, `instance ${id}: ${previous} → ${state}: ${summary}`);
    else if (state === previous) log.info({ state, error: lastError ?? undefined }, `instance ${id} stays ${state}${summary ? `: ${summary}` : ""}`);
    else log.info({ state, previous, error: lastError ?? undefined }, `instance ${id}: ${previous} → ${state}${summary ? ` (${summary})` : ""}`);
    try {
      await this.options.records.setInstanceState(id, state, lastError);
    } catch (err) {
      log.warn({ err: (err as Error).message }, "could not store the instance state");
    }
    this.emit("state", id, state, lastError);
  }

  private runtime(id: string): InstanceRuntime {
    let rt = this.runtimes.get(id);
    if (!rt) {
      rt = { state: "stopped", lastError: null, row: null, workerKey: null };
      this.runtimes.set(id, rt);
    }
    return rt;
  }

  private async mustGet(id: string): Promise<InstanceRow> {
    const row = await this.options.records.getInstance(id);
    if (!row) throw new ApiError("instance_not_found", `Instance ${id} does not exist.`);
    return row;
  }

  private async rename(row: InstanceRow, newId: string): Promise<InstanceRow> {
    if (await this.options.records.getInstance(newId)) throw new ApiError("invalid_id", `An instance with id ${newId} already exists.`);
    const rt = this.runtime(row.id);
    const wasActive = rt.state === "running" || rt.state === "starting";
    if (wasActive) await this.doStop(row.id);
    await this.options.records.renameInstance(row.id, newId);
    // The row is renamed already: a file that cannot follow is reported, and the rename goes on.
    await this.databases.rename(row.id, newId).catch((err: unknown) => {
      this.instanceLog(newId).warn({ err: (err as Error).message }, `the database files of ${row.id} could not be renamed`);
    });
    this.runtimes.delete(row.id);
    this.runtimes.set(newId, { ...rt, row: null, workerKey: null });
    const renamed = { ...row, id: newId };
    if (wasActive) {
      // The caller's remaining patch applies to the new id; start it again there.
      await this.options.records.putInstance({ ...renamed, state: "stopped", last_error: null });
      await this.doStart(newId);
    }
    return (await this.options.records.getInstance(newId)) ?? renamed;
  }

}

/** Waits for `work`, but no longer than `ms`. */
async function withinMs(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function textResponse(status: number, text: string): PluginWebReply {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, bytes: Buffer.byteLength(text), body: text };
}

/** The host's own refusal of a plugin's answer, in the API's `{"errcode","error"}` shape. */
function errorResponse(errcode: ErrCode, message: string): PluginWebReply {
  const error = new ApiError(errcode, message);
  const body = JSON.stringify(error.toJSON());
  return { status: error.status, headers: { "content-type": "application/json" }, bytes: Buffer.byteLength(body), body };
}
