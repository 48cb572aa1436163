import { describe, expect, it } from "vitest";
import type { MetricsRuntime, PluginMetricSpec } from "./contract.js";
import { PluginMetrics } from "./metrics.js";

function recordingRuntime() {
  const defined: PluginMetricSpec[] = [];
  const records: Array<[string, string, number, Record<string, string>]> = [];
  const runtime: MetricsRuntime = {
    handled: () => undefined,
    define: (spec) => void defined.push(spec),
    record: (name, op, value, labels) => void records.push([name, op, value, labels]),
  };
  return { runtime, defined, records };
}

describe("this.metrics", () => {
  it("does nothing while the host keeps no metrics, and reports once it does", () => {
    let runtime: MetricsRuntime | undefined;
    const metrics = new PluginMetrics(() => runtime);
    const polls = metrics.counter("polls_total", "Polls made", ["outcome"]);
    polls.inc({ outcome: "ok" });
    const rec = recordingRuntime();
    runtime = rec.runtime;
    polls.inc({ outcome: "ok" }, 2);
    polls.inc({ outcome: "error" });
    expect(rec.defined).toEqual([{ type: "counter", name: "polls_total", help: "Polls made", labelNames: ["outcome"] }]);
    expect(rec.records).toEqual([
      ["polls_total", "inc", 2, { outcome: "ok" }],
      ["polls_total", "inc", 1, { outcome: "error" }],
    ]);
  });

  it("sets gauges and observes histograms, with or without labels", () => {
    const rec = recordingRuntime();
    const metrics = new PluginMetrics(() => rec.runtime);
    metrics.gauge("streams", "Streams").set(3);
    metrics.gauge("streams", "Streams").dec();
    metrics.histogram("cycle_seconds", "Cycle", [], [1, 2]).observe(1.5);
    expect(rec.records).toEqual([
      ["streams", "set", 3, {}],
      ["streams", "inc", -1, {}],
      ["cycle_seconds", "observe", 1.5, {}],
    ]);
    expect(rec.defined.at(-1)).toMatchObject({ type: "histogram", buckets: [1, 2] });
  });

  it("refuses names Prometheus would refuse, the host's own label, and a name reused for another type", () => {
    const metrics = new PluginMetrics(() => undefined);
    expect(() => metrics.counter("Polls-Total", "x")).toThrow(/must match/);
    expect(() => metrics.counter("polls_total", "x", ["instance_id"])).toThrow(/not be "instance_id"/);
    metrics.counter("polls_total", "x");
    expect(() => metrics.gauge("polls_total", "x")).toThrow(/already a counter/);
  });
});
