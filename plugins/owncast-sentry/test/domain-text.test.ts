import { describe, expect, it } from "vitest";
import { domainify, splitHostPort } from "../src/domain.js";
import { cleanTags, cleanText, escapeHtml, formatDuration, parseOwncastTime } from "../src/text.js";

describe("splitHostPort", () => {
  it.each([
    ["127.0.0.1:18191", { host: "127.0.0.1", port: 18191 }],
    ["stream.example", { host: "stream.example", port: null }],
    ["stream.example:0", { host: "stream.example:0", port: null }],
    [":80", { host: ":80", port: null }],
  ] as const)("%s", (input, expected) => expect(splitHostPort(input)).toEqual(expected));
});

describe("domainify", () => {
  it.each([
    ["stream.logal.dev", "stream.logal.dev"],
    ["https://stream.logal.dev", "stream.logal.dev"],
    ["stream.logal.dev/embed/chat/readwrite", "stream.logal.dev"],
    ["https://stream.logal.dev/abcdefghijklmno/123456789", "stream.logal.dev"],
    ["notify@stream.logal.dev", "stream.logal.dev"],
    ["https://user:pass@Stream.Logal.Dev:8443/x?y#z", "stream.logal.dev"],
    ["HTTPS://Stream.Logal.Dev", "stream.logal.dev"],
    ["//stream.logal.dev/", "stream.logal.dev"],
    ["stream.logal.dev:8080", "stream.logal.dev"],
    ["  -.evil_domain!.com.-  ", "evildomain.com"],
    ["<script>", "script"],
    ["", ""],
    ["https://", ""],
    ["a".repeat(254), ""],
  ])("%j → %j", (input, expected) => {
    expect(domainify(input)).toBe(expected);
  });
});

describe("text from Owncast", () => {
  it("becomes one line without control or bidi characters, whitespace collapsed", () => {
    expect(cleanText("a\nb\r\nc\t d\u2028e\u202ef\u0000g", 100)).toBe("a b c d e f g");
  });
  it("is truncated by code points without splitting a surrogate pair", () => {
    expect(cleanText("😀".repeat(5), 3)).toBe("😀😀😀");
    expect(cleanText("x".repeat(300), 255)).toHaveLength(255);
  });
  it("non-strings are empty", () => {
    expect(cleanText(null, 5)).toBe("");
    expect(cleanText(42, 5)).toBe("");
  });
  it("tags: cleaned, truncated to 24, empty and dot-tags dropped, null is no tags", () => {
    expect(cleanTags(["ok", ".hidden", " ", "x".repeat(30), 7, "a\nb"])).toEqual(["ok", "x".repeat(24), "a b"]);
    expect(cleanTags(null)).toEqual([]);
  });
  it("escapes HTML", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });
  it("formats durations as the original", () => {
    expect(formatDuration(1000)).toBe("1 second");
    expect(formatDuration(59_000)).toBe("59 seconds");
    expect(formatDuration(120_000)).toBe("2 minutes");
    expect(formatDuration(3600_000)).toBe("1 hour");
    expect(formatDuration(83 * 86400_000)).toBe("83 days");
  });
  it("reads Owncast times with seconds or nanoseconds and any offset", () => {
    expect(parseOwncastTime("2024-10-24T22:35:05Z")).toBe(Date.parse("2024-10-24T22:35:05Z"));
    expect(parseOwncastTime("2022-09-19T12:30:26.97907142+02:00")).toBe(Date.parse("2022-09-19T10:30:26.979Z"));
    expect(parseOwncastTime("garbage")).toBeNull();
    expect(parseOwncastTime(null)).toBeNull();
  });
});
