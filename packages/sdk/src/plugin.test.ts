import { describe, expect, it } from "vitest";
import { arg } from "./arguments.js";
import type { PluginRuntime } from "./contract.js";
import { Plugin } from "./plugin.js";
import { createTestContext, textMessage } from "./testing.js";
import { jsonResponse } from "./web.js";

interface GreeterConfig {
  greeting: string;
}

class Greeter extends Plugin<GreeterConfig> {
  events: string[] = [];
  stopped = false;

  override setup(): void {
    this.command({
      name: "greet",
      args: [arg.word("who")],
      handler: async (ctx, args) => {
        await ctx.reply(`${this.config.greeting}, ${args.who}`);
      },
    });
    this.command({
      name: "fail",
      handler: () => {
        throw new Error("command bug");
      },
    });
    this.command({
      name: "shout",
      args: [arg.rest("text")],
      handler: async (ctx, args) => {
        await this.client.sendText(ctx.roomId, args.text.toUpperCase());
        await this.client.sendMarkdown(ctx.roomId, `**${args.text}**`);
        await this.client.sendHtml(ctx.roomId, `<b>${args.text}</b>`, args.text);
        await this.client.sendNotice(ctx.roomId, args.text, { mentions: { user_ids: [ctx.sender] } });
        await ctx.respond(args.text, { markdown: false });
        await this.client.sendEvent(ctx.roomId, "m.room.message", { msgtype: "m.text", body: args.text });
      },
    });
    this.passive(/\bbug\b/i, () => {
      throw new Error("passive bug");
    });
    this.passive(/\bbug\b/i, async (ctx, match) => {
      await ctx.react(`seen ${match[0]}`);
    });
    this.on("m.room.member", (evt) => void this.events.push(evt.type));
    this.web.get("/greeting", () => jsonResponse({ greeting: this.config.greeting }));
  }

  override stop(): void {
    this.stopped = true;
  }
}

async function started(config: GreeterConfig = { greeting: "Hello" }) {
  const test = createTestContext({ config: config as unknown as Record<string, unknown> });
  const plugin = new Greeter();
  await plugin.__botyardStart(test.ctx);
  return { plugin, ...test };
}

describe("Plugin", () => {
  it("implements every PluginRuntime member", () => {
    const runtime: PluginRuntime = new Greeter();
    for (const m of ["__botyardStart", "__botyardStop", "__botyardEvent", "__botyardWeb", "__botyardConfigUpdate", "__botyardCommands"] as const) {
      expect(typeof runtime[m]).toBe("function");
    }
  });

  it("runs a command with the typed config and answers with a rich reply", async () => {
    const { plugin, calls } = await started();
    const evt = textMessage("!greet Bob");
    await plugin.__botyardEvent(evt);
    expect(calls).toEqual([
      {
        method: "sendMarkdown",
        params: { roomId: evt.room_id, markdown: "Hello, Bob", msgtype: "m.notice", replyTo: evt.event_id, mentions: {} },
      },
    ]);
  });

  it("answers a parse failure with the usage", async () => {
    const { plugin, callsOf } = await started();
    await plugin.__botyardEvent(textMessage("!greet"));
    const [usage] = callsOf("sendMarkdown");
    expect(usage!.markdown).toContain("**Usage:** `!greet <who>`");
  });

  it("sends an explicit m.mentions with every message", async () => {
    const { plugin, calls } = await started();
    await plugin.__botyardEvent(textMessage("!shout hi @room"));
    expect(calls.map((c) => c.method)).toEqual(["sendText", "sendMarkdown", "sendHtml", "sendText", "sendText", "sendEvent"]);
    const mentions = calls.map((c) => (c.method === "sendEvent" ? (c.params as { content: Record<string, unknown> }).content["m.mentions"] : (c.params as { mentions?: unknown }).mentions));
    expect(mentions).toEqual([{}, {}, {}, { user_ids: ["@alice:test.local"] }, {}, {}]);
  });

  it("keeps running the other handlers when one throws, and logs the throw", async () => {
    const { plugin, calls, logs } = await started();
    const evt = textMessage("there is a BUG here");
    await plugin.__botyardEvent(evt);
    expect(calls).toEqual([{ method: "react", params: { roomId: evt.room_id, eventId: evt.event_id, key: "seen BUG" } }]);
    expect(logs.filter((l) => l.level === "error")).toEqual([
      { level: "error", msg: "passive handler /\\bbug\\b/i failed", fields: expect.objectContaining({ error: "passive bug", event_id: evt.event_id }) },
    ]);
    await plugin.__botyardEvent(textMessage("!fail"));
    await plugin.__botyardEvent(textMessage("!greet Eve"));
    expect(logs.some((l) => l.msg === "command !fail failed" && l.fields?.["error"] === "command bug")).toBe(true);
    expect(calls.at(-1)).toMatchObject({ method: "sendMarkdown", params: { markdown: "Hello, Eve" } });
  });

  it("ignores the bot's own messages, edits and notices", async () => {
    const { plugin, calls } = await started();
    await plugin.__botyardEvent(textMessage("!greet me", { sender: "@bot:test.local" }));
    await plugin.__botyardEvent(textMessage("!greet me", { msgtype: "m.notice" }));
    await plugin.__botyardEvent({
      ...textMessage("* !greet me"),
      content: { msgtype: "m.text", body: "* !greet me", "m.relates_to": { rel_type: "m.replace", event_id: "$x" } },
    });
    expect(calls).toEqual([]);
  });

  it("treats a reply whose own text is a command as that command", async () => {
    const { plugin, callsOf } = await started();
    await plugin.__botyardEvent({
      ...textMessage(""),
      content: { msgtype: "m.text", body: "> <@bob:test.local> earlier\n> more\n\n!greet Ann", "m.relates_to": { "m.in_reply_to": { event_id: "$e" } } },
    });
    expect(callsOf("sendMarkdown")[0]).toMatchObject({ markdown: "Hello, Ann" });
  });

  it("dispatches events by type", async () => {
    const { plugin } = await started();
    await plugin.__botyardEvent({ ...textMessage(""), type: "m.room.member", state_key: "@x:y", content: { membership: "join" } });
    expect(plugin.events).toEqual(["m.room.member"]);
  });

  it("serves web routes while running and hands config updates over", async () => {
    const { plugin } = await started();
    const req = { method: "GET", path: "/greeting", query: "", headers: {}, body: new Uint8Array() };
    expect(await plugin.__botyardWeb(req)).toEqual(jsonResponse({ greeting: "Hello" }));
    const seen: unknown[] = [];
    plugin.onConfigUpdate = (config, previous) => void seen.push([config.greeting, previous.greeting]);
    await plugin.__botyardConfigUpdate({ greeting: "Hi" });
    expect(seen).toEqual([["Hi", "Hello"]]);
    expect(plugin.config.greeting).toBe("Hi");
    expect((await plugin.__botyardWeb({ ...req, path: "/nothing" })).status).toBe(404);
  });

  it("lists its commands for !help", async () => {
    const { plugin } = await started();
    expect(plugin.__botyardCommands().map((c) => c.usage)).toEqual(["!greet <who>", "!fail", "!shout <text>"]);
  });

  it("clears handlers, routes and tasks on stop, then calls stop()", async () => {
    const { plugin, calls } = await started();
    let ran = false;
    plugin.scheduler.after(10, () => void (ran = true));
    await plugin.__botyardStop();
    expect(plugin.stopped).toBe(true);
    expect(plugin.scheduler.pending).toBe(0);
    expect(plugin.__botyardCommands()).toEqual([]);
    await plugin.__botyardEvent(textMessage("!greet Bob"));
    expect(calls).toEqual([]);
    expect((await plugin.__botyardWeb({ method: "GET", path: "/greeting", query: "", headers: {}, body: new Uint8Array() })).status).toBe(503);
    expect(ran).toBe(false);
  });

  it("can be started again after a stop, registering afresh", async () => {
    const { plugin, ctx } = await started();
    await plugin.__botyardStop();
    await plugin.__botyardStart(ctx);
    expect(plugin.__botyardCommands()).toHaveLength(3);
  });

  it("fails the start when start() throws, leaving nothing registered", async () => {
    class Broken extends Plugin {
      override start(): void {
        this.command({ name: "x", handler: () => undefined });
        this.scheduler.every(1000, () => undefined);
        throw new Error("cannot start");
      }
    }
    const { ctx } = createTestContext();
    const plugin = new Broken();
    await expect(plugin.__botyardStart(ctx)).rejects.toThrow("cannot start");
    expect(plugin.__botyardCommands()).toEqual([]);
    expect(plugin.scheduler.pending).toBe(0);
  });

  it("refuses registration before start and database use without a database", async () => {
    const plugin = new Greeter();
    expect(() => plugin.command({ name: "x", handler: () => undefined })).toThrow(/in setup\(\) or start\(\)/);
    expect(() => plugin.client).toThrow(/not started/);
    const { plugin: running } = await started();
    expect(() => running.db).toThrow(/database: true/);
  });

  it("refuses a host speaking another contract version", async () => {
    const { ctx } = createTestContext();
    await expect(new Greeter().__botyardStart({ ...ctx, contractVersion: 999 })).rejects.toThrow(/contract/);
  });
});

describe("Plugin stopped during its start", () => {
  it("does not come up running after a stop that arrived mid-start", async () => {
    let release!: () => void;
    class Slow extends Plugin {
      override async start(): Promise<void> {
        this.command({ name: "x", handler: () => undefined });
        await new Promise<void>((resolve) => (release = resolve));
      }
    }
    const { ctx, calls } = createTestContext();
    const plugin = new Slow();
    const starting = plugin.__botyardStart(ctx);
    await Promise.resolve();
    await plugin.__botyardStop();
    release();
    await expect(starting).rejects.toThrow(/stopped before its start finished/);
    expect(plugin.running).toBe(false);
    await plugin.__botyardEvent(textMessage("!x"));
    expect(calls).toEqual([]);
    expect(plugin.__botyardCommands()).toEqual([]);
  });
});
