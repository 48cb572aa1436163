import { describe, expect, it } from "vitest";
import type { ClientMethod, ClientParams, ClientResult } from "@botyard/sdk";
import type { ClientCaller } from "../ports.js";
import { AdminNoticePoster, adminNoticeFrom, formatAdminNotice } from "./admin-notices.js";
import { LogRing, type LogEntry } from "./log-ring.js";

let seq = 0;
function entry(levelno: number, name: string, msg: string, extra: Partial<LogEntry> = {}): LogEntry {
  return { id: String(++seq), time: new Date().toISOString(), levelname: "X", levelno, name, msg, ...extra };
}

class RecordingCaller implements ClientCaller {
  readonly calls: Array<{ clientId: string; method: string; params: unknown }> = [];
  async call<M extends ClientMethod>(clientId: string, method: M, params: ClientParams<M>): Promise<ClientResult<M>> {
    this.calls.push({ clientId, method, params });
    return { eventId: `$${this.calls.length}` } as ClientResult<M>;
  }
}

describe("adminNoticeFrom", () => {
  it("ignores records below ERROR", () => {
    expect(adminNoticeFrom(entry(30, "loader", "warned"))).toBeNull();
  });

  it("names the instance or client and keeps one line without stack frames or tokens", () => {
    const n = adminNoticeFrom(entry(40, "instance.echo1", "start failed: Error: boom\n    at x (file.js:1:1)\n    at y"));
    expect(n).toEqual({ level: "error", subject: "instance echo1", message: "start failed: Error: boom" });
    const c = adminNoticeFrom(entry(50, "client.@bot:hs", "token syt_Ym90_abcdefghijklmn_123 rejected; Bearer abc.def", { client_id: "@bot:hs" }));
    expect(c?.level).toBe("critical");
    expect(c?.subject).toBe("client @bot:hs");
    expect(c?.message).not.toMatch(/syt_|abc\.def/);
  });

  it("uses the first line of exc_info when the message is empty and bounds the length", () => {
    expect(adminNoticeFrom(entry(40, "loader", "", { exc_info: "Error: bad zip\n    at z" }))?.message).toBe("Error: bad zip");
    expect(adminNoticeFrom(entry(40, "loader", "x".repeat(1000)))!.message.length).toBeLessThanOrEqual(300);
  });
});

describe("AdminNoticePoster", () => {
  it("posts one notice per failing subject, rate-limited, counting what it dropped", async () => {
    const ring = new LogRing();
    const caller = new RecordingCaller();
    const poster = new AdminNoticePoster({ ring, caller, target: { room_id: "!admin:hs", client: "@bot:hs" }, maxPerWindow: 2 });
    poster.start();
    ring.push(entry(30, "loader", "info only"));
    ring.push(entry(40, "instance.a", "failed"));
    ring.push(entry(40, "instance.a", "failed")); // repeat: not posted again
    ring.push(entry(40, "instance.a", "running → failed")); // same subject soon after: counted, not posted
    ring.push(entry(40, "instance.b", "failed"));
    ring.push(entry(40, "instance.c", "failed")); // over the limit: counted
    await poster.stop();
    ring.push(entry(40, "instance.d", "after stop"));
    expect(caller.calls).toEqual([
      { clientId: "@bot:hs", method: "sendText", params: { roomId: "!admin:hs", text: "ERROR instance a: failed", msgtype: "m.notice", mentions: {} } },
      { clientId: "@bot:hs", method: "sendText", params: { roomId: "!admin:hs", text: "ERROR instance b: failed (1 more notice suppressed)", msgtype: "m.notice", mentions: {} } },
    ]);
  });

  it("posts an instance's records from its own error_notification_level on, others from ERROR", async () => {
    const ring = new LogRing();
    const caller = new RecordingCaller();
    const levels: Record<string, number> = { chatty: 30, quiet: 50 };
    const poster = new AdminNoticePoster({ ring, caller, target: { room_id: "!admin:hs", client: "@bot:hs" }, instanceLevel: (id) => levels[id] });
    poster.start();
    ring.push(entry(30, "instance.chatty", "extraction failed")); // WARN >= WARN: posted
    ring.push(entry(20, "instance.chatty", "posted 1 media")); // INFO: not
    ring.push(entry(40, "instance.quiet", "failed")); // ERROR < CRITICAL: not
    ring.push(entry(30, "loader", "warned")); // not an instance: ERROR and up only
    ring.push(entry(30, "instances", "warned", { instance_id: "unknown" })); // unknown instance: ERROR
    ring.push(entry(50, "instance.quiet", "crashed")); // CRITICAL: posted
    await poster.stop();
    expect(caller.calls.map((c) => (c.params as { text: string }).text)).toEqual(["WARNING instance chatty: extraction failed", "CRITICAL instance quiet: crashed"]);
  });

  it("mentions suppressed notices in the next one", () => {
    expect(formatAdminNotice({ level: "error", subject: "loader", message: "x" }, 3)).toBe("ERROR loader: x (3 more notices suppressed)");
  });
});
