import { describe, expect, it } from "vitest";
import { buildMessageContent, withDefaultMentions } from "./message-content.js";

describe("buildMessageContent", () => {
  it("always carries m.mentions, empty by default", () => {
    expect(buildMessageContent({ body: "@room hi" }, {})).toEqual({ msgtype: "m.text", body: "@room hi", "m.mentions": {} });
  });

  it("passes explicit mentions through", () => {
    const c = buildMessageContent({ body: "hi" }, { mentions: { user_ids: ["@a:hs"] } });
    expect(c["m.mentions"]).toEqual({ user_ids: ["@a:hs"] });
  });

  it("makes a rich reply with the relation only (no quoted fallback)", () => {
    const c = buildMessageContent({ body: "pong", html: "<b>pong</b>" }, { replyTo: "$orig", msgtype: "m.notice" });
    expect(c).toEqual({
      msgtype: "m.notice",
      body: "pong",
      format: "org.matrix.custom.html",
      formatted_body: "<b>pong</b>",
      "m.mentions": {},
      "m.relates_to": { "m.in_reply_to": { event_id: "$orig" } },
    });
  });

  it("makes an edit with m.new_content and an m.replace relation", () => {
    const c = buildMessageContent({ body: "new" }, { edits: "$old", replyTo: "$ignored" });
    expect(c).toEqual({
      msgtype: "m.text",
      body: "* new",
      "m.mentions": {},
      "m.new_content": { msgtype: "m.text", body: "new", "m.mentions": {} },
      "m.relates_to": { rel_type: "m.replace", event_id: "$old" },
    });
  });

  it("merges extra content but never lets it replace mentions or relations", () => {
    const c = buildMessageContent({ body: "x" }, { replyTo: "$r", extraContent: { info: { a: 1 }, "m.mentions": { room: true }, "m.relates_to": {} } });
    expect(c.info).toEqual({ a: 1 });
    expect(c["m.mentions"]).toEqual({});
    expect(c["m.relates_to"]).toEqual({ "m.in_reply_to": { event_id: "$r" } });
  });
});

describe("withDefaultMentions", () => {
  it("adds an empty m.mentions when absent and keeps a given one", () => {
    expect(withDefaultMentions({ body: "x" })).toEqual({ body: "x", "m.mentions": {} });
    expect(withDefaultMentions({ "m.mentions": { room: true } })).toEqual({ "m.mentions": { room: true } });
  });
});
