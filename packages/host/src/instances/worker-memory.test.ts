import { afterEach, describe, expect, it } from "vitest";
import { makeBundle, messageEvent, testManifest } from "../../test-support/plugin-fixtures.js";
import { createTestHost, type TestHost } from "../../test-support/test-host.js";
import type { SupervisorEvents } from "./instance-supervisor.js";

let host: TestHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("worker memory limit", () => {
  it("terminates a worker whose Buffers pass the limit, restarts it with cause memory, and the process gives the memory back", async () => {
    const h = (host = await createTestHost({
      maxMemoryBytes: 96 * MiB,
      memoryCheckIntervalMs: 50,
      restart: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 4, stableAfterMs: 60_000 },
    }));
    h.addClient("@hog:test");
    h.addClient("@calm:test");
    await h.registry.install(makeBundle({ manifest: testManifest() }), { allowOverride: true });
    await h.registry.install(makeBundle({ manifest: testManifest({ id: "other.plugin" }) }), { allowOverride: true });
    await h.supervisor.create(h.instanceRow("hog", "test.plugin", { primary_user: "@hog:test" }));
    await h.supervisor.create(h.instanceRow("calm", "other.plugin", { primary_user: "@calm:test" }));
    const deaths: SupervisorEvents["workerDied"][0][] = [];
    h.supervisor.on("workerDied", (info) => deaths.push(info));
    // Read when it happens: the restart (20 ms later) clears last_error.
    const failures: Array<string | null> = [];
    h.supervisor.on("state", (id, state, lastError) => {
      if (id === "hog" && state === "failed") failures.push(lastError);
    });
    const rssBefore = process.memoryUsage().rss;

    const failed = h.waitForState("hog", "failed");
    // 16 MiB of Buffers a step, 20 steps at most: without the watch the plugin would end up
    // holding 320 MiB (its JS heap stays small, so resourceLimits never fires) and stay running.
    // Stop at the first death: the restart 20 ms later makes the instance "running" again, and
    // hoarding on in the fresh worker would kill it a second time.
    for (let step = 0; step < 20 && deaths.length === 0 && h.supervisor.status("hog").state === "running"; step++) {
      h.supervisor.dispatch("@hog:test", messageEvent("hoard 16"));
      await sleep(150);
    }
    await failed;
    expect(failures).toEqual([
      expect.stringMatching(/^memory: the worker used \d+ MB \(JS heap \d+ MB, Buffers and other external memory \d+ MB\), over its limit of 96 MB$/),
    ]);
    expect(deaths).toEqual([{ workerKey: "plugin:test.plugin", cause: "memory", message: expect.stringContaining("over its limit"), instanceIds: ["hog"] }]);
    expect(h.supervisor.status("calm").state).toBe("running");

    await h.waitForState("hog", "running");
    // The hoard went with its worker: the process did not keep it.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MiB);
  });
});
