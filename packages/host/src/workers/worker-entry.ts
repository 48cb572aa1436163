// The worker runtime: runs inside a plugin's worker thread. Imports the bundle's module once,
// keeps one Plugin object per instance with its own PluginContext (config, database, logger,
// Matrix calls as RPC to the host), and answers the host's messages (protocol.ts).
// Errors thrown by an instance's start, handlers, web handlers or tasks are caught and logged
// against that instance (AsyncLocalStorage attributes timers and promises to the instance that
// created them); only an error no instance can be blamed for ends the worker.
import { AsyncLocalStorage } from "node:async_hooks";
import { readFile } from "node:fs/promises";
import { isAbsolute, join, normalize, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { ClientCall, ClientMethod, ClientResult, CONTRACT_VERSION, LogLevel, PluginContext, PluginLogger, PluginRuntime } from "@botyard/sdk";
import { type HostToWorker, type InstanceSpec, type LoadSpec, RUNTIME_METHODS, type WorkerBootData, type WorkerToHost } from "./plugin-protocol.js";
import { WebBodyOutbox } from "./web-body-outbox.js";
import { collectGarbageSoon } from "./worker-gc.js";

if (!parentPort) throw new Error("worker-entry.js must run in a worker thread");
const port = parentPort;
const boot = workerData as WorkerBootData;

interface RunningInstance {
  plugin: PluginRuntime;
  spec: InstanceSpec;
  config: Record<string, unknown>;
  db: Database.Database | null;
}

type PluginClass = new () => PluginRuntime;

// Not imported at runtime, so the worker never loads the SDK's code (the bundle has its own copy);
// the type ties it to the SDK's constant, so a contract bump fails to compile here.
const contractVersion: typeof CONTRACT_VERSION = 1;

const owner = new AsyncLocalStorage<string>();
const instances = new Map<string, RunningInstance>();
const pendingCalls = new Map<number, { resolve: (result: ClientResult<ClientMethod>) => void; reject: (e: Error) => void }>();
let nextCallId = 1;
let pluginClass: PluginClass | null = null;
let loadSpec: LoadSpec | null = null;
// prom-client loads in the worker only when the operator has metrics on.
const workerMetrics = boot.metrics ? new (await import("./worker-metrics.js")).WorkerMetrics(boot.label) : null;
// A released body of this size or more is worth a collection (see worker-gc.ts).
const COLLECT_AFTER_BYTES = 8 * 1024 * 1024;
const webBodies = new WebBodyOutbox(boot.maxWebResponseBytes, (bytes) => {
  if (bytes >= COLLECT_AFTER_BYTES) collectGarbageSoon();
});

function post(message: WorkerToHost): void {
  port.postMessage(message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { err: { type: err.name, message: err.message, stack: err.stack } } : { err: String(err) };
}

/** Fields that structured cloning refuses (functions, symbols) are reduced to JSON. */
function jsonFields(fields: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
  } catch {
    return { fields: String(fields) };
  }
}

// A plugin logging in a tight loop (say, a timer that throws every millisecond) must not flood
// the host's log: at most LOG_LIMIT records per second leave this worker, the rest are counted.
const LOG_LIMIT = 500;
let logWindowStart = Date.now();
let logsInWindow = 0;
let logsDropped = 0;

function log(instanceId: string | null, level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  const now = Date.now();
  if (now - logWindowStart >= 1000) {
    if (logsDropped > 0) {
      post({ type: "LOG", instanceId: null, level: "warn", msg: `${logsDropped} log records dropped (more than ${LOG_LIMIT} per second)` });
    }
    logWindowStart = now;
    logsInWindow = 0;
    logsDropped = 0;
  }
  // Fatal records explain a worker's death; they always go out.
  if (++logsInWindow > LOG_LIMIT && level !== "fatal") {
    logsDropped++;
    return;
  }
  const record: WorkerToHost = { type: "LOG", instanceId, level, msg, fields };
  try {
    // postMessage clones the fields itself and throws DataCloneError before sending anything.
    post(record);
  } catch {
    post({ ...record, fields: fields && jsonFields(fields) });
  }
}

function loggerFor(instanceId: string): PluginLogger {
  const at = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => log(instanceId, level, msg, fields);
  return { trace: at("trace"), debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

function reportUnowned(kind: string, err: unknown): void {
  const instanceId = owner.getStore();
  if (instanceId !== undefined) {
    log(instanceId, "error", `${kind} in a handler or task: ${errorText(err)}`, errorFields(err));
    return;
  }
  log(null, "fatal", `${kind} outside any instance: ${errorText(err)}`, errorFields(err));
  process.exit(1);
}
process.on("uncaughtException", (err) => reportUnowned("Uncaught exception", err));
process.on("unhandledRejection", (err) => reportUnowned("Unhandled rejection", err));

async function load(spec: LoadSpec): Promise<void> {
  const file = join(spec.bundleDir, spec.main);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const exported = mod[spec.mainClass];
  if (exported === undefined) {
    throw new Error(`${spec.main} has no export named ${JSON.stringify(spec.mainClass)} (maubot.yaml main_class)`);
  }
  if (typeof exported !== "function" || !/^class\b/.test(Function.prototype.toString.call(exported))) {
    throw new Error(`the export ${JSON.stringify(spec.mainClass)} of ${spec.main} is not a class`);
  }
  const proto = (exported as { prototype: Record<string, unknown> }).prototype;
  const missing = RUNTIME_METHODS.filter((m) => typeof proto[m] !== "function");
  if (missing.length > 0) {
    throw new Error(`the class ${JSON.stringify(spec.mainClass)} lacks ${missing.join(", ")}; extend Plugin from @botyard/sdk`);
  }
  pluginClass = exported as PluginClass;
  loadSpec = spec;
}

function openDatabase(path: string): Database.Database {
  const db = new Database(path, { timeout: 5000 });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  return db;
}

function callClient<M extends ClientMethod>(instanceId: string, call: ClientCall<M>): Promise<ClientResult<M>> {
  const callId = nextCallId++;
  return new Promise<ClientResult<M>>((resolve, reject) => {
    // The host answers a callId with the result of that call's method: the id is the link the
    // type system cannot see.
    pendingCalls.set(callId, { resolve: (result) => resolve(result as ClientResult<M>), reject });
    // ClientCall<M> is one member of the ClientCall union, but TypeScript cannot widen a generic
    // member to its union (correlated unions, microsoft/TypeScript#30581).
    post({ type: "CLIENT_CALL", callId, instanceId, ...(call as ClientCall) });
  });
}

async function readBundleFile(path: string): Promise<Uint8Array> {
  if (!loadSpec) throw new Error("bundle not loaded");
  const target = normalize(join(loadSpec.bundleDir, path));
  const rel = relative(loadSpec.bundleDir, target);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) throw new Error(`${path} is not a file of the bundle`);
  return readFile(target);
}

function contextFor(entry: RunningInstance): PluginContext {
  const { spec } = entry;
  return {
    contractVersion,
    instanceId: spec.instanceId,
    userId: spec.userId,
    get config() {
      return entry.config;
    },
    db: entry.db,
    log: loggerFor(spec.instanceId),
    webappUrl: spec.webappUrl,
    callClient: (method, params) => callClient(spec.instanceId, { method, params }),
    readBundleFile,
    ...(workerMetrics ? { metrics: workerMetrics.runtimeFor(spec.instanceId) } : {}),
  };
}

async function startInstance(spec: InstanceSpec): Promise<void> {
  if (!pluginClass) throw new Error("bundle not loaded");
  if (instances.has(spec.instanceId)) throw new Error(`instance ${spec.instanceId} already runs in this worker`);
  const db = spec.dbPath ? openDatabase(spec.dbPath) : null;
  try {
    const plugin = owner.run(spec.instanceId, () => new pluginClass!());
    const entry: RunningInstance = { plugin, spec, config: spec.config, db };
    instances.set(spec.instanceId, entry);
    try {
      await owner.run(spec.instanceId, () => plugin.__botyardStart(contextFor(entry)));
    } catch (err) {
      instances.delete(spec.instanceId);
      // Let the plugin release what its start already set up (timers, handlers).
      await owner.run(spec.instanceId, () => plugin.__botyardStop()).catch(() => undefined);
      throw err;
    }
  } catch (err) {
    db?.close();
    throw err;
  }
}

async function stopInstance(instanceId: string): Promise<void> {
  const entry = instances.get(instanceId);
  if (!entry) return;
  instances.delete(instanceId);
  try {
    await owner.run(instanceId, () => entry.plugin.__botyardStop());
  } finally {
    entry.db?.close();
  }
}

function instanceOrThrow(instanceId: string): RunningInstance {
  const entry = instances.get(instanceId);
  if (!entry) throw new Error(`instance ${instanceId} is not running in this worker`);
  return entry;
}

async function handle(message: HostToWorker): Promise<void> {
  switch (message.type) {
    case "LOAD":
      try {
        await load(message.spec);
        post({ type: "LOADED" });
      } catch (err) {
        post({ type: "LOAD_FAILED", error: errorText(err) });
      }
      return;
    case "START_INSTANCE":
      try {
        await startInstance(message.instance);
        post({ type: "INSTANCE_STARTED", reqId: message.reqId });
      } catch (err) {
        log(message.instance.instanceId, "error", `Failed to start: ${errorText(err)}`, errorFields(err));
        post({ type: "INSTANCE_STARTED", reqId: message.reqId, error: errorText(err) });
      }
      return;
    case "STOP_INSTANCE":
      try {
        await stopInstance(message.instanceId);
        post({ type: "INSTANCE_STOPPED", reqId: message.reqId });
      } catch (err) {
        log(message.instanceId, "error", `Error while stopping: ${errorText(err)}`, errorFields(err));
        post({ type: "INSTANCE_STOPPED", reqId: message.reqId, error: errorText(err) });
      }
      return;
    case "EVENT": {
      const entry = instances.get(message.instanceId);
      if (!entry) return;
      try {
        await owner.run(message.instanceId, () => entry.plugin.__botyardEvent(message.event));
      } catch (err) {
        log(message.instanceId, "error", `Handler failed for ${message.event.type} ${message.event.event_id}: ${errorText(err)}`, errorFields(err));
      }
      return;
    }
    case "WEB_REQUEST":
      try {
        const entry = instanceOrThrow(message.instanceId);
        const response = await owner.run(message.instanceId, () => entry.plugin.__botyardWeb(message.request));
        const answer = webBodies.answer(message.reqId, response);
        if ("failure" in answer) {
          const { failure } = answer;
          const why = failure.kind === "too_large" ? `its body has ${failure.bytes} bytes, over the limit of ${failure.limit}` : failure.message;
          log(message.instanceId, "error", `Web handler answer refused for ${message.request.method} ${message.request.path}: ${why}`);
        }
        post(answer);
      } catch (err) {
        log(message.instanceId, "error", `Web handler failed for ${message.request.method} ${message.request.path}: ${errorText(err)}`, errorFields(err));
        post({ type: "WEB_RESPONSE", reqId: message.reqId, failure: { kind: "handler", message: errorText(err) } });
      }
      return;
    case "WEB_BODY_PULL": {
      const chunk = webBodies.pull(message.streamId);
      if (chunk) port.postMessage(chunk, [chunk.chunk.buffer]);
      return;
    }
    case "WEB_BODY_CANCEL":
      webBodies.cancel(message.streamId);
      return;
    case "CONFIG_UPDATE":
      try {
        const entry = instanceOrThrow(message.instanceId);
        entry.config = message.config;
        await owner.run(message.instanceId, () => entry.plugin.__botyardConfigUpdate(message.config));
        post({ type: "CONFIG_UPDATED", reqId: message.reqId });
      } catch (err) {
        log(message.instanceId, "error", `Config update failed: ${errorText(err)}`, errorFields(err));
        post({ type: "CONFIG_UPDATED", reqId: message.reqId, error: errorText(err) });
      }
      return;
    case "COMMANDS_REQUEST":
      try {
        const entry = instanceOrThrow(message.instanceId);
        const commands = owner.run(message.instanceId, () => entry.plugin.__botyardCommands());
        post({ type: "COMMANDS_RESULT", reqId: message.reqId, commands });
      } catch (err) {
        post({ type: "COMMANDS_RESULT", reqId: message.reqId, error: errorText(err) });
      }
      return;
    case "CLIENT_RESULT": {
      const pending = pendingCalls.get(message.callId);
      if (!pending) return;
      pendingCalls.delete(message.callId);
      if (message.ok) pending.resolve(message.result);
      else pending.reject(new Error(message.error));
      return;
    }
    case "METRICS_REQUEST":
      try {
        post({ type: "METRICS_RESULT", reqId: message.reqId, metrics: workerMetrics ? await workerMetrics.snapshot() : [] });
      } catch (err) {
        post({ type: "METRICS_RESULT", reqId: message.reqId, error: errorText(err) });
      }
      return;
    case "HEARTBEAT":
      post({ type: "HEARTBEAT_ACK", seq: message.seq });
      return;
    case "SHUTDOWN":
      for (const entry of instances.values()) {
        try {
          entry.db?.close();
        } catch {
          // Closing is best effort on the way out.
        }
      }
      instances.clear();
      process.exit(0);
  }
}

port.on("message", (message: HostToWorker) => {
  void handle(message);
});
post({ type: "READY" });
