// Everything the API talks to, handed over in one typed object (the Daemon builds it).
import type { Logger } from "pino";
import type { PluginRegistry } from "../bundles/index.js";
import type { BotyardConfig } from "../config/index.js";
import type { InstanceSupervisor } from "../instances/index.js";
import type { LogRing } from "../logging/index.js";
import type { ClientPool } from "../matrix/index.js";
import type { ApiMetricsRecorder } from "../metrics/recorder.js";
import type { MetricsExposition } from "./metrics-route.js";
import type { AccountCalls } from "../matrix/bot-accounts.js";
import type { HostStore } from "../store/index.js";

export type { AccountCalls } from "../matrix/bot-accounts.js";

/** Tunables; the defaults are for production, tests shrink them. */
export interface ApiLimits {
  /** JSON request bodies (default 1 MiB). */
  jsonBytes: number;
  /** Plugin bundle uploads (default 100 MiB). */
  bundleBytes: number;
  /** Bodies of plugin web requests (default 10 MiB). */
  webBodyBytes: number;
  /** Failed logins an address may make in a burst before it is throttled (default 5). */
  loginBurst: number;
  /** One more failed login is allowed after this long (default 12 s, i.e. 5 a minute). */
  loginRefillMs: number;
  /** Wall-clock limit of one database console query (default 5 s). */
  queryTimeoutMs: number;
  /** Rows one console query returns at most (default 1000). */
  queryMaxRows: number;
  /** Console queries (child processes) running at once; more are answered 429 (default 4). */
  queryMaxProcesses: number;
  /** Resident memory of one console process before it is killed (default 384 MiB). */
  queryMaxMemoryBytes: number;
  /** Time a log websocket has to send its token (default 5 s, maubot's). */
  logAuthTimeoutMs: number;
}

export const DEFAULT_LIMITS: ApiLimits = {
  jsonBytes: 1024 * 1024,
  bundleBytes: 100 * 1024 * 1024,
  webBodyBytes: 10 * 1024 * 1024,
  loginBurst: 5,
  loginRefillMs: 12_000,
  queryTimeoutMs: 5_000,
  queryMaxRows: 1_000,
  queryMaxProcesses: 4,
  queryMaxMemoryBytes: 384 * 1024 * 1024,
  logAuthTimeoutMs: 5_000,
};

export interface ApiDeps {
  config: BotyardConfig;
  store: HostStore;
  logging: { logger: Logger; ring: LogRing };
  registry: PluginRegistry;
  supervisor: InstanceSupervisor;
  clients: ClientPool;
  /** The host's version for GET /version. */
  version: string;
  /** The Prometheus metrics when `metrics.enabled` (null or absent: off). */
  metrics?: (MetricsExposition & ApiMetricsRecorder) | null;
  /** When the daemon started (ms since the epoch), for GET /health's uptime; defaults to now. */
  startedAt?: number;
  /** The built web admin page (web-admin/dist); defaults to the repository's. */
  webAdminDir?: string;
  /** Defaults to src/matrix/accounts.ts. */
  accounts?: AccountCalls;
  limits?: Partial<ApiLimits>;
}
