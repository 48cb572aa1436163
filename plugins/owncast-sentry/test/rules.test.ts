// The rules engine as a pure function: one test per rule, with the original's timings.

import { describe, expect, it } from "vitest";
import { backoffInterval, observe, observeFailure, observeSkip, shouldQuery, streamStatus, type Observation, type StreamRecord } from "../src/rules.js";
import { parseSettings } from "../src/settings.js";

const rules = parseSettings({}).rules;
const MIN = 60_000;
const T = Date.parse("2026-01-01T00:00:00Z");

function record(patch: Partial<StreamRecord> = {}): StreamRecord {
  return {
    domain: "s.example", name: "S", title: "t", tags: [], lastConnectTime: null, lastDisconnectTime: "2025-12-31T00:00:00Z",
    failureCount: 0, initialized: true, lastNotifiedAt: null, lastOfflineAt: null, firstFailureAt: null, lastAttemptAt: null,
    cleanupWarned: false, titlePending: false, announcedTitle: null, webhookToken: "0".repeat(32), ...patch,
  };
}
const live = (title = "t"): Observation => ({ lastConnectTime: "2026-01-01T00:00:00Z", lastDisconnectTime: null, title });
const offline = (title = "t"): Observation => ({ lastConnectTime: null, lastDisconnectTime: "2026-01-01T00:00:00Z", title });

describe("observe", () => {
  it("the first observation after subscribing never notifies, live or not", () => {
    const out = observe(record({ initialized: false, lastDisconnectTime: null }), live(), T, rules);
    expect(out.notices).toEqual([]);
    expect(out.record.initialized).toBe(true);
    expect(out.record.lastConnectTime).not.toBeNull();
  });
  it("going live notifies", () => {
    expect(observe(record(), live("x"), T, rules).notices).toEqual([{ kind: "live", title: "x" }]);
  });
  it("a never-live stream (both times null) notifies when it goes live after its first poll", () => {
    expect(observe(record({ lastDisconnectTime: null }), live(), T, rules).notices).toEqual([{ kind: "live", title: "t" }]);
  });
  it("a title change during a session is a title-change notice", () => {
    const out = observe(record({ lastConnectTime: "x", lastNotifiedAt: T - 30 * MIN }), live("new"), T, rules);
    expect(out.notices).toEqual([{ kind: "title", title: "new" }]);
  });
  it("at most one notice per 20 minutes; the held-back change is announced when they pass", () => {
    const held = observe(record({ lastConnectTime: "x", lastNotifiedAt: T - 19 * MIN }), live("new"), T, rules);
    expect(held.notices).toEqual([]);
    expect(held.record.titlePending).toBe(true);
    const later = observe(held.record, live("new"), T + MIN, rules);
    expect(later.notices).toEqual([{ kind: "title", title: "new" }]);
    expect(later.record.titlePending).toBe(false);
  });
  it("going offline starts the grace period", () => {
    const out = observe(record({ lastConnectTime: "x" }), offline(), T, rules);
    expect(out.record.lastOfflineAt).toBe(T);
    expect(out.notices).toEqual([]);
  });
  it("back inside the 7-minute grace: same title nothing, new title a title-change notice", () => {
    const r = record({ lastOfflineAt: T - 6 * MIN, lastNotifiedAt: T - 60 * MIN });
    expect(observe(r, live("t"), T, rules).notices).toEqual([]);
    expect(observe(r, live("u"), T, rules).notices).toEqual([{ kind: "title", title: "u" }]);
  });
  it("back after the grace: a go-live notice", () => {
    const r = record({ lastOfflineAt: T - 7 * MIN, lastNotifiedAt: T - 60 * MIN });
    expect(observe(r, live("t"), T, rules).notices).toEqual([{ kind: "live", title: "t" }]);
  });
  it("a title change after going offline past the last notice is announced as going live", () => {
    const r = record({ lastConnectTime: "x", lastNotifiedAt: T - 30 * MIN, lastOfflineAt: T - 25 * MIN });
    expect(observe(r, live("u"), T, rules).notices).toEqual([{ kind: "live", title: "u" }]);
  });
  it("an offline title change is not stored (so coming back with it counts as a change)", () => {
    expect(observe(record(), offline("edited"), T, rules).record.title).toBe("t");
  });
  it("a successful observation clears the failure state", () => {
    const out = observe(record({ failureCount: 20, firstFailureAt: T - MIN, lastAttemptAt: T - MIN, cleanupWarned: true }), offline(), T, rules);
    expect(out.record).toMatchObject({ failureCount: 0, firstFailureAt: null, lastAttemptAt: null, cleanupWarned: false });
  });
});

describe("unreachable instances", () => {
  // The original: should_query_stream(counter), counter = minutes since the failures began.
  function originalShouldQuery(c: number): boolean {
    if (c <= 4) return true;
    if (c <= 9) return (c * 60) % 120 === 0;
    if (c <= 14) return (c * 60) % 180 === 0;
    if (c <= 29) return (c * 60) % 300 === 0;
    return (c * 60) % 900 === 0;
  }

  it("backs off like should_query_stream: 1, 2, 3, 5, then 15 minutes", () => {
    expect(backoffInterval(record({ firstFailureAt: T }), T + 4 * MIN, rules)).toBe(MIN);
    expect(backoffInterval(record({ firstFailureAt: T }), T + 5 * MIN, rules)).toBe(2 * MIN);
    expect(backoffInterval(record({ firstFailureAt: T }), T + 10 * MIN, rules)).toBe(3 * MIN);
    expect(backoffInterval(record({ firstFailureAt: T }), T + 15 * MIN, rules)).toBe(5 * MIN);
    expect(backoffInterval(record({ firstFailureAt: T }), T + 30 * MIN, rules)).toBe(15 * MIN);
    // Polled every minute (with a little jitter), the number of attempts in 2 hours matches.
    let r = observeFailure(record(), T, rules).record;
    let ours = 1;
    for (let m = 1; m <= 120; m++) {
      const now = T + m * MIN + (m % 3) * 700;
      if (shouldQuery(r, now, rules)) {
        ours++;
        r = observeFailure(r, now, rules).record;
      }
    }
    let theirs = 0;
    for (let c = 0; c <= 120; c++) if (originalShouldQuery(c)) theirs++;
    expect(ours).toBe(theirs);
    expect(r.failureCount).toBe(ours);
  });
  it("skipped polls do not count as failures", () => {
    const r = record({ failureCount: 7, firstFailureAt: T - 8 * MIN, lastAttemptAt: T - MIN });
    expect(observeSkip(r, T, rules).record.failureCount).toBe(7);
  });
  it("Unknown once no check has succeeded for 16 minutes, however few checks failed", () => {
    // Last success one poll interval before the first failure, at T - 16 min.
    const failing = record({ failureCount: 9, firstFailureAt: T - 15 * MIN, lastConnectTime: "x" });
    expect(streamStatus(failing, T - 1, rules)).toBe("online");
    expect(streamStatus(failing, T, rules)).toBe("unknown");
    expect(streamStatus(record({ failureCount: 40, lastConnectTime: "x" }), T, rules)).toBe("online");
  });
  it("warns once when crossing 83 days, even between polls, and removes at 90", () => {
    const start = T - 83 * 86400_000 - 5 * MIN;
    const warned = observeSkip(record({ firstFailureAt: start, failureCount: 9000 }), T, rules);
    expect(warned.notices).toEqual([{ kind: "cleanup-warning", unreachableForMs: 83 * 86400_000, removeAfterMs: 90 * 86400_000 }]);
    expect(observeFailure(warned.record, T + 15 * MIN, rules).notices).toEqual([]);
    const removed = observeSkip(warned.record, start + 90 * 86400_000, rules);
    expect(removed.remove).toBe(true);
    expect(removed.notices).toEqual([{ kind: "cleanup-removal", unreachableForMs: 90 * 86400_000 }]);
  });
});
