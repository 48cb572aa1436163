// Helpers for plugin tests (maubot's `maubot.testing`): a real PluginContext whose Matrix calls
// are recorded and answered locally, so a plugin can be driven through its PluginRuntime
// members without a host. Import from "@botyard/sdk/testing"; never bundled into a plugin
// unless a plugin imports it.

import {
  CONTRACT_VERSION,
  type ClientMethod,
  type ClientParams,
  type ClientResult,
  type HandlerKind,
  type LogLevel,
  type MetricsRuntime,
  type PluginMetricSpec,
  type MatrixEvent,
  type PluginContext,
  type PluginLogger,
  type PowerLevels,
  type SqlDatabase,
} from "./contract.js";

export interface RecordedCall<M extends ClientMethod = ClientMethod> {
  method: M;
  params: ClientParams<M>;
}

export interface RecordedLog {
  level: LogLevel;
  msg: string;
  fields?: Record<string, unknown>;
}

export interface TestContextOptions {
  instanceId?: string;
  userId?: string;
  config?: Record<string, unknown>;
  db?: SqlDatabase | null;
  webappUrl?: string | null;
  /** Answers a call; the default gives each send a fresh `$eventN` id and empty/default results. */
  answer?: <M extends ClientMethod>(method: M, params: ClientParams<M>) => ClientResult<M> | Promise<ClientResult<M>>;
  bundleFiles?: Record<string, Uint8Array | string>;
  /** Give the plugin a metrics runtime that records what it reports (TestContext.metrics). */
  metrics?: boolean;
}

/** What a plugin reported to the host's metrics in a test. */
export interface RecordedMetrics {
  runtime: MetricsRuntime;
  defined: PluginMetricSpec[];
  handled: Array<{ kind: HandlerKind; name: string; failed: boolean }>;
  /** A counter's or gauge's current value for exactly these labels (0 when never reported); a histogram's count. */
  value(name: string, labels?: Record<string, string>): number;
}

function recordingMetrics(): RecordedMetrics {
  const defined: PluginMetricSpec[] = [];
  const handled: RecordedMetrics["handled"] = [];
  const values = new Map<string, number>();
  const key = (name: string, labels: Record<string, string>) => `${name}${JSON.stringify(Object.entries(labels).sort())}`;
  return {
    defined,
    handled,
    value: (name, labels = {}) => values.get(key(name, labels)) ?? 0,
    runtime: {
      handled: (kind, name, _seconds, failed) => void handled.push({ kind, name, failed }),
      define: (spec) => void defined.push(spec),
      record: (name, op, value, labels) => {
        const k = key(name, labels);
        values.set(k, op === "set" ? value : op === "observe" ? (values.get(k) ?? 0) + 1 : (values.get(k) ?? 0) + value);
      },
    },
  };
}

export interface TestContext {
  ctx: PluginContext;
  /** Present with `metrics: true`. */
  metrics: RecordedMetrics | null;
  calls: RecordedCall[];
  logs: RecordedLog[];
  /** Calls of one method, typed. */
  callsOf<M extends ClientMethod>(method: M): ClientParams<M>[];
}

export const DEFAULT_POWER_LEVELS: PowerLevels = {
  users: {},
  users_default: 0,
  events: {},
  events_default: 0,
  state_default: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
};

export function createTestContext(options: TestContextOptions = {}): TestContext {
  const calls: RecordedCall[] = [];
  const logs: RecordedLog[] = [];
  let counter = 0;
  const defaultAnswer = (method: ClientMethod, params: unknown): unknown => {
    switch (method) {
      case "uploadMedia":
      case "uploadMediaFile":
        return { contentUri: `mxc://test/${++counter}` };
      case "getStateEvent":
        return null;
      case "getPowerLevels":
        return structuredClone(DEFAULT_POWER_LEVELS);
      case "getJoinedRooms":
        return { roomIds: [] };
      case "join":
        return { roomId: (params as { roomIdOrAlias: string }).roomIdOrAlias };
      case "leave":
        return {};
      default:
        return { eventId: `$event${++counter}` };
    }
  };
  const record = (level: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    logs.push(fields === undefined ? { level, msg } : { level, msg, fields });
  };
  const log: PluginLogger = { trace: record("trace"), debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
  const files = options.bundleFiles ?? {};
  const metrics = options.metrics ? recordingMetrics() : null;
  const ctx: PluginContext = {
    ...(metrics ? { metrics: metrics.runtime } : {}),
    contractVersion: CONTRACT_VERSION,
    instanceId: options.instanceId ?? "test-instance",
    userId: options.userId ?? "@bot:test.local",
    config: options.config ?? {},
    db: options.db ?? null,
    log,
    webappUrl: options.webappUrl ?? null,
    async callClient<M extends ClientMethod>(method: M, params: ClientParams<M>): Promise<ClientResult<M>> {
      calls.push({ method, params } as RecordedCall);
      if (options.answer) return options.answer(method, params);
      return defaultAnswer(method, params) as ClientResult<M>;
    },
    async readBundleFile(path: string): Promise<Uint8Array> {
      const file = files[path];
      if (file === undefined) throw new Error(`no file ${path} in the bundle`);
      return typeof file === "string" ? new TextEncoder().encode(file) : file;
    },
  };
  return {
    ctx,
    metrics,
    calls,
    logs,
    callsOf: <M extends ClientMethod>(method: M) => calls.filter((c) => c.method === method).map((c) => c.params as ClientParams<M>),
  };
}

let eventCounter = 0;

/** An `m.room.message` event as a room member would send it. */
export function textMessage(body: string, options: Partial<MatrixEvent> & { msgtype?: string } = {}): MatrixEvent {
  const { msgtype = "m.text", ...rest } = options;
  return {
    event_id: `$in${++eventCounter}`,
    room_id: "!room:test.local",
    sender: "@alice:test.local",
    type: "m.room.message",
    origin_server_ts: Date.now(),
    content: { msgtype, body },
    ...rest,
  };
}
