// The host's side of one plugin worker thread: spawns it, loads the bundle, correlates requests
// and replies, answers the plugin's Matrix calls, checks liveness with a heartbeat, and reports
// the worker's death (uncaught error, exit, out of memory, missed heartbeat) exactly once.
import { EventEmitter } from "node:events";
import { Worker, type ResourceLimits } from "node:worker_threads";
import type { CommandHelp, LogLevel, WebRequest, WebResponse } from "@botyard/sdk";
import { compiledFile } from "../workers/compiled-file.js";
import type { HostToWorker, InstanceSpec, LoadSpec, WorkerBootData, WorkerReply, WorkerToHost } from "./protocol.js";

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
  /** Runs a plugin's Matrix call; the worker gets the result or the error message. */
  onClientCall?: (instanceId: string, method: string, params: unknown) => Promise<unknown>;
  onLog?: (instanceId: string | null, level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;
  workerEntry?: string;
}

/** Raised for every request in flight when the worker dies, and by requests after its death. */
export class WorkerDiedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerDiedError";
  }
}

export class RequestTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = "RequestTimeoutError";
  }
}

type Pending = { resolve: (reply: WorkerReply) => void; reject: (err: Error) => void };

export interface PluginWorkerEvents {
  /** The worker is gone and was not asked to go; `reason` says why. Emitted once. */
  died: [reason: string];
}

export class PluginWorker extends EventEmitter<PluginWorkerEvents> {
  readonly label: string;
  readonly startedAt = Date.now();
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextReqId = 1;
  private heartbeatSeq = 0;
  private lastAck = Date.now();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private deathReason: string | null = null;
  private lastFatal: string | null = null;
  private lastError: Error | null = null;
  private shuttingDown = false;
  private readonly exited: Promise<void>;
  private loaded: Promise<void>;

  constructor(private readonly options: PluginWorkerOptions) {
    super();
    this.label = options.label;
    const boot: WorkerBootData = { label: options.label };
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
        this.kill(`loading the bundle took longer than ${timeoutMs} ms`);
      }, timeoutMs);
      const onMessage = (message: WorkerToHost) => {
        if (message.type === "READY") this.send({ type: "LOAD", spec: options.load });
        else if (message.type === "LOADED") done();
        else if (message.type === "LOAD_FAILED") done(new Error(message.error));
      };
      const onDeath = (reason: string) => done(new WorkerDiedError(reason));
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
    this.startHeartbeat();
  }

  /** Resolves once the bundle is imported and its class checked; rejects with the reason otherwise. */
  ready(): Promise<void> {
    return this.loaded;
  }

  get alive(): boolean {
    return this.deathReason === null && !this.shuttingDown;
  }

  async startInstance(instance: InstanceSpec, timeoutMs: number): Promise<void> {
    const reply = await this.request((reqId) => ({ type: "START_INSTANCE", reqId, instance }), timeoutMs, `starting ${instance.instanceId}`);
    if (reply.type === "INSTANCE_STARTED" && reply.error !== undefined) throw new Error(reply.error);
  }

  async stopInstance(instanceId: string, timeoutMs: number): Promise<void> {
    const reply = await this.request((reqId) => ({ type: "STOP_INSTANCE", reqId, instanceId }), timeoutMs, `stopping ${instanceId}`);
    if (reply.type === "INSTANCE_STOPPED" && reply.error !== undefined) throw new Error(reply.error);
  }

  async web(instanceId: string, request: WebRequest, timeoutMs: number): Promise<WebResponse> {
    const reply = await this.request((reqId) => ({ type: "WEB_REQUEST", reqId, instanceId, request }), timeoutMs, `web request to ${instanceId}`);
    if (reply.type !== "WEB_RESPONSE") throw new Error(`unexpected reply ${reply.type}`);
    if (reply.error !== undefined || !reply.response) throw new Error(reply.error ?? "no response");
    return reply.response;
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

  /** Fire and forget: the worker logs a handler's failure against the instance. */
  dispatch(instanceId: string, event: import("@botyard/sdk").MatrixEvent): void {
    if (this.alive) this.send({ type: "EVENT", instanceId, event });
  }

  /** Asks the worker to close its databases and exit; terminates it if it does not within `timeoutMs`. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    if (this.deathReason !== null) return this.exited;
    this.shuttingDown = true;
    this.stopHeartbeat();
    this.send({ type: "SHUTDOWN" });
    const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Terminates the worker now and reports it dead with `reason`. */
  kill(reason: string): void {
    if (this.deathReason !== null || this.shuttingDown) return;
    this.markDead(reason);
    void this.worker.terminate();
  }

  /** Resolves when the thread has exited. */
  whenExited(): Promise<void> {
    return this.exited;
  }

  private send(message: HostToWorker): void {
    this.worker.postMessage(message);
  }

  private request(build: (reqId: number) => HostToWorker, timeoutMs: number, what: string): Promise<WorkerReply> {
    if (this.deathReason !== null) return Promise.reject(new WorkerDiedError(this.deathReason));
    if (this.shuttingDown) return Promise.reject(new WorkerDiedError("the worker is shutting down"));
    const reqId = this.nextReqId++;
    return new Promise<WorkerReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(new RequestTimeoutError(what, timeoutMs));
      }, timeoutMs);
      this.pending.set(reqId, {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      this.send(build(reqId));
    });
  }

  private onMessage(message: WorkerToHost): void {
    switch (message.type) {
      case "HEARTBEAT_ACK":
        this.lastAck = Date.now();
        return;
      case "LOG":
        if (message.level === "fatal" && message.instanceId === null) this.lastFatal = message.msg;
        this.options.onLog?.(message.instanceId, message.level, message.msg, message.fields);
        return;
      case "CLIENT_CALL":
        void this.runClientCall(message.callId, message.instanceId, message.method, message.params);
        return;
      case "READY":
      case "LOADED":
      case "LOAD_FAILED":
        return;
      default: {
        const pending = this.pending.get(message.reqId);
        if (!pending) return;
        this.pending.delete(message.reqId);
        pending.resolve(message);
      }
    }
  }

  private async runClientCall(callId: number, instanceId: string, method: string, params: unknown): Promise<void> {
    try {
      if (!this.options.onClientCall) throw new Error("this host runs no Matrix clients");
      const result = await this.options.onClientCall(instanceId, method, params);
      if (this.alive) this.send({ type: "CLIENT_RESULT", callId, ok: true, result });
    } catch (err) {
      if (this.alive) this.send({ type: "CLIENT_RESULT", callId, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }

  private startHeartbeat(): void {
    const interval = this.options.heartbeatIntervalMs ?? 5000;
    const timeout = this.options.heartbeatTimeoutMs ?? 15_000;
    let lastTick = Date.now();
    this.heartbeatTimer = setInterval(() => {
      const now = Date.now();
      // If the host itself stalled, the worker's answers may still be queued here: give it a new period.
      if (now - lastTick > interval * 2) this.lastAck = now;
      lastTick = now;
      if (now - this.lastAck > timeout) {
        this.kill(`the worker did not answer a heartbeat for ${timeout} ms (is a plugin stuck in a loop?)`);
        return;
      }
      this.send({ type: "HEARTBEAT", seq: ++this.heartbeatSeq });
    }, interval);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private onExit(code: number): void {
    this.stopHeartbeat();
    if (this.shuttingDown) {
      this.failPending(new WorkerDiedError("the worker was shut down"));
      return;
    }
    if (this.deathReason !== null) return;
    let reason: string;
    const err = this.lastError as (Error & { code?: string }) | null;
    if (err?.code === "ERR_WORKER_OUT_OF_MEMORY") reason = `the worker ran out of memory (${err.message})`;
    else if (err) reason = `the worker crashed: ${err.message}`;
    else if (this.lastFatal) reason = `the worker crashed: ${this.lastFatal}`;
    else reason = `the worker exited with code ${code}`;
    this.markDead(reason);
  }

  private markDead(reason: string): void {
    if (this.deathReason !== null) return;
    this.deathReason = reason;
    this.stopHeartbeat();
    this.failPending(new WorkerDiedError(reason));
    this.emit("died", reason);
  }

  private failPending(err: Error): void {
    for (const pending of this.pending.values()) pending.reject(err);
    this.pending.clear();
  }
}
