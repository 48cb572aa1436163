import { describe, expect, it } from "vitest";
import { parseSettings } from "../src/settings.js";

describe("webhook secrets", () => {
  it("are keyed by domain the way subscriptions are, whatever form the key is written in", () => {
    const { secrets } = parseSettings({
      webhook: { secrets: { "https://Stream.Example.com/": "a", "other.example:8443": "b", "plain.example": "c" } },
    }).webhook;
    expect(secrets).toEqual({ "stream.example.com": "a", "other.example": "b", "plain.example": "c" });
  });

  it("refuse a key that names no domain", () => {
    expect(() => parseSettings({ webhook: { secrets: { "https://": "a" } } })).toThrow(/webhook.secrets key "https:\/\/" is not a domain/);
  });
});
