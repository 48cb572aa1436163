// The worker threads of the running instances: one per plugin (an `isolated` instance gets its
// own), started on first need, retired when their last instance stops, and after a worker's death
// its instances restarted with exponential backoff. The fleet knows which instance ids run in which
// worker, not their rows or states: what a death or a restart does to an instance is the
// supervisor's, through FleetHooks.
import { EventEmitter } from "node:events";
import type { ResourceLimits } from "node:worker_threads";
import type { Logger } from "pino";
import type { LoadedPlugin } from "../bundles/plugin-registry.js";
import { PluginWorker, type PluginWorkerOptions, type WorkerDeath, type WorkerDeathCause } from "../workers/plugin-worker.js";
import { WORKER_MEMORY_MEASURABLE } from "../workers/worker-memory-watch.js";
import { RestartBackoff, type RestartPolicy } from "./restart-backoff.js";

/** Memory a worker may use (JS heap + external) unless configured otherwise. */
export const DEFAULT_MAX_MEMORY_BYTES = 512 * 2 ** 20;

/** How every worker runs and restarts (the supervisor's options carry them). */
export interface WorkerSettings {
  /** V8 heap limits of each worker; by default its old generation may use `maxMemoryBytes`. */
  resourceLimits?: ResourceLimits;
  /** A worker whose JS heap + external memory (Buffers) exceeds this is terminated (default 512 MiB). */
  maxMemoryBytes?: number;
  /** How often each worker's memory is measured (default 250 ms). */
  memoryCheckIntervalMs?: number;
  /** Largest web response body a plugin may answer with (default 16 MiB). */
  maxWebResponseBytes?: number;
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  restart?: Partial<RestartPolicy>;
}

type ClientCallHandler = NonNullable<PluginWorkerOptions["onClientCall"]>;
type LogHandler = NonNullable<PluginWorkerOptions["onLog"]>;

/** What the fleet asks of the instances' side (the supervisor). */
export interface FleetHooks {
  /** A plugin's Matrix call, from the worker under `workerKey`. */
  clientCall(workerKey: string, ...call: Parameters<ClientCallHandler>): ReturnType<ClientCallHandler>;
  /** A plugin's log record, from the worker under `workerKey`. */
  log(workerKey: string, ...record: Parameters<LogHandler>): void;
  /** The worker of these instances died: they run nowhere now and failed with `reason`. */
  workerLost(instanceIds: string[], reason: string): Promise<void>;
  /** No restart will come for these instances; they stay failed with `message`. */
  restartsExhausted(instanceIds: string[], message: string): Promise<void>;
  /** A scheduled restart is due: start `instanceId` again if it is still failed and enabled. */
  restartInstance(instanceId: string): Promise<void>;
}

export interface WorkerFleetOptions extends WorkerSettings {
  logger: Logger;
  /** Workers keep metrics of their instances (METRICS_REQUEST answers them). */
  keepMetrics: boolean;
  hooks: FleetHooks;
}

export interface FleetEvents {
  workerDied: [info: { workerKey: string; cause: WorkerDeathCause; message: string; instanceIds: string[] }];
  restartScheduled: [info: { workerKey: string; attempt: number; delayMs: number; instanceIds: string[]; cause: WorkerDeathCause }];
  gaveUp: [info: { workerKey: string; attempts: number; instanceIds: string[] }];
}

export interface FleetWorker {
  key: string;
  worker: PluginWorker;
  pluginId: string;
  instances: Set<string>;
  /** Set when the worker died: the instances it had then (their failure is handled there). */
  casualties: Set<string> | null;
}

export class WorkerFleet extends EventEmitter<FleetEvents> {
  private readonly workers = new Map<string, FleetWorker>();
  private readonly starting = new Map<string, Promise<FleetWorker>>();
  private readonly backoff: RestartBackoff;
  private closed = false;

  constructor(private readonly options: WorkerFleetOptions) {
    super();
    this.backoff = new RestartBackoff(options.restart);
    if (!WORKER_MEMORY_MEASURABLE) {
      options.logger.warn(`Node.js ${process.version} cannot measure a worker's memory from outside (22.16+ and 24+ can): Buffers a plugin keeps are not bounded; upgrade Node.js`);
    }
  }

  /** From close() until open(): a death schedules no restart, and the supervisor starts nothing. */
  get stopping(): boolean {
    return this.closed;
  }

  /** Restarts after deaths are scheduled again (the host starts its instances). */
  open(): void {
    this.closed = false;
  }

  /** Cancels every scheduled restart and schedules none until open() (the host stops). */
  close(): void {
    this.closed = true;
    this.backoff.cancelAll();
  }

  /** The worker under `key`, if it runs. */
  get(key: string | null): FleetWorker | undefined {
    return key === null ? undefined : this.workers.get(key);
  }

  /** Every running worker. */
  all(): FleetWorker[] {
    return [...this.workers.values()];
  }

  /** The worker under `key`, started (its bundle loaded) if none runs; concurrent callers share one start. */
  ensureWorker(key: string, plugin: LoadedPlugin): Promise<FleetWorker> {
    const existing = this.workers.get(key);
    if (existing?.worker.alive) return Promise.resolve(existing);
    const pending = this.starting.get(key);
    if (pending) return pending;
    const { options } = this;
    const maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
    const starting = (async () => {
      const worker = new PluginWorker({
        label: key,
        load: { bundleDir: plugin.codeDir, main: plugin.bundle.manifest.main, mainClass: plugin.bundle.manifest.main_class },
        resourceLimits: options.resourceLimits ?? { maxOldGenerationSizeMb: Math.round(maxMemoryBytes / 2 ** 20) },
        maxMemoryBytes,
        memoryCheckIntervalMs: options.memoryCheckIntervalMs,
        maxWebResponseBytes: options.maxWebResponseBytes,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        heartbeatTimeoutMs: options.heartbeatTimeoutMs,
        onClientCall: (...call) => options.hooks.clientCall(key, ...call),
        onLog: (...record) => options.hooks.log(key, ...record),
        metrics: options.keepMetrics,
      });
      const entry: FleetWorker = { key, worker, pluginId: plugin.id, instances: new Set(), casualties: null };
      worker.on("died", (death) => void this.onWorkerDied(entry, death));
      try {
        await worker.ready();
      } catch (err) {
        await worker.terminate();
        throw err;
      }
      this.workers.set(key, entry);
      options.logger.info({ worker: key, plugin: plugin.id, version: plugin.version }, `worker ${key} started`);
      return entry;
    })();
    this.starting.set(key, starting);
    return starting.finally(() => this.starting.delete(key));
  }

  /** Shuts the worker down (its instances are stopped already); its death is no longer reported. */
  async retire(entry: FleetWorker): Promise<void> {
    if (this.workers.get(entry.key) === entry) this.workers.delete(entry.key);
    entry.worker.removeAllListeners("died");
    await entry.worker.shutdown(1000);
    this.options.logger.info({ worker: entry.key }, `worker ${entry.key} stopped`);
  }

  /** Every running worker's metrics (prom-client JSON); a worker that does not answer in time is left out. */
  async metrics(timeoutMs: number): Promise<unknown[][]> {
    const answers = await Promise.all(this.all().map((entry) => entry.worker.metrics(timeoutMs).catch(() => null)));
    return answers.filter((a): a is unknown[] => a !== null);
  }

  /** Retires every worker of `pluginId`, so nothing of its code stays loaded. */
  async retirePlugin(pluginId: string): Promise<void> {
    await Promise.all(this.all().filter((e) => e.pluginId === pluginId).map((e) => this.retire(e)));
  }

  async retireAll(): Promise<void> {
    await Promise.all(this.all().map((entry) => this.retire(entry)));
  }

  /** Forgets the restart scheduled for `instanceId` (an operator's stop or change wins). */
  cancelRestart(instanceId: string): void {
    this.backoff.cancel(instanceId);
  }

  private async onWorkerDied(entry: FleetWorker, death: WorkerDeath): Promise<void> {
    const { logger, hooks } = this.options;
    if (this.workers.get(entry.key) === entry) this.workers.delete(entry.key);
    const affected = [...entry.instances];
    entry.casualties = new Set(affected);
    entry.instances.clear();
    // The cause leads, so an operator (and a script) reads it first in last_error.
    const reason = `${death.cause}: ${death.message}`;
    logger.error({ worker: entry.key, cause: death.cause, reason: death.message, instances: affected }, `worker ${entry.key} died: ${reason}`);
    this.emit("workerDied", { workerKey: entry.key, cause: death.cause, message: death.message, instanceIds: affected });
    await hooks.workerLost(affected, reason);
    if (affected.length === 0 || this.closed) return;
    const { attempt, delayMs } = this.backoff.recordCrash(entry.key, Date.now() - entry.worker.startedAt);
    if (delayMs === null) {
      const attempts = this.backoff.policy.maxAttempts;
      await hooks.restartsExhausted(affected, `${reason} (gave up after ${attempts} restarts)`);
      logger.error({ worker: entry.key, instances: affected }, `worker ${entry.key}: giving up after ${attempts} restarts`);
      this.emit("gaveUp", { workerKey: entry.key, attempts, instanceIds: affected });
      return;
    }
    logger.warn({ worker: entry.key, attempt, delayMs }, `restarting ${affected.join(", ")} in ${delayMs} ms (attempt ${attempt})`);
    this.emit("restartScheduled", { workerKey: entry.key, attempt, delayMs, instanceIds: affected, cause: death.cause });
    for (const id of affected) this.backoff.schedule(id, delayMs, () => void this.restartFailed(id));
  }

  private async restartFailed(instanceId: string): Promise<void> {
    if (this.closed) return;
    await this.options.hooks.restartInstance(instanceId);
  }
}
