// `this.metrics`: counters, gauges and histograms a plugin defines for its own work. The host
// exports them as `botyard_plugin_<name>` with the instance's id as the `instance_id` label; when the operator
// has metrics off, every call is a no-op, so a plugin never checks.
import type { MetricsRuntime, PluginMetricSpec } from "./contract.js";

export type MetricLabels = Record<string, string>;

export interface Counter {
  inc(labels?: MetricLabels, value?: number): void;
}
export interface Gauge {
  set(labels: MetricLabels, value: number): void;
  set(value: number): void;
  inc(labels?: MetricLabels, value?: number): void;
  dec(labels?: MetricLabels, value?: number): void;
}
export interface Histogram {
  observe(labels: MetricLabels, value: number): void;
  observe(value: number): void;
  /** Starts a timer; calling the result observes the seconds since. */
  startTimer(labels?: MetricLabels): () => number;
}

const NAME = /^[a-z_][a-z0-9_]*$/;

export class PluginMetrics {
  readonly #runtime: () => MetricsRuntime | undefined;
  readonly #defined = new Map<string, PluginMetricSpec["type"]>();

  /** `runtime`: read at each call, so metrics defined in the constructor work once the instance starts. */
  constructor(runtime: () => MetricsRuntime | undefined) {
    this.#runtime = runtime;
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    const rec = this.#define({ type: "counter", name, help, labelNames });
    return { inc: (labels = {}, value = 1) => rec("inc", value, labels) };
  }

  gauge(name: string, help: string, labelNames: string[] = []): Gauge {
    const rec = this.#define({ type: "gauge", name, help, labelNames });
    return {
      set: ((a: MetricLabels | number, b?: number) => (typeof a === "number" ? rec("set", a, {}) : rec("set", b ?? 0, a))) as Gauge["set"],
      inc: (labels = {}, value = 1) => rec("inc", value, labels),
      dec: (labels = {}, value = 1) => rec("inc", -value, labels),
    };
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram {
    const rec = this.#define({ type: "histogram", name, help, labelNames, buckets });
    return {
      observe: ((a: MetricLabels | number, b?: number) => (typeof a === "number" ? rec("observe", a, {}) : rec("observe", b ?? 0, a))) as Histogram["observe"],
      startTimer: (labels = {}) => {
        const started = performance.now();
        return () => {
          const seconds = (performance.now() - started) / 1000;
          rec("observe", seconds, labels);
          return seconds;
        };
      },
    };
  }

  #define(spec: PluginMetricSpec): (op: "inc" | "set" | "observe", value: number, labels: MetricLabels) => void {
    if (!NAME.test(spec.name)) throw new Error(`metric name ${JSON.stringify(spec.name)} must match ${NAME} (the host adds the botyard_plugin_ prefix)`);
    for (const l of spec.labelNames) if (!NAME.test(l) || l === "instance_id") throw new Error(`metric ${spec.name}: label ${JSON.stringify(l)} must match ${NAME} and not be "instance_id" (the host adds it)`);
    const known = this.#defined.get(spec.name);
    if (known !== undefined && known !== spec.type) throw new Error(`metric ${spec.name} is already a ${known}`);
    this.#defined.set(spec.name, spec.type);
    let definedIn: MetricsRuntime | undefined;
    return (op, value, labels) => {
      const runtime = this.#runtime();
      if (!runtime) return;
      if (definedIn !== runtime) {
        runtime.define(spec);
        definedIn = runtime;
      }
      runtime.record(spec.name, op, value, labels);
    };
  }
}
