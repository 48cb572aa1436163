import { textMessage } from "@botyard/sdk/testing";
import { describe, expect, it } from "vitest";
import { cacheKey, linksIn, linksToFetch, matchesPatterns, unquotedText } from "../src/links.js";
import { DEFAULT_URL_PATTERNS, compilePattern, parseSettings } from "../src/settings.js";

const BOT = "@media:test.local";
const defaults = DEFAULT_URL_PATTERNS.map(compilePattern);

describe("url_patterns", () => {
  it("match Instagram posts, reels, IGTV and public stories by default, whole links only", () => {
    for (const link of [
      "https://www.instagram.com/p/C1a2B3c4D5e/",
      "https://instagram.com/p/C1a2B3c4D5e",
      "https://www.instagram.com/reel/C9xYz_-12/?igsh=abc123",
      "https://www.instagram.com/reels/C9xYz12/",
      "https://www.instagram.com/tv/B8abc/",
      "https://www.instagram.com/some.user/p/C1a2B3c4D5e/",
      "https://www.instagram.com/stories/some.user/3141592653589793238/",
      "http://INSTAGRAM.com/p/abc",
    ]) {
      expect(matchesPatterns(link, defaults), link).toBe(true);
    }
    for (const link of [
      "https://www.instagram.com/some.user/",
      "https://www.instagram.com/explore/tags/cats/",
      "https://evil.example/https://www.instagram.com/p/abc/",
      "https://www.instagram.com.evil.example/p/abc/",
      "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
      `https://www.instagram.com/p/${"a".repeat(3000)}/`,
    ]) {
      expect(matchesPatterns(link, defaults), link).toBe(false);
    }
  });

  it("take the operator's own patterns, and refuse one that is not a regular expression", () => {
    const s = parseSettings({ url_patterns: [String.raw`http://127\.0\.0\.1:\d+/media/\S+`] });
    expect(matchesPatterns("http://127.0.0.1:8080/media/clip.mp4", s.urlPatterns)).toBe(true);
    expect(matchesPatterns("https://www.instagram.com/p/abc/", s.urlPatterns)).toBe(false);
    expect(() => parseSettings({ url_patterns: ["(unclosed"] })).toThrow(/not a valid regular expression/);
    expect(() => parseSettings({ room_subscriptions: ["#alias:server"] })).toThrow(/not a room id/);
    expect(() => parseSettings({ rate_limiting: { max_requests_per_minute: 61 } })).toThrow(/from 1 to 60/);
  });
});

describe("links of a message", () => {
  it("finds every link once, without the punctuation around it", () => {
    expect(linksIn("see (https://a.example/p/1), and https://a.example/p/2. again https://a.example/p/1!")).toEqual([
      "https://a.example/p/1",
      "https://a.example/p/2",
    ]);
    expect(unquotedText("> <@bob:hs> https://a.example/p/1\n\nmine: https://a.example/p/2")).toBe("\nmine: https://a.example/p/2");
  });

  it("fetches links a member posted, up to the limit, and none from the bot, edits, quotes, notices or commands", () => {
    const body = "https://www.instagram.com/p/one/ https://www.instagram.com/p/two/ https://www.instagram.com/p/three/";
    expect(linksToFetch(textMessage(body), BOT, defaults, 2)).toEqual(["https://www.instagram.com/p/one/", "https://www.instagram.com/p/two/"]);
    expect(linksToFetch(textMessage(body, { sender: BOT }), BOT, defaults, 3)).toEqual([]);
    expect(linksToFetch(textMessage(body, { msgtype: "m.notice" }), BOT, defaults, 3)).toEqual([]);
    expect(linksToFetch(textMessage(`!media ${body}`), BOT, defaults, 3)).toEqual([]);
    const edit = textMessage(`* ${body}`);
    edit.content["m.new_content"] = { msgtype: "m.text", body };
    edit.content["m.relates_to"] = { rel_type: "m.replace", event_id: "$orig" };
    expect(linksToFetch(edit, BOT, defaults, 3)).toEqual([]);
    const reply = textMessage("> <@bob:test.local> https://www.instagram.com/p/quoted/\n\nnice one, also https://www.instagram.com/reel/mine/");
    reply.content["m.relates_to"] = { "m.in_reply_to": { event_id: "$orig" } };
    expect(linksToFetch(reply, BOT, defaults, 3)).toEqual(["https://www.instagram.com/reel/mine/"]);
  });

  it("keys the cache by link without query, fragment or trailing slash", () => {
    expect(cacheKey("https://WWW.instagram.com/reel/abc/?igsh=x#y")).toBe("https://www.instagram.com/reel/abc");
    expect(cacheKey("https://www.instagram.com/reel/abc")).toBe("https://www.instagram.com/reel/abc");
  });
});
