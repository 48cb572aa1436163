// The Prometheus metrics of the host (prom-client): process metrics, the management API, every
// bot account and every instance. Counters and histograms are fed through MetricsRecorder as
// things happen; gauges of current state (sync up, instance states, database sizes) are read from
// `sources` when Prometheus scrapes. Labels stay bounded: bot account ids and instance ids (the
// operator's objects), route templates, event types from a fixed list; never room or sender ids.
import { statSync } from "node:fs";
import client from "prom-client";
import type { InstanceState } from "../store/types.js";
import { eventTypeLabel, type MetricsRecorder, type RestartCause } from "./recorder.js";

export interface MetricsSources {
  bots(): Array<{ id: string; enabled: boolean; syncing: boolean }>;
  instances(): Array<{ id: string; plugin: string; state: InstanceState; databasePath: string | null }>;
  /** The plugin workers' own series (handlers, commands, tasks, plugin metrics, memory), as prom-client JSON. */
  workerMetrics(): Promise<unknown[][]>;
}

/**
 * prom-client's default metrics include three gauges named like counters (`*_total`), which
 * promtool's lint refuses and Prometheus tooling would treat as counters: left out.
 */
const MISNAMED_DEFAULTS = new Set(["botyard_nodejs_active_handles_total", "botyard_nodejs_active_requests_total", "botyard_nodejs_active_resources_total"]);

const STATES: readonly InstanceState[] = ["stopped", "starting", "running", "stopping", "failed"];

export class HostMetrics implements MetricsRecorder {
  readonly registry = new client.Registry();
  private readonly lastSyncAt = new Map<string, number>();
  private readonly syncDuration;
  private readonly eventsReceived;
  private readonly messagesSent;
  private readonly sendFailures;
  private readonly rateLimits;
  private readonly dispatched;
  private readonly restarts;
  private readonly apiDuration;

  constructor(
    version: string,
    private readonly sources: MetricsSources,
  ) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: "botyard_" });
    new client.Gauge({ name: "botyard_build_info", help: "botyard's version (always 1)", labelNames: ["version"], registers }).set({ version }, 1);
    const started = Date.now();
    new client.Gauge({
      name: "botyard_uptime_seconds",
      help: "Seconds since the daemon started",
      registers,
      collect() {
        this.set((Date.now() - started) / 1000);
      },
    });

    this.apiDuration = new client.Histogram({
      name: "botyard_api_request_duration_seconds",
      help: "Management API requests by route template and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    // ---- bot accounts ----
    const lastSyncAt = this.lastSyncAt;
    new client.Gauge({
      name: "botyard_bot_sync_up",
      help: "1 when the bot account's sync loop is healthy, 0 when it is failing or stopped",
      labelNames: ["bot"],
      registers,
      collect() {
        this.reset();
        for (const bot of sources.bots()) if (bot.enabled) this.set({ bot: bot.id }, bot.syncing ? 1 : 0);
      },
    });
    new client.Gauge({
      name: "botyard_bot_seconds_since_last_sync",
      help: "Seconds since the bot account's last successful /sync",
      labelNames: ["bot"],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const [bot, at] of lastSyncAt) this.set({ bot }, (now - at) / 1000);
      },
    });
    this.syncDuration = new client.Histogram({
      name: "botyard_bot_sync_request_duration_seconds",
      help: "Duration of /sync requests (a long poll lasts sync.long_poll_seconds, 55 s by default, when nothing happens)",
      labelNames: ["bot", "outcome"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 45, 60, 120, 300],
      registers,
    });
    this.eventsReceived = new client.Counter({ name: "botyard_bot_events_received_total", help: "Live room events received, by event type", labelNames: ["bot", "type"], registers });
    this.messagesSent = new client.Counter({ name: "botyard_bot_messages_sent_total", help: "Room events sent by the bot account", labelNames: ["bot"], registers });
    this.sendFailures = new client.Counter({ name: "botyard_bot_send_failures_total", help: "Room event sends that failed after retries", labelNames: ["bot"], registers });
    this.rateLimits = new client.Counter({ name: "botyard_bot_rate_limited_total", help: "Homeserver answers 429 / M_LIMIT_EXCEEDED (each one waited and retried)", labelNames: ["bot"], registers });

    // ---- instances ----
    new client.Gauge({
      name: "botyard_instance_state",
      help: "1 for the instance's current state, 0 for the others",
      labelNames: ["instance_id", "plugin", "state"],
      registers,
      collect() {
        this.reset();
        for (const i of sources.instances()) for (const s of STATES) this.set({ instance_id: i.id, plugin: i.plugin, state: s }, i.state === s ? 1 : 0);
      },
    });
    new client.Gauge({
      name: "botyard_instance_database_bytes",
      help: "Size of the instance's SQLite file",
      labelNames: ["instance_id"],
      registers,
      collect() {
        this.reset();
        for (const i of sources.instances()) {
          if (i.databasePath === null) continue;
          try {
            this.set({ instance_id: i.id }, statSync(i.databasePath).size);
          } catch {
            // no database file (yet)
          }
        }
      },
    });
    this.dispatched = new client.Counter({ name: "botyard_instance_events_dispatched_total", help: "Room events handed to the instance", labelNames: ["instance_id"], registers });
    this.restarts = new client.Counter({ name: "botyard_instance_restarts_total", help: "Restarts after the instance's worker died, by cause", labelNames: ["instance_id", "cause"], registers });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text exposition format: the host's series and every worker's, merged. */
  async render(): Promise<string> {
    const own = (await this.registry.getMetricsAsJSON()).filter((m) => !MISNAMED_DEFAULTS.has(m.name));
    const workers = await this.sources.workerMetrics();
    // Workers share metric names (each labels its own instances); aggregate() merges them.
    const merged = client.AggregatorRegistry.aggregate([own, ...workers] as Parameters<typeof client.AggregatorRegistry.aggregate>[0]);
    return merged.metrics();
  }

  syncRequest(bot: string, seconds: number, ok: boolean): void {
    this.syncDuration.observe({ bot, outcome: ok ? "ok" : "error" }, seconds);
    if (ok) this.lastSyncAt.set(bot, Date.now());
  }

  eventReceived(bot: string, eventType: string): void {
    this.eventsReceived.inc({ bot, type: eventTypeLabel(eventType) });
  }

  messageSent(bot: string): void {
    this.messagesSent.inc({ bot });
  }

  sendFailed(bot: string): void {
    this.sendFailures.inc({ bot });
  }

  rateLimited(bot: string): void {
    this.rateLimits.inc({ bot });
  }

  eventDispatched(instance: string): void {
    this.dispatched.inc({ instance_id: instance });
  }

  instanceRestarted(instance: string, cause: RestartCause): void {
    this.restarts.inc({ instance_id: instance, cause });
  }

  apiRequest(method: string, route: string, status: number, seconds: number): void {
    this.apiDuration.observe({ method, route, status: String(status) }, seconds);
  }

  /** A bot account was removed: its series go with it. */
  forgetBot(bot: string): void {
    this.lastSyncAt.delete(bot);
  }
}
