// Scenario tests: a real OwncastSentry instance, a real SQLite file, the simulated Owncast over
// loopback HTTP, and a scripted clock with the original's timings scaled down through config
// (interval 120 s, grace 42 s, Unknown 96 s, warning 830 s, removal 900 s).

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Harness, ROOM, testConfig } from "./harness.js";
import { TINY_JPEG, owncastSignature } from "../../../test/owncast/sim.js";

let h: Harness;

beforeEach(async () => {
  h = new Harness();
});
afterEach(async () => {
  await h.stop();
});

async function subscribed(domain = "stream.test", init: Parameters<Harness["sim"]["add"]>[1] = {}) {
  const stream = h.sim.add(domain, { name: "Logal Stream", tags: ["gaming", ".hidden", "chill"], ...init });
  if (!h.plugin) await h.start();
  await h.say(`!subscribe https://${domain}/embed/chat`);
  return stream;
}

function bodies(): string[] {
  return h.notices().map((c) => String(c["body"]));
}

describe("commands", () => {
  it("subscribes after checking the domain is an Owncast instance, and the first poll never notifies", async () => {
    const s = h.sim.add("stream.test", { name: "Already Live" }).goLive("on air");
    await h.start();
    await h.say("!subscribe HTTPS://user@Stream.Test:8443/embed/chat/readwrite");
    expect(h.lastReply()).toBe("Subscription added! This room will receive notifications when stream.test goes live.");
    expect(s.count("/api/status")).toBeGreaterThanOrEqual(1);
    await h.poll();
    h.clock.advance(60);
    await h.poll();
    expect(h.notices()).toEqual([]);
    await h.say("!subscribe stream.test");
    expect(h.lastReply()).toBe("This room is already subscribed to notifications for stream.test.");
  });

  it("the check !subscribe makes is the stream's first observation, recorded before the reply, so going live right after it is announced", async () => {
    const s = h.sim.add("stream.test", { name: "Quick" });
    await h.start();
    await h.say("!subscribe stream.test");
    expect(s.count("/api/status")).toBe(1);
    expect(h.query("SELECT initialized FROM streams")).toEqual([{ initialized: 1 }]);
    s.goLive("right away");
    await h.poll();
    expect(bodies()).toEqual([`🎥 Quick is now live!\nStream Title: right away\n\nTo tune in, visit: http://stream.test:${h.sim.port}/`]);
  });

  it("refuses a domain that does not answer like Owncast, saying what the check saw in words for whoever typed it", async () => {
    h.sim.add("notowncast.test", { mode: "garbage" });
    h.sim.add("closes.test", { mode: "unreachable" });
    h.sim.add("broken.test", { mode: "http500" });
    await h.start();
    const refusal = "The URL you supplied does not appear to be a valid Owncast instance. You may have specified an invalid domain, or the instance is offline.";
    const answers: string[] = [];
    for (const domain of ["notowncast.test", "closes.test", "broken.test", "nobody.test"]) {
      await h.say(`!subscribe ${domain}`);
      answers.push(h.lastReply());
    }
    expect(answers).toEqual([
      `${refusal} (Checked notowncast.test: the server answered, but not like an Owncast server.)`,
      `${refusal} (Checked closes.test: the server closed the connection before answering.)`,
      `${refusal} (Checked broken.test: the server reported an error (HTTP 500); it may be down, try again later.)`,
      `${refusal} (Checked nobody.test: the server has no Owncast status page (HTTP 404 Not Found).)`,
    ]);
    const replies = h.messages().filter((m) => "m.relates_to" in m.content);
    expect(replies.map((m) => m.content["msgtype"])).toEqual(["m.notice", "m.notice", "m.notice", "m.notice"]);
    expect(h.query("SELECT * FROM subscriptions")).toEqual([]);
  });

  it("refuses members below the room's state_default, and allows the configured level", async () => {
    h.sim.add("stream.test");
    await h.start();
    await h.say("!subscribe stream.test", "@guest:test.local");
    expect(h.lastReply()).toBe("You need power level 50 in this room to change its Owncast subscriptions (you have 0).");
    expect(h.query("SELECT * FROM subscriptions")).toEqual([]);
    h.powerLevels.users["@mod:test.local"] = 50;
    await h.say("!subscribe stream.test", "@mod:test.local");
    expect(h.lastReply()).toMatch(/^Subscription added!/);
    await h.say("!unsubscribe stream.test", "@guest:test.local");
    expect(h.lastReply()).toMatch(/^You need power level 50/);
  });

  it("min_power_level overrides state_default", async () => {
    h.sim.add("stream.test");
    await h.start({ config: testConfig(await portOf(h), { min_power_level: 0 }) });
    await h.say("!subscribe stream.test", "@guest:test.local");
    expect(h.lastReply()).toMatch(/^Subscription added!/);
  });

  it("unsubscribing removes the subscription and the stream's state together", async () => {
    await subscribed();
    expect(h.query("SELECT domain FROM streams")).toEqual([{ domain: "stream.test" }]);
    await h.say("!unsubscribe stream.test");
    expect(h.lastReply()).toBe("Subscription removed! This room will no longer receive notifications for stream.test.");
    expect(h.query("SELECT * FROM streams")).toEqual([]);
    await h.say("!unsubscribe stream.test");
    expect(h.lastReply()).toBe("This room is already not subscribed to notifications for stream.test.");
  });

  it("a subscription whose state row is missing is healed instead of breaking the poll", async () => {
    const s = await subscribed();
    h.query("DELETE FROM streams RETURNING domain");
    s.goLive("back");
    await h.poll(); // first observation of the re-created row: silent
    expect(h.query("SELECT domain, initialized FROM streams")).toEqual([{ domain: "stream.test", initialized: 1 }]);
  });

  it("!subscriptions and !live list status, title, link and the webhook URL", async () => {
    const s = await subscribed();
    await h.say("!live");
    expect(h.lastReply()).toMatch(/^No subscribed Owncast instances are currently live\./);
    s.goLive("Speedrun <any%>");
    h.clock.advance(3 * 3600);
    await h.poll();
    await h.say("!subscriptions");
    const reply = h.lastReply();
    const token = (h.query("SELECT webhook_token FROM streams")[0] as { webhook_token: string }).webhook_token;
    expect(reply).toContain("Subscriptions for this room (1):");
    expect(reply).toContain("- Logal Stream");
    expect(reply).toContain("Title: Speedrun <any%>");
    expect(reply).toContain("Status: Online for 3 hours");
    expect(reply).toContain(`Link: http://stream.test:${h.sim.port}/`);
    expect(reply).toContain(`Webhook URL: https://bot.example/_matrix/maubot/plugin/sentry/webhook/${token}`);
    await h.say("!live");
    expect(h.lastReply()).toContain("Live Owncast instances (1):");
    const html = String(h.messages().at(-1)!.content["formatted_body"]);
    expect(html).toContain("Speedrun &lt;any%&gt;");
  });
});

describe("notification rules", () => {
  it("going live notifies every subscribed room with name, title, tags and link, as HTML with a clean body", async () => {
    const s = await subscribed();
    await h.say("!subscribe stream.test", "@admin:test.local", "!other:test.local");
    s.goLive("Attempt #3! *really*");
    await h.poll();
    const sent = h.messages().filter((m) => !("m.relates_to" in m.content));
    expect(sent.map((m) => m.roomId).sort()).toEqual(["!other:test.local", ROOM]);
    const c = sent[0]!.content;
    expect(c["msgtype"]).toBe("m.text");
    expect(c["m.mentions"]).toEqual({});
    expect(c["format"]).toBe("org.matrix.custom.html");
    expect(c["body"]).toBe(
      `🎥 Logal Stream is now live!\nStream Title: Attempt #3! *really*\n\nTo tune in, visit: http://stream.test:${h.sim.port}/\n\n#gaming #chill`,
    );
    expect(c["formatted_body"]).toContain("🎥 <b>Logal Stream</b> is now live!");
    expect(c["formatted_body"]).toContain(`<a href="http://stream.test:${h.sim.port}/">`);
    expect(c["formatted_body"]).not.toContain(".hidden");
  });

  it("a stream that had never been live is announced the first time it goes live", async () => {
    const s = await subscribed();
    await h.poll();
    expect(h.query("SELECT last_connect_time, last_disconnect_time FROM streams")).toEqual([{ last_connect_time: null, last_disconnect_time: null }]);
    s.goLive("first ever");
    h.clock.advance(60);
    await h.poll();
    expect(bodies()).toHaveLength(1);
    expect(bodies()[0]).toMatch(/is now live!/);
  });

  it("uses lastConnectTime, not the lagging online flag, to see a stream go live", async () => {
    const s = await subscribed("stream.test", { onlineLagMs: 30_000 });
    s.goLive("buffering");
    await h.poll();
    expect(s.status()["online"]).toBe(false);
    expect(bodies()).toHaveLength(1);
  });

  it("a title change during a session sends a title-change notice", async () => {
    const s = await subscribed();
    s.goLive("one");
    await h.poll();
    h.clock.advance(200);
    s.setTitle("two");
    await h.poll();
    expect(bodies()[1]).toBe(`📝 Logal Stream has changed its stream title!\nStream Title: two\n\nTo tune in, visit: http://stream.test:${h.sim.port}/\n\n#gaming #chill`);
  });

  it("sends at most one notice per interval; a held-back title change is announced when it ends", async () => {
    const s = await subscribed();
    s.goLive("one");
    await h.poll();
    h.clock.advance(30);
    s.setTitle("two");
    await h.poll();
    h.clock.advance(30);
    s.setTitle("three");
    await h.poll();
    expect(bodies()).toHaveLength(1);
    h.clock.advance(61); // 121 s after the go-live notice
    await h.poll();
    expect(bodies()).toHaveLength(2);
    expect(bodies()[1]).toMatch(/has changed its stream title!\nStream Title: three/);
    h.clock.advance(200);
    await h.poll();
    expect(bodies()).toHaveLength(2);
  });

  it("a held-back title change that was reverted is not announced", async () => {
    const s = await subscribed();
    s.goLive("one");
    await h.poll();
    h.clock.advance(30);
    s.setTitle("two");
    await h.poll();
    h.clock.advance(30);
    s.setTitle("one");
    await h.poll();
    h.clock.advance(200);
    await h.poll();
    expect(bodies()).toHaveLength(1);
  });

  it("back within the grace period with the same title: no notice", async () => {
    const s = await subscribed();
    s.goLive("same");
    await h.poll();
    h.clock.advance(300);
    s.goOffline();
    await h.poll();
    h.clock.advance(41);
    s.goLive();
    await h.poll();
    expect(bodies()).toHaveLength(1);
  });

  it("back within the grace period with a new title: a title-change notice", async () => {
    const s = await subscribed();
    s.goLive("before");
    await h.poll();
    h.clock.advance(300);
    s.goOffline();
    await h.poll();
    h.clock.advance(20);
    s.goLive("after");
    await h.poll();
    expect(bodies()).toHaveLength(2);
    expect(bodies()[1]).toMatch(/^📝 Logal Stream has changed its stream title!\nStream Title: after/);
  });

  it("back after the grace period: a normal go-live notice", async () => {
    const s = await subscribed();
    s.goLive("same");
    await h.poll();
    h.clock.advance(300);
    s.goOffline();
    await h.poll();
    h.clock.advance(43);
    s.goLive();
    await h.poll();
    expect(bodies()).toHaveLength(2);
    expect(bodies()[1]).toMatch(/^🎥 Logal Stream is now live!/);
  });

  it("a title change after the stream went offline past its last notice is announced as going live", async () => {
    const s = await subscribed();
    s.goLive("one");
    await h.poll(); // notice at T
    h.clock.advance(10);
    s.goOffline();
    await h.poll(); // offline at T+10, after the last notice
    h.clock.advance(60);
    s.goLive(); // back after the grace, but inside the interval: held back (same title: nothing later)
    await h.poll();
    h.clock.advance(60);
    s.setTitle("two"); // T+130: interval over, offline happened after the last notice
    await h.poll();
    expect(bodies()).toHaveLength(2);
    expect(bodies()[1]).toMatch(/^🎥 Logal Stream is now live!\nStream Title: two/);
  });

  it("a restart in the middle of the grace period changes nothing a room sees", async () => {
    const s = await subscribed();
    s.goLive("same");
    await h.poll(); // go-live notice at T
    h.clock.advance(30);
    s.goOffline();
    await h.poll(); // offline at T+30
    h.clock.advance(20);
    await h.restart();
    h.clock.advance(10);
    s.goLive(); // back at T+60, 30 s after going offline: inside the grace, same title
    await h.poll();
    expect(bodies()).toHaveLength(1);
    // The notification interval survives a restart too: a title change at T+65 is held back...
    h.clock.advance(5);
    await h.restart();
    s.setTitle("new");
    await h.poll();
    expect(bodies()).toHaveLength(1);
    expect(h.query("SELECT title_pending FROM streams")).toEqual([{ title_pending: 1 }]);
    // ...and announced once it ends (as going live: the stream went offline after the last notice).
    h.clock.advance(60);
    await h.restart();
    expect(bodies()).toHaveLength(2);
    expect(bodies()[1]).toMatch(/^🎥 Logal Stream is now live!\nStream Title: new/);
  });
});

describe("order of notices", () => {
  it("streams going live in one cycle are announced in the order each room subscribed, whatever order the servers answer in", async () => {
    // The first subscription answers last: sent as they arrived, it would come last.
    const slow = h.sim.add("zulu.test", { name: "Zulu", answerDelayMs: 200 });
    const mid = h.sim.add("alpha.test", { name: "Alpha", answerDelayMs: 50 });
    const fast = h.sim.add("mike.test", { name: "Mike" });
    await h.start();
    const other = "!other:test.local";
    for (const domain of ["zulu.test", "alpha.test", "mike.test"]) await h.say(`!subscribe ${domain}`);
    for (const domain of ["mike.test", "zulu.test"]) await h.say(`!subscribe ${domain}`, "@admin:test.local", other);
    slow.goLive("one");
    mid.goLive("two");
    fast.goLive("three");
    await h.poll();
    const port = h.sim.port;
    const notice = (name: string, domain: string, title: string) => [
      "m.text",
      `🎥 ${name} is now live!\nStream Title: ${title}\n\nTo tune in, visit: http://${domain}:${port}/`,
    ];
    const seen = (room: string) => h.notices(room).map((c) => [c["msgtype"], c["body"]]);
    expect(seen(ROOM)).toEqual([notice("Zulu", "zulu.test", "one"), notice("Alpha", "alpha.test", "two"), notice("Mike", "mike.test", "three")]);
    expect(seen(other)).toEqual([notice("Mike", "mike.test", "three"), notice("Zulu", "zulu.test", "one")]);
  });
});

describe("hostile and broken instances", () => {
  it("names, titles and tags are one line, truncated to Owncast's limits and cannot inject formatting", async () => {
    const s = await subscribed("evil.test", {
      name: "<img src=x onerror=alert(1)>\n@room **bold** [link](https://evil)" + "N".repeat(400),
      tags: ["<b>x</b>", "t".repeat(40), "\u202eevil", ".dot"],
    });
    s.goLive("line1\nline2\r\n<script>alert(1)</script> @room " + "T".repeat(200));
    await h.poll();
    const c = h.notices()[0]!;
    const body = String(c["body"]);
    const html = String(c["formatted_body"]);
    expect(html).not.toMatch(/<img src=x|<script|<b>x/);
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(body).not.toContain("\\");
    const [first, titleLine] = body.split("\n");
    expect(Array.from(first!.replace(/^🎥 /, "").replace(/ is now live!$/, "")).length).toBe(255);
    expect(Array.from(titleLine!.replace(/^Stream Title: /, "")).length).toBe(100);
    expect(body).toContain(`#${"t".repeat(24)} `);
    expect(body).not.toContain("\u202e");
    expect(c["m.mentions"]).toEqual({});
  });

  it("a hanging, a garbage and a tags:null instance do not delay or break the others", async () => {
    const good = await subscribed("good.test");
    await subscribed("hang.test");
    await subscribed("array.test");
    const nulls = await subscribed("nulltags.test", { tags: null });
    h.sim.get("hang.test").set({ mode: "hang" });
    h.sim.get("array.test").set({ mode: "array" });
    good.goLive("ok");
    nulls.goLive("null tags");
    const stats = await h.poll();
    expect(stats).toMatchObject({ streams: 4, queried: 4, failed: 2 });
    expect(bodies().sort()).toEqual([
      expect.stringMatching(/^🎥 Logal Stream is now live!\nStream Title: null tags\n\nTo tune in, visit: http:\/\/nulltags\.test:\d+\/$/),
      expect.stringMatching(/^🎥 Logal Stream is now live!\nStream Title: ok/),
    ]);
  });

  it("follows no redirects", async () => {
    const s = await subscribed();
    s.set({ mode: "redirect" });
    const stats = await h.poll();
    expect(stats.failed).toBe(1);
  });
});

describe("unreachable instances", () => {
  it("backs off progressively; skipped polls are not failures", async () => {
    const s = await subscribed();
    s.set({ mode: "unreachable" });
    const attempts: number[] = [];
    for (let t = 0; t <= 240; t += 6) {
      const before = s.count("/api/status");
      await h.poll();
      if (s.count("/api/status") > before) attempts.push(t);
      h.clock.advance(6);
    }
    // every 6 s for 30 s, then 12 s until 60, 18 s until 90, 30 s until 180, then 90 s
    expect(attempts).toEqual([0, 6, 12, 18, 24, 36, 48, 66, 84, 114, 144, 174]);
    expect(h.query("SELECT failure_counter FROM streams")).toEqual([{ failure_counter: 12 }]);
  });

  it("shows Unknown and leaves !live on the original's 16-minute timeline, however the backoff spaces the checks", async () => {
    // The original's timings: 60-s polls, its backoff, Unknown after 960 s without a success.
    const s = h.sim.add("stream.test", { name: "Logal Stream" });
    await h.start({ config: { http: testConfig(await portOf(h))["http"] } });
    await h.say("!subscribe stream.test");
    s.goLive("marathon");
    await h.poll(); // go-live notice; the last successful check, at minute 0
    s.set({ mode: "unreachable" });
    const attempts: number[] = [];
    const seen: { minute: number; status: string; listedLive: boolean }[] = [];
    const expected: typeof seen = [];
    let originalCounter = 0;
    for (let minute = 1; minute <= 40; minute++) {
      h.clock.advance(60);
      const before = s.count("/api/status");
      await h.poll();
      if (s.count("/api/status") > before) attempts.push(minute);
      await h.say("!subscriptions");
      const status = /Status: ([^\n]*)/.exec(h.lastReply())![1]!;
      await h.say("!live");
      seen.push({ minute, status, listedLive: h.lastReply().startsWith("Live Owncast instances (1):") });
      // The original (v1.1.0): failure_counter rose every cycle, failed or skipped by its
      // backoff, and Status was Unknown while the counter was above 15.
      originalCounter++;
      const unknown = originalCounter > 15;
      expected.push({ minute, status: unknown ? "Unknown (instance unreachable)" : `Online for ${minute} minute${minute === 1 ? "" : "s"}`, listedLive: !unknown });
    }
    expect(seen).toEqual(expected);
    expect(seen.find((x) => x.status.startsWith("Unknown"))!.minute).toBe(16);
    // No check landed at minute 16: the clock, not a failed check, turned the status.
    expect(attempts).toEqual([1, 2, 3, 4, 5, 7, 9, 12, 15, 20, 25, 30]);
    expect(bodies()).toHaveLength(1);
  });

  it("warns the rooms once when crossing the warning threshold and removes the subscription at the removal threshold", async () => {
    const s = await subscribed();
    s.set({ mode: "unreachable" });
    await h.poll();
    for (let i = 0; i < 100 && h.query("SELECT * FROM streams").length > 0; i++) {
      h.clock.advance(37); // polls never land exactly on the thresholds
      await h.poll();
    }
    // Worded from the configured thresholds (830 s and 900 s), in the original's sentence.
    expect(h.notices().map((c) => [c["msgtype"], c["body"]])).toEqual([
      [
        "m.text",
        "⚠️ Warning: Subscription Cleanup Scheduled\n\nThe Owncast instance at stream.test has been unreachable for 13 minutes. If it remains unreachable for 1 more minute (15 minutes total), this subscription will be automatically removed.",
      ],
      [
        "m.text",
        "🗑️ Subscription Automatically Removed\n\nThe Owncast instance at stream.test has been unreachable for 15 minutes and has been automatically removed from subscriptions in this room.\n\nIf the instance comes online again and you want to resubscribe, run !subscribe stream.test.",
      ],
    ]);
    expect(h.query("SELECT * FROM subscriptions")).toEqual([]);
    expect(h.query("SELECT * FROM streams")).toEqual([]);
  });

  it("the cleanup warning and removal notice are the original's words and alert the room as m.text, on the real 83 and 90 days", async () => {
    const s = h.sim.add("stream.test", { name: "Logal Stream" });
    const config = testConfig(await portOf(h));
    delete config["cleanup_warning_after_seconds"];
    delete config["cleanup_remove_after_seconds"];
    await h.start({ config });
    await h.say("!subscribe stream.test");
    await h.say("!subscribe stream.test", "@admin:test.local", "!other:test.local");
    s.set({ mode: "unreachable" });
    for (let day = 0; day <= 100 && h.query("SELECT * FROM streams").length > 0; day++) {
      await h.poll();
      h.clock.advance(86400);
    }
    const sent = h.messages().filter((m) => !("m.relates_to" in m.content));
    const warning =
      "⚠️ Warning: Subscription Cleanup Scheduled\n\nThe Owncast instance at stream.test has been unreachable for 83 days. If it remains unreachable for 7 more days (90 days total), this subscription will be automatically removed.";
    const removal =
      "🗑️ Subscription Automatically Removed\n\nThe Owncast instance at stream.test has been unreachable for 90 days and has been automatically removed from subscriptions in this room.\n\nIf the instance comes online again and you want to resubscribe, run !subscribe stream.test.";
    for (const room of [ROOM, "!other:test.local"]) {
      expect(sent.filter((m) => m.roomId === room).map((m) => [m.content["msgtype"], m.content["body"]])).toEqual([
        ["m.text", warning],
        ["m.text", removal],
      ]);
    }
    expect(String(sent.at(-1)!.content["formatted_body"])).toContain("run <code>!subscribe stream.test</code>.");
  });

  it("notice_msgtype: m.notice makes the cleanup notices quiet along with the stream notices", async () => {
    const s = h.sim.add("stream.test");
    await h.start({ config: testConfig(await portOf(h), { notice_msgtype: "m.notice" }) });
    await h.say("!subscribe stream.test");
    s.goLive("quiet");
    await h.poll();
    s.set({ mode: "unreachable" });
    for (let i = 0; i < 100 && h.query("SELECT * FROM streams").length > 0; i++) {
      h.clock.advance(37);
      await h.poll();
    }
    expect(h.notices().map((c) => [c["msgtype"], String(c["body"]).split("\n")[0]])).toEqual([
      ["m.notice", "🎥 stream.test is now live!"],
      ["m.notice", "⚠️ Warning: Subscription Cleanup Scheduled"],
      ["m.notice", "🗑️ Subscription Automatically Removed"],
    ]);
  });

  it("stopping the instance in the middle of a poll records no failure", async () => {
    const s = await subscribed();
    s.set({ mode: "hang" });
    const before = s.count("/api/status");
    const cycle = h.poll();
    for (let i = 0; i < 200 && s.count("/api/status") === before; i++) await new Promise((r) => setTimeout(r, 10));
    expect(s.count("/api/status")).toBe(before + 1);
    await h.plugin.__botyardStop();
    await cycle;
    expect(h.query("SELECT failure_counter, first_failure_at FROM streams")).toEqual([{ failure_counter: 0, first_failure_at: null }]);
  });

  it("a stream that answers again is reset", async () => {
    const s = await subscribed();
    s.set({ mode: "http500" });
    await h.poll();
    h.clock.advance(6);
    await h.poll();
    s.set({ mode: "ok" });
    h.clock.advance(6);
    await h.poll();
    expect(h.query("SELECT failure_counter, first_failure_at FROM streams")).toEqual([{ failure_counter: 0, first_failure_at: null }]);
  });
});

describe("webhooks", () => {
  function tokenOf(): string {
    return (h.query("SELECT webhook_token FROM streams")[0] as { webhook_token: string }).webhook_token;
  }
  function deliver(body: unknown, headers: Record<string, string> = {}, token = tokenOf()) {
    return h.web({ path: `/webhook/${token}`, headers: { "content-type": "application/json", ...headers }, body: Buffer.from(JSON.stringify(body)) });
  }

  it("STREAM_STARTED notifies at once through the same rules, and the next poll adds nothing", async () => {
    const s = await subscribed();
    s.set({ onlineLagMs: 10_000 }).goLive("hooked");
    const res = await deliver(s.webhook("STREAM_STARTED"));
    expect(res.status).toBe(200);
    expect(bodies()).toEqual([expect.stringMatching(/^🎥 Logal Stream is now live!\nStream Title: hooked/)]);
    await h.poll();
    expect(bodies()).toHaveLength(1);
    expect((await deliver(s.webhook("STREAM_STARTED"), {}, "0".repeat(32))).status).toBe(404);
    const metrics = h.test.metrics!;
    expect([metrics.value("owncast_webhooks_total", { outcome: "accepted" }), metrics.value("owncast_webhooks_total", { outcome: "refused" })]).toEqual([1, 1]);
    expect(metrics.value("owncast_notices_total", { source: "webhook" })).toBe(1);
  });

  it("STREAM_STOPPED then STREAM_STARTED inside the grace with the same title sends nothing", async () => {
    const s = await subscribed();
    s.goLive("t");
    await deliver(s.webhook("STREAM_STARTED"));
    h.clock.advance(300);
    s.goOffline();
    await deliver(s.webhook("STREAM_STOPPED"));
    h.clock.advance(10);
    s.goLive();
    await deliver(s.webhook("STREAM_STARTED"));
    expect(bodies()).toHaveLength(1);
  });

  it("STREAM_TITLE_UPDATED during a session sends a title-change notice; other events are ignored", async () => {
    const s = await subscribed();
    s.goLive("a");
    await h.poll();
    h.clock.advance(200);
    s.setTitle("b");
    expect((await deliver(s.webhook("STREAM_TITLE_UPDATED"))).status).toBe(200);
    expect(bodies()[1]).toMatch(/has changed its stream title!\nStream Title: b/);
    const chat = await deliver({ type: "CHAT", eventData: { body: "hi" } });
    expect(chat.status).toBe(202);
    expect(bodies()).toHaveLength(2);
  });

  it("checks owncast-signature when a secret is configured: good passes, bad, missing and stale are refused", async () => {
    h.sim.add("stream.test", { name: "Signed" });
    await h.start({ config: testConfig(await portOf(h), { webhook: { secrets: { "stream.test": "s3cret" } } }) });
    await h.say("!subscribe stream.test");
    const s = h.sim.get("stream.test").goLive("signed");
    const raw = JSON.stringify(s.webhook("STREAM_STARTED"));
    const t = Math.floor(h.clock.ms / 1000);
    const send = (headers: Record<string, string>) => h.web({ path: `/webhook/${tokenOf()}`, headers, body: Buffer.from(raw) });

    expect((await send({})).status).toBe(401);
    expect((await send({ "owncast-signature": owncastSignature("wrong", raw, t) })).status).toBe(401);
    expect((await send({ "owncast-signature": owncastSignature("s3cret", raw, t - 301) })).status).toBe(401);
    expect((await send({ "owncast-signature": "t=1.s=zz" })).status).toBe(401);
    expect(bodies()).toEqual([]);
    expect((await send({ "owncast-signature": owncastSignature("s3cret", raw, t) })).status).toBe(200);
    expect(bodies()).toHaveLength(1);
  });

  it("an unknown token is 404 and a non-JSON body 400", async () => {
    await subscribed();
    expect((await deliver({ type: "STREAM_STARTED" }, {}, "0".repeat(32))).status).toBe(404);
    expect((await h.web({ path: `/webhook/${tokenOf()}`, body: Buffer.from("{nope") })).status).toBe(400);
  });
});

describe("config", () => {
  it("a config update applies to the next notice without a restart", async () => {
    const s = await subscribed();
    await h.plugin.__botyardConfigUpdate(testConfig(h.sim.port, { notice_msgtype: "m.notice", min_notification_interval_seconds: 0 }));
    s.goLive("after update");
    await h.poll();
    expect(h.notices()[0]!["msgtype"]).toBe("m.notice");
    h.clock.advance(1);
    s.setTitle("again");
    await h.poll();
    expect(bodies()).toHaveLength(2);
  });
});

describe("thumbnail", () => {
  it("uploads the live thumbnail and shows it in the go-live notice; the logo fallback (SVG or JPEG) is not used", async () => {
    h.sim.add("pic.test", { thumbnail: TINY_JPEG });
    h.sim.add("logo.test");
    h.sim.add("jpeglogo.test", { logo: { contentType: "image/jpeg", data: Buffer.concat([TINY_JPEG, Buffer.from("logo")]) } });
    await h.start({ config: testConfig(await portOf(h), { thumbnail: true }) });
    await h.say("!subscribe pic.test");
    await h.say("!subscribe logo.test");
    await h.say("!subscribe jpeglogo.test");
    h.sim.get("pic.test").goLive("pic");
    h.sim.get("logo.test").goLive("logo");
    h.sim.get("jpeglogo.test").goLive("jpeg logo");
    await h.poll();
    const uploads = h.test.callsOf("uploadMedia");
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.contentType).toBe("image/jpeg");
    expect(Buffer.from(uploads[0]!.data).equals(TINY_JPEG)).toBe(true);
    const html = h.notices().map((c) => String(c["formatted_body"]));
    expect(html.filter((x) => x.includes('<img src="mxc://test.local/'))).toHaveLength(1);
  });
});

async function portOf(harness: Harness): Promise<number> {
  if (harness.sim.port === 0) await harness.sim.start();
  return harness.sim.port;
}

describe("metrics", () => {
  it("counts status checks, notices and poll cycles for the host's Prometheus endpoint", async () => {
    const s = await subscribed("stream.test");
    const m = () => h.test.metrics!;
    await h.poll();
    expect(m().value("owncast_status_checks_total", { outcome: "ok" })).toBe(1);
    expect(m().value("owncast_streams")).toBe(1);
    s.goLive("metrics on air");
    h.clock.advance(120);
    await h.poll();
    expect(m().value("owncast_notices_total", { source: "poll" })).toBe(1);
    s.set({ mode: "http500" });
    h.clock.advance(120);
    await h.poll();
    expect(m().value("owncast_status_checks_total", { outcome: "failed" })).toBe(1);
    expect(m().value("owncast_poll_cycle_seconds")).toBeGreaterThanOrEqual(3);
    expect(m().defined.map((d) => d.name).sort()).toEqual(["owncast_notices_total", "owncast_poll_cycle_seconds", "owncast_status_checks_total", "owncast_streams"]);
  });
});
