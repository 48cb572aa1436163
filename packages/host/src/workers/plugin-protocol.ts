// Every message between the host and a plugin worker, as one discriminated union per direction.
// Both sides import this file. The stages, in order (after homebridge's child bridges):
//   worker READY → host LOAD → worker LOADED | LOAD_FAILED
//   host START_INSTANCE → worker INSTANCE_STARTED (error set when the plugin's start threw)
//   host EVENT / WEB_REQUEST / CONFIG_UPDATE / COMMANDS_REQUEST → worker WEB_RESPONSE / CONFIG_UPDATED / COMMANDS_RESULT
//   a web body larger than one chunk: host WEB_BODY_PULL → worker WEB_BODY (repeated until `last`),
//   or host WEB_BODY_CANCEL (the client went away), so the host holds one chunk at a time
//   worker CLIENT_CALL → host CLIENT_RESULT (a plugin's Matrix call, run by the host)
//   worker LOG (any time), host HEARTBEAT → worker HEARTBEAT_ACK
//   host STOP_INSTANCE → worker INSTANCE_STOPPED; host SHUTDOWN → worker closes and exits.
// Requests the host answers or awaits carry a `reqId`; replies echo it.
import type { ClientCall, ClientMethod, ClientResult, CommandHelp, LogLevel, MatrixEvent, WebRequest } from "@botyard/sdk";

/** Given to the worker at spawn (`workerData`). */
export interface WorkerBootData {
  /** Label for logs, e.g. "plugin:xyz.maubot.echo" or "instance:echo1". */
  label: string;
  /** Keep metrics of the instances (the operator switched them on). */
  metrics: boolean;
  /** Largest web response body a plugin may answer with; a larger one is refused before it crosses. */
  maxWebResponseBytes: number;
}

/** Size of the pieces a web body crosses the thread boundary in. */
export const WEB_BODY_CHUNK_BYTES = 256 * 1024;

/**
 * A plugin's web answer as it reaches the host. `body` is there when the whole body fits one
 * chunk; otherwise the host pulls it with WEB_BODY_PULL, `bytes` in all.
 */
export interface WebResponseHead {
  status: number;
  headers: Record<string, string>;
  /** Byte length of the whole body. */
  bytes: number;
  body?: Uint8Array | string;
}

/** Why a web request got no answer: the handler failed, or its body was over the limit (dropped in the worker). */
export type WebFailure = { kind: "handler"; message: string } | { kind: "too_large"; bytes: number; limit: number };

export interface LoadSpec {
  /** Absolute path of the bundle's extracted folder. */
  bundleDir: string;
  /** Path of the ESM entry, relative to bundleDir. */
  main: string;
  /** Export name of the plugin class ("default" for the default export). */
  mainClass: string;
}

export interface InstanceSpec {
  instanceId: string;
  userId: string;
  config: Record<string, unknown>;
  /** Absolute path of the instance's SQLite file, or null without `database`. */
  dbPath: string | null;
  webappUrl: string | null;
}

export type HostToWorker =
  | { type: "LOAD"; spec: LoadSpec }
  | { type: "START_INSTANCE"; reqId: number; instance: InstanceSpec }
  | { type: "STOP_INSTANCE"; reqId: number; instanceId: string }
  | { type: "EVENT"; instanceId: string; event: MatrixEvent }
  | { type: "WEB_REQUEST"; reqId: number; instanceId: string; request: WebRequest }
  | { type: "CONFIG_UPDATE"; reqId: number; instanceId: string; config: Record<string, unknown> }
  | { type: "COMMANDS_REQUEST"; reqId: number; instanceId: string }
  | { type: "CLIENT_RESULT"; callId: number; ok: true; result: ClientResult<ClientMethod> }
  | { type: "CLIENT_RESULT"; callId: number; ok: false; error: string }
  | { type: "METRICS_REQUEST"; reqId: number }
  | { type: "HEARTBEAT"; seq: number }
  /** `streamId` is the reqId of the WEB_REQUEST whose body it is. */
  | { type: "WEB_BODY_PULL"; streamId: number }
  | { type: "WEB_BODY_CANCEL"; streamId: number }
  | { type: "SHUTDOWN" };

export type WorkerToHost =
  | { type: "READY" }
  | { type: "LOADED" }
  | { type: "LOAD_FAILED"; error: string }
  | { type: "INSTANCE_STARTED"; reqId: number; error?: string }
  | { type: "INSTANCE_STOPPED"; reqId: number; error?: string }
  | { type: "WEB_RESPONSE"; reqId: number; head: WebResponseHead }
  | { type: "WEB_RESPONSE"; reqId: number; failure: WebFailure }
  /** The next piece of a streamed body (its buffer is transferred, not copied). */
  | { type: "WEB_BODY"; streamId: number; chunk: Uint8Array<ArrayBuffer>; last: boolean }
  | { type: "CONFIG_UPDATED"; reqId: number; error?: string }
  | { type: "COMMANDS_RESULT"; reqId: number; commands?: CommandHelp[]; error?: string }
  /** prom-client's `getMetricsAsJSON()` of the worker's registry. */
  | { type: "METRICS_RESULT"; reqId: number; metrics?: unknown[]; error?: string }
  | ClientCallMessage
  | { type: "LOG"; instanceId: string | null; level: LogLevel; msg: string; fields?: Record<string, unknown> }
  | { type: "HEARTBEAT_ACK"; seq: number };

/**
 * A plugin's Matrix call: one variant per method of the contract, its params typed by it. The
 * host checks method and params on arrival (workers/client-call-check.ts): a worker is untrusted.
 */
export type ClientCallMessage = { type: "CLIENT_CALL"; callId: number; instanceId: string } & ClientCall;

/** Worker replies that answer a host request (they carry `reqId`). */
export type WorkerReply = Extract<WorkerToHost, { reqId: number }>;

/** The runtime methods a `main_class` instance must have (see PluginRuntime in the SDK). */
export const RUNTIME_METHODS = [
  "__botyardStart",
  "__botyardStop",
  "__botyardEvent",
  "__botyardWeb",
  "__botyardConfigUpdate",
  "__botyardCommands",
] as const;
