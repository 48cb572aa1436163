// The metrics of one plugin worker (prom-client, loaded in the worker only when the operator has
// metrics on): what its instances' handlers, commands and tasks did, the plugins' own metrics
// (`this.metrics` in the SDK, exported as botyard_plugin_<name> with an `instance` label) and the
// worker's memory. The host collects them as JSON at each scrape and merges them with its own.
import client from "prom-client";
import type { HandlerKind, MetricsRuntime, PluginMetricSpec } from "@botyard/sdk";

type PluginMetric = client.Counter | client.Gauge | client.Histogram;

/** A plugin may define at most this many metrics and label sets (cardinality guard). */
const MAX_PLUGIN_METRICS = 50;

export class WorkerMetrics {
  readonly registry = new client.Registry();
  private readonly duration;
  private readonly errors;
  private readonly commands;
  private readonly tasks;
  private readonly plugin = new Map<string, { spec: PluginMetricSpec; metric: PluginMetric }>();

  constructor(worker: string) {
    const registers = [this.registry];
    this.duration = new client.Histogram({
      name: "botyard_instance_handler_duration_seconds",
      help: "Time plugin code took per run, by kind (event, command, passive, web, task)",
      labelNames: ["instance_id", "kind"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15],
      registers,
    });
    this.errors = new client.Counter({ name: "botyard_instance_handler_errors_total", help: "Plugin code runs that threw, by kind", labelNames: ["instance_id", "kind"], registers });
    this.commands = new client.Counter({ name: "botyard_instance_commands_total", help: "Commands run, by name", labelNames: ["instance_id", "command"], registers });
    this.tasks = new client.Counter({ name: "botyard_instance_scheduler_runs_total", help: "Scheduled task runs, by task and outcome", labelNames: ["instance_id", "task", "outcome"], registers });
    new client.Gauge({
      name: "botyard_worker_memory_bytes",
      help: "A plugin worker's memory: its V8 heap, and the external and ArrayBuffer memory it holds",
      labelNames: ["worker", "kind"],
      registers,
      collect() {
        const m = process.memoryUsage();
        this.set({ worker, kind: "heap_used" }, m.heapUsed);
        this.set({ worker, kind: "heap_total" }, m.heapTotal);
        this.set({ worker, kind: "external" }, m.external);
        this.set({ worker, kind: "array_buffers" }, m.arrayBuffers);
      },
    });
  }

  /** What an instance's PluginContext.metrics is. */
  runtimeFor(instance: string): MetricsRuntime {
    return {
      handled: (kind: HandlerKind, name: string, seconds: number, failed: boolean) => {
        this.duration.observe({ instance_id: instance, kind }, seconds);
        if (failed) this.errors.inc({ instance_id: instance, kind });
        if (kind === "command") this.commands.inc({ instance_id: instance, command: name });
        if (kind === "task") this.tasks.inc({ instance_id: instance, task: name, outcome: failed ? "error" : "ok" });
      },
      define: (spec) => this.define(spec),
      record: (name, op, value, labels) => {
        const entry = this.plugin.get(name);
        if (!entry) return;
        const all = { ...labels, instance_id: instance };
        const m = entry.metric;
        if (op === "inc" && (m instanceof client.Counter || m instanceof client.Gauge)) {
          if (m instanceof client.Counter && value < 0) return;
          m.inc(all, value);
        } else if (op === "set" && m instanceof client.Gauge) m.set(all, value);
        else if (op === "observe" && m instanceof client.Histogram) m.observe(all, value);
      },
    };
  }

  private define(spec: PluginMetricSpec): void {
    const known = this.plugin.get(spec.name);
    if (known || this.plugin.size >= MAX_PLUGIN_METRICS) return;
    const options = { name: `botyard_plugin_${spec.name}`, help: spec.help || spec.name, labelNames: [...spec.labelNames, "instance_id"], registers: [this.registry] };
    const metric =
      spec.type === "counter"
        ? new client.Counter(options)
        : spec.type === "gauge"
          ? new client.Gauge(options)
          : new client.Histogram({ ...options, ...(spec.buckets ? { buckets: spec.buckets } : {}) });
    this.plugin.set(spec.name, { spec, metric });
  }

  /** The worker's series, for the host to merge (prom-client's JSON form). */
  snapshot(): Promise<client.MetricObjectWithValues<client.MetricValue<string>>[]> {
    return this.registry.getMetricsAsJSON();
  }
}
