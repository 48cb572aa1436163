// The host's side of one plugin worker thread: spawns it, loads the bundle, sends requests and
// hands back their replies (PendingRequests), answers the plugin's Matrix calls, checks liveness
// (WorkerHeartbeat) and memory (WorkerMemoryWatch), streams web response bodies, and reports the
// worker's death (uncaught error, exit, out of memory, over its memory limit, missed heartbeat)
// exactly once, with its cause.
import { EventEmitter } from "node:events";
import { Worker, type ResourceLimits } from "node:worker_threads";
import type { ClientCall, ClientMethod, ClientResult, CommandHelp, LogLevel, WebRequest } from "@botyard/sdk";
import { checkClientCall } from "./client-call-check.js";
import { compiledFile } from "./compiled-file.js";
import { PendingRequests } from "./pending-requests.js";
import type { ClientCallMessage, HostToWorker, InstanceSpec, LoadSpec, WorkerBootData, WorkerReply, WorkerToHost } from "./plugin-protocol.js";
import { WebBodyStream } from "./web-body-stream.js";
import { RequestTimeoutError, WebResponseTooLargeError, WorkerDiedError } from "./worker-errors.js";
import { WorkerHeartbeat } from "./worker-heartbeat.js";
import { describeUsage, MB, WorkerMemoryWatch } from "./worker-memory-watch.js";

export { RequestTimeoutError, WebResponseTooLargeError, WorkerDiedError } from "./worker-errors.js";

/** Path of the compiled worker runtime. Tests run the TypeScript sources, so fall back to dist. */
export function resolveWorkerEntry(): string {
  return compiledFile("./worker-entry.js", import.meta.url);
}

export interface PluginWorkerOptions {
  label: string;
  load: LoadSpec;
  resourceLimits?: ResourceLimits;
  /** How often to send a heartbeat, and how long a worker may stay silent before it is killed. */
  heartbeatIntervalMs?: number;
  heartbeatTimeoutMs?: number;
  /** Bound on LOAD (importing the bundle). */
  loadTimeoutMs?: number;
  /** The worker is terminated when its JS heap + external memory exceeds this (checked every `memoryCheckIntervalMs`). */
  maxMemoryBytes?: number;
  memoryCheckIntervalMs?: number;
  /** Largest web response body the plugin may answer with (default 16 MiB). */
  maxWebResponseBytes?: number;
  /** Runs a plugin's Matrix call (already checked against the contract); the worker gets the result or the error message. */
  onClientCall?: (instanceId: string, call: ClientCall) => Promise<ClientResult<ClientMethod>>;
  onLog?: (instanceId: string | null, level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;
  /** The worker keeps metrics of its instances (METRICS_REQUEST answers them). */
  metrics?: boolean;
  workerEntry?: string;
}

/**
 * Why a worker died, as a value to count by: an uncaught error or exit of its own, memory (its JS
 * heap limit, or heap + external memory over `maxMemoryBytes`), a missed heartbeat, or a bundle
 * whose import did not finish in time.
 */
export type WorkerDeathCause = "crash" | "memory" | "heartbeat" | "load_timeout";

export interface WorkerDeath {
  cause: WorkerDeathCause;
  /** What happened, for people (`last_error`, logs). */
  message: string;
}

/** A plugin's web answer on the host: a small body as it came, a larger one as a stream pulled from the worker. */
export interface PluginWebReply {
  status: number;
  headers: Record<string, string>;
  /** Byte length of the body. */
  bytes: number;
  body: Uint8Array | string | WebBodyStream | undefined;
}

export const DEFAULT_MAX_WEB_RESPONSE_BYTES = 16 * MB;

// A measurement costs the main thread about 0.02 ms (bench/worker-limits.mjs), so checking often
// is cheap; what a plugin can allocate between two checks is what passes the limit.
const MEMORY_CHECK_INTERVAL_MS = 250;

export interface PluginWorkerEvents {
  /** The worker is gone and was not asked to go; `death` says why. Emitted once. */
  died: [death: WorkerDeath];
}

export class PluginWorker extends EventEmitter<PluginWorkerEvents> {
  readonly label: string;
  readonly startedAt = Date.now();
  private readonly worker: Worker;
  private readonly requests = new PendingRequests();
  /** Web bodies being pulled, by the reqId of their request. */
  private readonly bodies = new Map<number, WebBodyStream>();
  private readonly memoryWatch: WorkerMemoryWatch | null;
  private readonly heartbeat: WorkerHeartbeat;
  private death: WorkerDeath | null = null;
  private lastFatal: string | null = null;
  private lastError: Error | null = null;
  private shuttingDown = false;
  private readonly exited: Promise<void>;
  private loaded: Promise<void>;

  constructor(private readonly options: PluginWorkerOptions) {
    super();
    this.label = options.label;
    const boot: WorkerBootData = {
      label: options.label,
      maxWebResponseBytes: options.maxWebResponseBytes ?? DEFAULT_MAX_WEB_RESPONSE_BYTES,
      metrics: options.metrics ?? false,
    };
    this.worker = new Worker(options.workerEntry ?? resolveWorkerEntry(), {
      workerData: boot,
      resourceLimits: options.resourceLimits,
      // The worker's stdout/stderr go to the host's; plugin logs go through LOG messages.
      stdout: false,
      stderr: false,
    });
    this.exited = new Promise((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.on("error", (err) => {
      this.lastError = err;
    });
    this.worker.on("exit", (code) => this.onExit(code));
    this.worker.on("message", (message: WorkerToHost) => this.onMessage(message));

    this.loaded = new Promise<void>((resolve, reject) => {
      const timeoutMs = options.loadTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        reject(new RequestTimeoutError(`loading ${options.load.main} in ${options.label}`, timeoutMs));
        this.kill({ cause: "load_timeout", message: `loading the bundle took longer than ${timeoutMs} ms` });
      }, timeoutMs);
      const onMessage = (message: WorkerToHost) => {
        if (message.type === "READY") this.send({ type: "LOAD", spec: options.load });
        else if (message.type === "LOADED") done();
        else if (message.type === "LOAD_FAILED") done(new Error(message.error));
      };
      const onDeath = (death: WorkerDeath) => done(new WorkerDiedError(death.message));
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.worker.off("message", onMessage);
        this.off("died", onDeath);
        if (err) reject(err);
        else resolve();
      };
      this.worker.on("message", onMessage);
      this.on("died", onDeath);
    });
    // Callers await `ready()`; this keeps an early failure from being reported as unhandled.
    this.loaded.catch(() => undefined);
    const maxMemory = options.maxMemoryBytes;
    this.memoryWatch =
      maxMemory === undefined
        ? null
        : new WorkerMemoryWatch(this.worker, maxMemory, options.memoryCheckIntervalMs ?? MEMORY_CHECK_INTERVAL_MS, (usage) =>
            this.kill({ cause: "memory", message: `the worker used ${describeUsage(usage)}, over its limit of ${Math.round(maxMemory / MB)} MB` }),
          );
    this.heartbeat = new WorkerHeartbeat(
      options.heartbeatIntervalMs ?? 5000,
      options.heartbeatTimeoutMs ?? 15_000,
      (seq) => this.send({ type: "HEARTBEAT", seq }),
      (timeoutMs) => this.kill({ cause: "heartbeat", message: `the worker did not answer a heartbeat for ${timeoutMs} ms (is a plugin stuck in a loop?)` }),
    );
    this.heartbeat.start();
    this.memoryWatch?.start();
  }

  /** Resolves once the bundle is imported and its class checked; rejects with the reason otherwise. */
  ready(): Promise<void> {
    return this.loaded;
  }

  get alive(): boolean {
    return this.death === null && !this.shuttingDown;
  }

  async startInstance(instance: InstanceSpec, timeoutMs: number): Promise<void> {
    const reply = await this.request((reqId) => ({ type: "START_INSTANCE", reqId, instance }), timeoutMs, `starting ${instance.instanceId}`);
    if (reply.type === "INSTANCE_STARTED" && reply.error !== undefined) throw new Error(reply.error);
  }

  async stopInstance(instanceId: string, timeoutMs: number): Promise<void> {
    const reply = await this.request((reqId) => ({ type: "STOP_INSTANCE", reqId, instanceId }), timeoutMs, `stopping ${instanceId}`);
    if (reply.type === "INSTANCE_STOPPED" && reply.error !== undefined) throw new Error(reply.error);
  }

  /**
   * Runs a web request; `timeoutMs` bounds the plugin's handler (until its answer starts). Throws
   * WebResponseTooLargeError for a body over the limit, an Error with the handler's message when it failed.
   */
  async web(instanceId: string, request: WebRequest, timeoutMs: number): Promise<PluginWebReply> {
    const reply = await this.request((reqId) => ({ type: "WEB_REQUEST", reqId, instanceId, request }), timeoutMs, `web request to ${instanceId}`);
    if (reply.type !== "WEB_RESPONSE") throw new Error(`unexpected reply ${reply.type}`);
    if ("failure" in reply) {
      const { failure } = reply;
      throw failure.kind === "too_large" ? new WebResponseTooLargeError(failure.bytes, failure.limit) : new Error(failure.message);
    }
    const { status, headers, bytes, body } = reply.head;
    const limit = this.options.maxWebResponseBytes ?? DEFAULT_MAX_WEB_RESPONSE_BYTES;
    // The worker runtime checks the limit; plugin code posting on its port directly is checked here.
    if (bytes > limit) {
      this.cancelBody(reply.reqId);
      throw new WebResponseTooLargeError(bytes, limit);
    }
    if (body !== undefined || bytes === 0) return { status, headers, bytes, body };
    const stream = new WebBodyStream(
      bytes,
      () => {
        if (this.alive) this.send({ type: "WEB_BODY_PULL", streamId: reply.reqId });
      },
      () => this.cancelBody(reply.reqId),
    );
    this.bodies.set(reply.reqId, stream);
    return { status, headers, bytes, body: stream };
  }

  async updateConfig(instanceId: string, config: Record<string, unknown>, timeoutMs: number): Promise<void> {
    const reply = await this.request((reqId) => ({ type: "CONFIG_UPDATE", reqId, instanceId, config }), timeoutMs, `config update of ${instanceId}`);
    if (reply.type === "CONFIG_UPDATED" && reply.error !== undefined) throw new Error(reply.error);
  }

  async commands(instanceId: string, timeoutMs: number): Promise<CommandHelp[]> {
    const reply = await this.request((reqId) => ({ type: "COMMANDS_REQUEST", reqId, instanceId }), timeoutMs, `commands of ${instanceId}`);
    if (reply.type !== "COMMANDS_RESULT") throw new Error(`unexpected reply ${reply.type}`);
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply.commands ?? [];
  }

  /** The worker's metrics in prom-client's JSON form (empty when it keeps none). */
  async metrics(timeoutMs: number): Promise<unknown[]> {
    const reply = await this.request((reqId) => ({ type: "METRICS_REQUEST", reqId }), timeoutMs, "metrics");
    if (reply.type !== "METRICS_RESULT") throw new Error(`unexpected reply ${reply.type}`);
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply.metrics ?? [];
  }

  /** Fire and forget: the worker logs a handler's failure against the instance. */
  dispatch(instanceId: string, event: import("@botyard/sdk").MatrixEvent): void {
    if (this.alive) this.send({ type: "EVENT", instanceId, event });
  }

  /** Asks the worker to close its databases and exit; terminates it if it does not within `timeoutMs`. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    if (this.death !== null) return this.exited;
    this.shuttingDown = true;
    this.stopChecks();
    this.send({ type: "SHUTDOWN" });
    const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Ends the worker now without reporting a death: its work is done (a probe, a failed load). */
  async terminate(): Promise<void> {
    if (this.death === null) {
      this.shuttingDown = true;
      this.stopChecks();
      void this.worker.terminate();
    }
    await this.exited;
  }

  /** Terminates the worker now and reports it dead with `death`. */
  private kill(death: WorkerDeath): void {
    if (this.death !== null || this.shuttingDown) return;
    this.markDead(death);
    void this.worker.terminate();
  }

  private send(message: HostToWorker): void {
    this.worker.postMessage(message);
  }

  private request(build: (reqId: number) => HostToWorker, timeoutMs: number, what: string): Promise<WorkerReply> {
    if (this.death !== null) return Promise.reject(new WorkerDiedError(this.death.message));
    if (this.shuttingDown) return Promise.reject(new WorkerDiedError("the worker is shutting down"));
    return this.requests.open((reqId) => this.send(build(reqId)), timeoutMs, what);
  }

  private onMessage(message: WorkerToHost): void {
    switch (message.type) {
      case "HEARTBEAT_ACK":
        this.heartbeat.ack();
        return;
      case "LOG":
        if (message.level === "fatal" && message.instanceId === null) this.lastFatal = message.msg;
        this.options.onLog?.(message.instanceId, message.level, message.msg, message.fields);
        return;
      case "CLIENT_CALL":
        void this.runClientCall(message);
        return;
      case "WEB_BODY": {
        const stream = this.bodies.get(message.streamId);
        if (message.last) this.bodies.delete(message.streamId);
        stream?.deliver(message.chunk, message.last);
        return;
      }
      case "READY":
      case "LOADED":
      case "LOAD_FAILED":
        return;
      default:
        // A web answer after its request timed out: the worker may hold its body for us.
        if (!this.requests.settle(message) && message.type === "WEB_RESPONSE") this.cancelBody(message.reqId);
    }
  }

  private async runClientCall({ callId, instanceId, method, params }: ClientCallMessage): Promise<void> {
    try {
      if (!this.options.onClientCall) throw new Error("this host runs no Matrix clients");
      // The message's type is what a well-behaved worker sends; plugin code may have posted anything.
      const result = await this.options.onClientCall(instanceId, checkClientCall(method, params));
      if (this.alive) this.send({ type: "CLIENT_RESULT", callId, ok: true, result });
    } catch (err) {
      if (this.alive) this.send({ type: "CLIENT_RESULT", callId, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private stopChecks(): void {
    this.heartbeat.stop();
    this.memoryWatch?.stop();
  }

  private onExit(code: number): void {
    this.stopChecks();
    if (this.shuttingDown) {
      this.failPending(new WorkerDiedError("the worker was shut down"));
      return;
    }
    if (this.death !== null) return;
    const err = this.lastError as (Error & { code?: string }) | null;
    if (err?.code === "ERR_WORKER_OUT_OF_MEMORY") this.markDead({ cause: "memory", message: `the worker ran out of JS heap (${err.message})` });
    else if (err) this.markDead({ cause: "crash", message: `the worker crashed: ${err.message}` });
    else if (this.lastFatal) this.markDead({ cause: "crash", message: `the worker crashed: ${this.lastFatal}` });
    else this.markDead({ cause: "crash", message: `the worker exited with code ${code}` });
  }

  private markDead(death: WorkerDeath): void {
    if (this.death !== null) return;
    this.death = death;
    this.stopChecks();
    this.failPending(new WorkerDiedError(death.message));
    this.emit("died", death);
  }

  private failPending(err: Error): void {
    this.requests.failAll(err);
    for (const stream of this.bodies.values()) stream.destroy(err);
    this.bodies.clear();
  }

  /** The worker drops the rest of body `reqId` (the client went away, or it is not wanted). */
  private cancelBody(reqId: number): void {
    this.bodies.delete(reqId);
    if (this.alive) this.send({ type: "WEB_BODY_CANCEL", streamId: reqId });
  }
}
