// Runs plugin instances: decides each one's state (InstanceStates keeps, logs and stores it),
// creates, updates and deletes them one operation per instance at a time, and routes room events,
// web requests, config changes and plugin Matrix calls between the host and the instances. The
// worker threads they run in and the restarts after a death are the WorkerFleet's; their database
// files are InstanceDatabaseFiles'.
import { EventEmitter } from "node:events";
import type { ClientCall, ClientMethod, ClientResult, CommandHelp, LogLevel, MatrixEvent, WebRequest } from "@botyard/sdk";
import type { Logger } from "pino";
import type { PluginInstanceHost } from "../bundles/plugin-registry.js";
import { HostError } from "../errors.js";
import { KeyedSerialQueue } from "../keyed-serial-queue.js";
import { componentLogger, instanceLogger } from "../logging/logging.js";
import type { RoomEventSink } from "../ports.js";
import type { InstanceRow, InstanceState } from "../store/types.js";
import { RequestTimeoutError, WorkerDiedError, type PluginWebReply } from "../workers/plugin-worker.js";
import { InstanceConfigError, resolveInstanceConfig } from "./instance-config.js";
import { InstanceDatabaseFiles } from "./instance-database-files.js";
import { checkInstanceId } from "./instance-id.js";
import { InstanceStates, type InstanceStatus } from "./instance-states.js";
import { notRunningReply, pluginWebReply } from "./plugin-web-reply.js";
import { planStart } from "./start-plan.js";
import type { InstancePatch, InstanceSupervisorOptions } from "./supervisor-options.js";
import { WorkerFleet, type FleetEvents, type FleetWorker } from "./worker-fleet.js";

export type { RestartPolicy } from "./restart-backoff.js";
export type { InstanceStatus } from "./instance-states.js";
export type { InstancePatch, InstanceRecords, InstanceSupervisorOptions, PluginSource } from "./supervisor-options.js";

export interface SupervisorEvents extends FleetEvents {
  state: [instanceId: string, state: InstanceState, lastError: string | null];
}

export class InstanceSupervisor extends EventEmitter<SupervisorEvents> implements RoomEventSink, PluginInstanceHost {
  private readonly states: InstanceStates;
  /** Operations on one instance run one at a time, in call order. */
  private readonly locks = new KeyedSerialQueue();
  private readonly log: Logger;
  private readonly fleet: WorkerFleet;
  private readonly databases: InstanceDatabaseFiles;

  constructor(private readonly options: InstanceSupervisorOptions) {
    super();
    this.log = componentLogger(options.logger, "instances");
    this.databases = new InstanceDatabaseFiles(options.databaseDir);
    this.states = new InstanceStates({ records: options.records, logger: options.logger, announce: (id, state, lastError) => this.emit("state", id, state, lastError) });
    this.fleet = new WorkerFleet({
      ...options,
      logger: this.log,
      keepMetrics: options.metrics !== undefined,
      hooks: {
        clientCall: (workerKey, ...call) => this.clientCall(workerKey, ...call),
        log: (workerKey, ...record) => this.pluginLog(workerKey, ...record),
        workerLost: (ids, reason) => this.workerLost(ids, reason),
        restartsExhausted: async (ids, message) => {
          for (const id of ids) await this.states.set(id, "failed", message);
        },
        restartInstance: (id) => this.restartFailed(id),
      },
    });
    this.fleet.on("workerDied", (info) => this.emit("workerDied", info));
    this.fleet.on("restartScheduled", (info) => this.emit("restartScheduled", info));
    this.fleet.on("gaveUp", (info) => this.emit("gaveUp", info));
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
        else await this.states.set(row.id, "stopped", row.last_error);
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
    const active = [...this.states.entries()].filter(([, rt]) => rt.workerKey !== null).map(([id]) => id);
    await withinMs(Promise.all(active.map((id) => this.stop(id))), budget + 1000);
    await this.fleet.retireAll();
  }

  // ---- one instance ----

  async create(row: InstanceRow): Promise<InstanceStatus> {
    checkInstanceId(row.id);
    return this.locks.run(row.id, async () => {
      if (await this.options.records.getInstance(row.id)) {
        throw new HostError("invalid_id", `An instance with id ${row.id} already exists.`);
      }
      await this.options.records.putInstance({ ...row, state: "stopped", last_error: null });
      this.states.reset(row.id);
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
      const rt = this.states.of(row.id);
      const active = rt.state === "running" || rt.state === "starting";
      const restartNeeded = active && (next.type !== row.type || next.primary_user !== row.primary_user || next.isolated !== row.isolated);
      const configChanged = next.config !== row.config;
      if (active && configChanged && !restartNeeded && next.enabled) {
        const plugin = this.options.plugins.get(next.type);
        if (!plugin) throw new InstanceConfigError(`plugin ${next.type} is not loaded`);
        // Whatever keeps the config from being checked refuses the change (the check thread's failures too).
        const config = await resolveInstanceConfig(plugin.bundle, next.config).catch((err: unknown) => {
          throw err instanceof InstanceConfigError ? err : new HostError("invalid_config", (err as Error).message);
        });
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
      this.states.delete(id);
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
    return this.states.status(id);
  }

  // ---- PluginInstanceHost (bundle replacement) ----

  async suspendPlugin(pluginId: string): Promise<string[]> {
    const ids = [...this.states.entries()]
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
    for (const [id, rt] of this.states.entries()) {
      if (rt.state !== "running" || !rt.row?.enabled || rt.row.primary_user !== clientId || !rt.workerKey) continue;
      this.fleet.get(rt.workerKey)?.worker.dispatch(id, event);
      this.options.metrics?.eventDispatched(id);
    }
  }

  /** Every live worker's metrics (prom-client JSON); a worker that does not answer in time is left out. */
  async workerMetrics(timeoutMs = 500): Promise<unknown[][]> {
    return this.fleet.metrics(timeoutMs);
  }

  async commandsOf(clientId: string): Promise<Array<{ instanceId: string; commands: CommandHelp[] }>> {
    const targets = [...this.states.entries()].filter(([, rt]) => rt.state === "running" && rt.row?.primary_user === clientId && rt.workerKey);
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
    const rt = this.states.get(instanceId);
    const entry = rt?.state === "running" ? this.fleet.get(rt.workerKey) : undefined;
    if (!entry) return notRunningReply(instanceId);
    return pluginWebReply(entry.worker, instanceId, request, this.options.webTimeoutMs ?? 30_000, this.instanceLog(instanceId));
  }

  // ---- internals ----

  private async doStart(id: string): Promise<void> {
    const row = await this.mustGet(id);
    const rt = this.states.of(id);
    if (rt.state === "running" || rt.state === "starting") return;
    this.fleet.cancelRestart(id);
    if (this.fleet.stopping) return;
    rt.row = row;
    const plan = await planStart(row, this.options.plugins);
    if ("reason" in plan) {
      await this.states.set(id, plan.state, plan.reason);
      return;
    }
    const { plugin, config } = plan;
    await this.states.set(id, "starting", null);
    const key = row.isolated ? `instance:${id}` : `plugin:${row.type}`;
    let entry: FleetWorker;
    try {
      entry = await this.fleet.ensureWorker(key, plugin);
    } catch (err) {
      await this.states.set(id, "failed", `the plugin's code failed to load: ${(err as Error).message}`);
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
      await this.states.set(id, "running", null);
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
      await this.states.set(id, "failed", (err as Error).message);
      if (entry.instances.size === 0) await this.fleet.retire(entry);
    }
  }

  private async doStop(id: string): Promise<void> {
    this.fleet.cancelRestart(id);
    const rt = this.states.get(id);
    if (!rt) return;
    const entry = this.fleet.get(rt.workerKey);
    if (!entry) {
      rt.workerKey = null;
      if (rt.state !== "stopped") await this.states.set(id, "stopped", rt.state === "failed" ? rt.lastError : null);
      return;
    }
    await this.states.set(id, "stopping", null);
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
    await this.states.set(id, "stopped", error);
  }

  /** The worker of these instances died: they run nowhere now. */
  private async workerLost(ids: string[], reason: string): Promise<void> {
    for (const id of ids) {
      const rt = this.states.get(id);
      if (rt) rt.workerKey = null;
      await this.states.set(id, "failed", reason);
    }
  }

  /** Only what is still failed and enabled comes back; an operator's stop or disable in between wins. */
  private async restartFailed(id: string): Promise<void> {
    await this.locks.run(id, async () => {
      if (this.fleet.stopping || this.states.get(id)?.state !== "failed") return;
      const row = await this.options.records.getInstance(id);
      if (row?.enabled) await this.doStart(id);
    }).catch((err: unknown) => this.instanceLog(id).error({ err: (err as Error).message }, "restart failed"));
  }

  private async clientCall<M extends ClientMethod>(workerKey: string, instanceId: string, call: ClientCall<M>): Promise<ClientResult<M>> {
    const rt = this.states.get(instanceId);
    // Plugin code can post on its port directly: it may act only for instances in its own worker.
    if (rt?.workerKey !== workerKey) throw new Error(`instance ${instanceId} does not run in this worker`);
    // "stopping" too: a plugin may say goodbye from its stop().
    if (!rt?.row || (rt.state !== "running" && rt.state !== "starting" && rt.state !== "stopping")) {
      throw new Error(`instance ${instanceId} is not running`);
    }
    return this.options.clients.call(rt.row.primary_user, call.method, call.params);
  }

  private pluginLog(workerKey: string, instanceId: string | null, level: LogLevel | "fatal", msg: string, fields?: Record<string, unknown>): void {
    const own = instanceId !== null && this.states.get(instanceId)?.workerKey === workerKey;
    const logger = own ? this.instanceLog(instanceId) : this.log.child({ worker: workerKey, claimedInstance: instanceId ?? undefined });
    // A plugin's fields may not pose as another logger or instance, or rewrite the record's own keys.
    const { name: _name, instance_id: _instance, client_id: _client, level: _level, time: _time, msg: _msg, pid: _pid, hostname: _host, ...safe } = fields ?? {};
    logger[level](safe, msg);
  }

  private instanceLog(id: string): Logger {
    return instanceLogger(this.options.logger, id);
  }

  private async mustGet(id: string): Promise<InstanceRow> {
    const row = await this.options.records.getInstance(id);
    if (!row) throw new HostError("instance_not_found", `Instance ${id} does not exist.`);
    return row;
  }

  private async rename(row: InstanceRow, newId: string): Promise<InstanceRow> {
    if (await this.options.records.getInstance(newId)) throw new HostError("invalid_id", `An instance with id ${newId} already exists.`);
    const rt = this.states.of(row.id);
    const wasActive = rt.state === "running" || rt.state === "starting";
    if (wasActive) await this.doStop(row.id);
    await this.options.records.renameInstance(row.id, newId);
    // The row is renamed already: a file that cannot follow is reported, and the rename goes on.
    await this.databases.rename(row.id, newId).catch((err: unknown) => {
      this.instanceLog(newId).warn({ err: (err as Error).message }, `the database files of ${row.id} could not be renamed`);
    });
    this.states.rename(row.id, newId);
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
