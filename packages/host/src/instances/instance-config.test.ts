import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { makeBundle, testManifest } from "../../test-support/plugin-fixtures.js";
import { readBundle } from "../bundles/bundle-reader.js";
import { InstanceConfigError, effectiveConfigText, mergeConfig, resolveInstanceConfig } from "./instance-config.js";

const schema = {
  type: "object",
  properties: { rooms: { type: "array", items: { type: "string" } }, poll: { type: "object", properties: { interval: { type: "integer" }, jitter: { type: "integer" } }, required: ["interval"] } },
  additionalProperties: false,
};
const bundle = readBundle(
  makeBundle({ manifest: testManifest({ config: true, config_schema: schema }), files: { "base-config.yaml": "rooms: [a, b]\npoll:\n  interval: 60\n  jitter: 5\n" } }),
);

describe("instance config", () => {
  it("merges mappings key by key over base-config.yaml and replaces lists whole", () => {
    expect(resolveInstanceConfig(bundle, "rooms: [c]\npoll:\n  jitter: 1\n")).toEqual({ rooms: ["c"], poll: { interval: 60, jitter: 1 } });
    expect(mergeConfig({ a: { b: 1, c: 2 } }, { a: { c: 3 } })).toEqual({ a: { b: 1, c: 3 } });
  });

  it("keeps a YAML key __proto__ as a plain key instead of changing the config's prototype", () => {
    const merged = mergeConfig({ a: 1 }, YAML.parse("__proto__:\n  polluted: true\n") as Record<string, unknown>);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect((merged as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.hasOwn(merged, "__proto__")).toBe(true);
    expect(() => resolveInstanceConfig(bundle, "__proto__:\n  rooms: [x]\n")).toThrow("invalid config at /__proto__: must NOT have additional properties");
  });

  it("uses base-config.yaml alone for an empty config", () => {
    expect(resolveInstanceConfig(bundle, "")).toEqual({ rooms: ["a", "b"], poll: { interval: 60, jitter: 5 } });
  });

  it("names the path of every invalid value", () => {
    expect(() => resolveInstanceConfig(bundle, "poll:\n  interval: soon\nrooms: [1]\nextra: true\n")).toThrow(
      /invalid config at \/extra: must NOT have additional properties; at \/rooms\/0: must be string; at \/poll\/interval: must be integer/,
    );
  });

  it("refuses YAML that does not parse or is not a mapping", () => {
    expect(() => resolveInstanceConfig(bundle, "poll: [")).toThrow(InstanceConfigError);
    expect(() => resolveInstanceConfig(bundle, "- a\n- b\n")).toThrow(/must be a YAML mapping/);
  });

  describe("effective config text (what GET /instance answers with)", () => {
    const base = "# How often to poll\npoll:\n  interval: 60 # seconds\n  jitter: 5\nrooms: [a, b]\n";

    it("is the base config with the instance's values merged in, base comments and key order kept", () => {
      const text = effectiveConfigText(base, "poll:\n  jitter: 1\nrooms: [c]\nextra: yes\n");
      expect(text).toContain("# How often to poll");
      expect(text).toContain("interval: 60 # seconds");
      expect(YAML.parse(text)).toEqual({ poll: { interval: 60, jitter: 1 }, rooms: ["c"], extra: "yes" });
      expect(text.indexOf("poll:")).toBeLessThan(text.indexOf("rooms:"));
    });

    it("is the base config for an empty instance config, and the same text when saved back", () => {
      const text = effectiveConfigText(base, "");
      expect(YAML.parse(text)).toEqual(YAML.parse(base));
      expect(text).toContain("interval: 60 # seconds");
      expect(effectiveConfigText(base, text)).toBe(text);
    });

    it("hides nothing stored: text that is not a mapping, or a bundle without a base config, comes back as it is", () => {
      expect(effectiveConfigText(base, "a: [unclosed")).toBe("a: [unclosed");
      expect(effectiveConfigText(base, "- a list\n")).toBe("- a list\n");
      expect(effectiveConfigText(null, "x: 1\n")).toBe("x: 1\n");
    });
  });
});
