import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SqlDatabase } from "@botyard/sdk";
import { createTestContext, textMessage } from "@botyard/sdk/testing";
import { EchoPlugin, type EchoConfig } from "../src/index.js";

describe("echo plugin", () => {
  let dir: string;
  let db: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "botyard-echo-"));
    db = new Database(join(dir, "echo.db"));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(config: EchoConfig = { prefix: "", max_length: 1000 }) {
    const test = createTestContext({ config: { ...config }, db: db as unknown as SqlDatabase, webappUrl: "http://127.0.0.1:29316/_matrix/maubot/plugin/echo1" });
    const plugin = new EchoPlugin();
    await plugin.__botyardStart(test.ctx);
    return { plugin, ...test };
  }

  it("answers !ping with a rich reply saying how long the message took", async () => {
    const { plugin, calls } = await start();
    const evt = textMessage("!ping", { origin_server_ts: Date.now() - 1500 });
    await plugin.__botyardEvent(evt);
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call!.method).toBe("sendText");
    expect(call!.params).toMatchObject({ roomId: evt.room_id, msgtype: "m.notice", replyTo: evt.event_id, mentions: {} });
    const text = (call!.params as { text: string }).text;
    const ms = Number(/Pong! \((\d+) ms since you sent it\)/.exec(text)?.[1]);
    expect(ms).toBeGreaterThanOrEqual(1500);
  });

  it("repeats !echo text as a notice that pings nobody", async () => {
    const { plugin, calls } = await start();
    const evt = textMessage("!echo hello @room and @bob:test.local");
    await plugin.__botyardEvent(evt);
    expect(calls).toEqual([
      { method: "sendText", params: { roomId: evt.room_id, text: "hello @room and @bob:test.local", msgtype: "m.notice", mentions: {} } },
    ]);
  });

  it("applies the config prefix and length limit, and answers !echo without text with its usage", async () => {
    const { plugin, callsOf } = await start({ prefix: "> ", max_length: 5 });
    await plugin.__botyardEvent(textMessage("!ECHO abcdefgh"));
    expect(callsOf("sendText")[0]!.text).toBe("> abcde…");
    await plugin.__botyardEvent(textMessage("!echo"));
    expect(callsOf("sendMarkdown")[0]!.markdown).toContain("**Usage:** `!echo <text>`");
  });

  it("counts pings in its database, across restarts, and serves the count on GET /count", async () => {
    const first = await start();
    await first.plugin.__botyardEvent(textMessage("!ping"));
    await first.plugin.__botyardEvent(textMessage("!ping"));
    await first.plugin.__botyardStop();

    const { plugin, callsOf } = await start();
    await plugin.__botyardEvent(textMessage("!ping"));
    await plugin.__botyardEvent(textMessage("!count"));
    expect(callsOf("sendText").at(-1)!.text).toBe("I have answered 3 pings.");
    const res = await plugin.__botyardWeb({ method: "GET", path: "/count", query: "", headers: {}, body: new Uint8Array() });
    expect(res.status).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual({ pings: 3 });
    expect(db.prepare("SELECT version FROM version").get()).toEqual({ version: 1 });
  });

  it("lists its commands for !help", async () => {
    const { plugin } = await start();
    expect(plugin.__botyardCommands().map((c) => c.usage)).toEqual(["!ping", "!echo <text>", "!count"]);
  });
});
