import { describe, expect, it } from "vitest";
import { PluginClient, type ClientMethod, type ClientParams } from "@botyard/sdk";
import { checkClientCall, ClientCallError } from "./client-call-check.js";

/** Every call the SDK's PluginClient makes, as the worker posts it (structured-cloned). */
async function callsOfPluginClient(): Promise<Array<{ method: string; params: unknown }>> {
  const posted: Array<{ method: string; params: unknown }> = [];
  const client = new PluginClient(async (method, params) => {
    posted.push({ method, params: structuredClone(params) });
    throw new Error("not sent: only the params are looked at");
  });
  const event = { event_id: "$e", room_id: "!r:hs", sender: "@u:hs", type: "m.room.message", origin_server_ts: 1, content: {} };
  const attempts = [
    client.sendText("!r:hs", "hi", { msgtype: "m.emote", mentions: { user_ids: ["@u:hs"] }, extraContent: { "x.y": 1 } }),
    client.sendNotice("!r:hs", "note"),
    client.sendMarkdown("!r:hs", "**b**", { edits: "$old" }),
    client.sendHtml("!r:hs", "<b>b</b>", "b"),
    client.sendEvent("!r:hs", "m.room.message", { msgtype: "m.text", body: "raw" }),
    client.reply(event, "answer"),
    client.react("!r:hs", "$e", "👍"),
    client.redact("!r:hs", "$e", "spam"),
    client.uploadMedia(new Uint8Array([1, 2, 3]), "image/png", "a.png"),
    client.uploadMediaFile("/tmp/clip.mp4", "video/mp4"),
    client.uploadMediaForRoom("!r:hs", new Uint8Array([4]), "image/jpeg", "b.jpg"),
    client.getStateEvent("!r:hs", "m.room.topic"),
    client.getPowerLevels("!r:hs"),
    client.getJoinedRooms(),
    client.join("#room:hs"),
    client.leave("!r:hs"),
  ];
  await Promise.allSettled(attempts);
  return posted;
}

function refusal(method: unknown, params: unknown): string {
  try {
    checkClientCall(method, params);
  } catch (err) {
    expect(err).toBeInstanceOf(ClientCallError);
    return (err as Error).message;
  }
  throw new Error("the call was accepted");
}

describe("checkClientCall", () => {
  it("accepts every call the SDK's PluginClient makes, params unchanged", async () => {
    const posted = await callsOfPluginClient();
    expect(new Set(posted.map((c) => c.method)).size).toBe(13);
    for (const { method, params } of posted) {
      expect(checkClientCall(method, params)).toEqual({ method, params });
    }
  });

  it("refuses a method the contract does not have, inherited names included", () => {
    expect(refusal("sendTelegram", {})).toMatch(/Unknown client method sendTelegram/);
    for (const name of ["toString", "__proto__", "constructor", 42, null]) expect(refusal(name, {})).toMatch(/Unknown client method/);
  });

  it("refuses params of the wrong shape, naming the method and field", () => {
    expect(refusal("sendText", "hi")).toBe("sendText: the params must be an object");
    expect(refusal("sendText", [1])).toBe("sendText: the params must be an object");
    expect(refusal("sendText", { text: "hi" })).toBe('sendText: "roomId" must be a string');
    expect(refusal("sendText", { roomId: "!r:hs", text: 5 })).toBe('sendText: "text" must be a string');
    expect(refusal("sendText", { roomId: "!" + "r".repeat(300), text: "x" })).toMatch(/"roomId" must be a non-empty string of at most 255/);
    expect(refusal("sendText", { roomId: "!r:hs", text: "x", msgtype: "m.image" })).toMatch(/"msgtype" must be one of m.text, m.notice, m.emote/);
    expect(refusal("sendText", { roomId: "!r:hs", text: "x", mentions: { user_ids: [1] } })).toBe('sendText: "mentions.user_ids" must be a list of strings');
    expect(refusal("sendEvent", { roomId: "!r:hs", eventType: "m.x", content: [] })).toBe('sendEvent: "content" must be an object');
    expect(refusal("uploadMedia", { data: [1, 2], contentType: "image/png" })).toBe('uploadMedia: "data" must be a Uint8Array');
    expect(refusal("uploadMediaFile", { path: 7, contentType: "video/mp4" })).toBe('uploadMediaFile: "path" must be a string');
  });

  it("reads null optional fields as absent and drops keys the contract does not name", () => {
    const call = checkClientCall("redact", { roomId: "!r:hs", eventId: "$e", reason: null, extra: "ignored" });
    const expected: ClientParams<"redact"> = { roomId: "!r:hs", eventId: "$e" };
    expect(call).toEqual({ method: "redact" satisfies ClientMethod, params: expected });
  });
});
