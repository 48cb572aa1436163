import { describe, expect, it } from "vitest";
import { filterSyncChanges, jitteredRefreshMs, REFRESH_MS, SyncChangesFilter, type SyncCryptoChanges } from "./sync-changes-filter.js";

const idle = (count = 50, fallback: string[] | undefined = ["signed_curve25519"]): SyncCryptoChanges => ({
  toDeviceEvents: [],
  deviceLists: { changed: [], left: [] },
  oneTimeKeysCounts: { signed_curve25519: count },
  unusedFallbackKeys: fallback,
});

describe("filterSyncChanges", () => {
  it("passes an answer on only when it brings the crypto something", async () => {
    let clock = 0;
    const seen: SyncCryptoChanges[] = [];
    const backend = { processSyncChanges: async (c: SyncCryptoChanges) => (seen.push(c), [{ from: "machine" }]) };
    filterSyncChanges(backend, new SyncChangesFilter(() => clock, 45 * 60_000));
    const run = (c: SyncCryptoChanges) => backend.processSyncChanges(c);

    expect(await run(idle())).toEqual([{ from: "machine" }]);
    expect(await run(idle())).toEqual([]);
    expect(seen).toHaveLength(1);
    await run(idle(49));
    await run({ ...idle(49), toDeviceEvents: [{ type: "m.room_key" }] });
    await run({ ...idle(49), deviceLists: { changed: ["@a:x"] } });
    await run({ ...idle(49), deviceLists: { left: ["@a:x"] } });
    await run(idle(49, []));
    await run(idle(49, undefined));
    expect(seen).toHaveLength(7);
    await run(idle(49, undefined));
    expect(seen).toHaveLength(7);
    clock += 45 * 60_000 - 1;
    await run(idle(49, undefined));
    expect(seen).toHaveLength(7);
    clock += 1;
    await run(idle(49, undefined));
    expect(seen).toHaveLength(8);
  });

  it("spreads each account's refresh over an hour ± 25 %", () => {
    expect(jitteredRefreshMs(() => 0)).toBe(REFRESH_MS * 0.75);
    expect(jitteredRefreshMs(() => 0.5)).toBe(REFRESH_MS);
    expect(jitteredRefreshMs(() => 0.999999)).toBeLessThanOrEqual(REFRESH_MS * 1.25);
  });

  it("passes the same answer again after the machine failed on it", async () => {
    let calls = 0;
    const backend = {
      processSyncChanges: async (_c: SyncCryptoChanges) => {
        calls += 1;
        if (calls === 2) throw new Error("store locked");
        return [];
      },
    };
    filterSyncChanges(backend);
    await backend.processSyncChanges(idle(50));
    await expect(backend.processSyncChanges(idle(40))).rejects.toThrow(/store locked/);
    await backend.processSyncChanges(idle(40));
    expect(calls).toBe(3);
  });

  it("leaves a backend without the method alone", () => {
    const backend = {};
    filterSyncChanges(backend);
    expect(backend).toEqual({});
  });
});

describe("the after-sync pass over outgoing requests", () => {
  function backendWith(queue: unknown[][]) {
    const passes: string[] = [];
    const machine = { outgoingRequests: async () => queue.shift() ?? [] };
    const backend = {
      olmMachine: machine,
      processSyncChanges: async (_c: SyncCryptoChanges) => [],
      onSyncCompleted(_state: unknown) {
        passes.push("pass");
        void this.olmMachine.outgoingRequests();
      },
    };
    filterSyncChanges(backend);
    const sync = async (c: SyncCryptoChanges) => {
      await backend.processSyncChanges(c);
      backend.onSyncCompleted({});
      await new Promise((r) => setImmediate(r));
    };
    return { backend, passes, sync };
  }

  it("is left out after a left-out answer when the machine had nothing to send", async () => {
    const { passes, sync } = backendWith([[], [], []]);
    await sync(idle());
    expect(passes).toHaveLength(1);
    await sync(idle());
    await sync(idle());
    expect(passes).toHaveLength(1);
    await sync({ ...idle(), toDeviceEvents: [{ type: "m.room_key" }] });
    expect(passes).toHaveLength(2);
  });

  it("runs after every sync while the machine still has something to send (a failed request is retried)", async () => {
    const { passes, sync } = backendWith([[{ type: "KeysUpload" }], [{ type: "KeysUpload" }], []]);
    await sync(idle());
    await sync(idle());
    await sync(idle());
    expect(passes).toHaveLength(3);
    await sync(idle());
    expect(passes).toHaveLength(3);
  });
});
