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

describe("instance config", async () => {
  it("merges mappings key by key over base-config.yaml and replaces lists whole", async () => {
    expect(await resolveInstanceConfig(bundle, "rooms: [c]\npoll:\n  jitter: 1\n")).toEqual({ rooms: ["c"], poll: { interval: 60, jitter: 1 } });
    expect(mergeConfig({ a: { b: 1, c: 2 } }, { a: { c: 3 } })).toEqual({ a: { b: 1, c: 3 } });
  });

  it("keeps a YAML key __proto__ as a plain key instead of changing the config's prototype", async () => {
    const merged = mergeConfig({ a: 1 }, YAML.parse("__proto__:\n  polluted: true\n") as Record<string, unknown>);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect((merged as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.hasOwn(merged, "__proto__")).toBe(true);
    await expect(resolveInstanceConfig(bundle, "__proto__:\n  rooms: [x]\n")).rejects.toThrow("invalid config at /__proto__: must NOT have additional properties");
  });

  it("uses base-config.yaml alone for an empty config", async () => {
    expect(await resolveInstanceConfig(bundle, "")).toEqual({ rooms: ["a", "b"], poll: { interval: 60, jitter: 5 } });
  });

  it("names the path of every invalid value", async () => {
    await expect(resolveInstanceConfig(bundle, "poll:\n  interval: soon\nrooms: [1]\nextra: true\n")).rejects.toThrow(
      /invalid config at \/extra: must NOT have additional properties; at \/rooms\/0: must be string; at \/poll\/interval: must be integer/,
    );
  });

  it("refuses YAML that does not parse or is not a mapping", async () => {
    await expect(resolveInstanceConfig(bundle, "poll: [")).rejects.toThrow(InstanceConfigError);
    await expect(resolveInstanceConfig(bundle, "- a\n- b\n")).rejects.toThrow(/must be a YAML mapping/);
  });

  it("refuses a config text over 256 KiB, saying the limit", async () => {
    await expect(resolveInstanceConfig(bundle, `# ${"x".repeat(256 * 1024)}\n`)).rejects.toThrow(/config is \d+ bytes; the limit is 256 KiB/);
  });

  it("refuses a config on which a pattern of the schema backtracks without end, at the time limit, without blocking the host", async () => {
    const hostile = readBundle(
      makeBundle({
        manifest: testManifest({ config: true, config_schema: { type: "object", properties: { name: { type: "string", pattern: "^(a+)+$" } } } }),
        files: { "base-config.yaml": "name: aaa\n" },
      }),
    );
    const order: string[] = [];
    // Due long before the check's time limit: it fires first only if the main thread stays free.
    const timer = setTimeout(() => order.push("timer"), 200);
    const refused = resolveInstanceConfig(hostile, `name: ${"a".repeat(48)}!\n`).catch((err: unknown) => {
      order.push("refused");
      return err;
    });
    expect(await refused).toMatchObject({
      name: "InstanceConfigError",
      message: expect.stringMatching(/checking the config against the plugin's config_schema failed: the check took longer than 10 s/),
    });
    clearTimeout(timer);
    expect(order).toEqual(["timer", "refused"]);
    await expect(resolveInstanceConfig(hostile, "name: aaaa\n")).resolves.toEqual({ name: "aaaa" });
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
