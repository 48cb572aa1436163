import AdmZip from "adm-zip";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { makeBundle, makeZip, patchName, testManifest, testPluginSource } from "../../test-support/plugin-fixtures.js";
import { BundleError } from "./bundle-error.js";
import { checkBundleConfig, readBundle } from "./bundle-reader.js";
import { compileConfigSchema } from "./config-schema.js";

function refusal(buffer: Buffer, hostVersion?: string): BundleError {
  try {
    checkBundleConfig(readBundle(buffer, { hostVersion }));
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return err as BundleError;
  }
  throw new Error("the bundle was accepted");
}

const schema = { type: "object", properties: { interval: { type: "integer", minimum: 10 } }, required: ["interval"] };

describe("readBundle accepts", () => {
  it("a valid bundle, with defaults filled in and the schema read", () => {
    const bundle = readBundle(
      makeBundle({ manifest: testManifest({ config: true, config_schema: schema }), files: { "base-config.yaml": "interval: 60\n" } }),
    );
    expect(bundle.manifest).toMatchObject({ id: "test.plugin", version: "1.0.0", main: "index.js", main_class: "default", database: true, webapp: false });
    expect(bundle.baseConfig).toEqual({ interval: 60 });
    expect(compileConfigSchema(bundle.configSchema!)({ interval: 5 })).toBe(false);
    expect(() => checkBundleConfig(bundle)).not.toThrow();
    expect(bundle.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a config schema given as a file in the bundle", () => {
    const bundle = readBundle(
      makeBundle({
        manifest: testManifest({ config: true, config_schema: "config-schema.json" }),
        files: { "config-schema.json": JSON.stringify(schema), "base-config.yaml": "interval: 60\n" },
      }),
    );
    expect(bundle.configSchema).toEqual(schema);
  });

  it("a version with build metadata (semver 2.0.0)", () => {
    expect(readBundle(makeBundle({ manifest: testManifest({ version: "1.0.0+build.5" }) })).manifest.version).toBe("1.0.0+build.5");
  });

  it("a main class exported by name, found without running the module", () => {
    const source = `${testPluginSource({ className: "Named" })}\nthrow new Error("top-level code ran");\n`;
    const bundle = readBundle(makeBundle({ manifest: testManifest({ main_class: "Named" }), files: { "index.js": source } }));
    expect(bundle.manifest.main_class).toBe("Named");
  });

  it("a class exported under another name (export { X as Y })", () => {
    const source = "class Impl {}\nexport { Impl as Plugin };\n";
    expect(readBundle(makeBundle({ manifest: testManifest({ main_class: "Plugin" }), files: { "index.js": source } })).manifest.main_class).toBe("Plugin");
  });
});

describe("readBundle refuses", () => {
  it("a file that is not a zip", () => {
    const err = refusal(Buffer.from("this is not a zip file at all"));
    expect(err.errcode).toBe("plugin_invalid");
    expect(err.message).toMatch(/not a zip/);
  });

  it("a zip without maubot.yaml", () => {
    const err = refusal(makeZip({ "index.js": "export default class {}" }));
    expect(err.message).toMatch(/no maubot\.yaml/);
  });

  it("a Python maubot plugin, saying so", () => {
    const err = refusal(makeZip({ "maubot.yaml": "id: xyz.maubot.echo\nversion: 1.4.0\nmodules: [echo]\nmain_class: EchoBot\n", "echo.py": "class EchoBot: pass" }));
    expect(err.errcode).toBe("plugin_invalid");
    expect(err.message).toMatch(/Python maubot plugin/);
    expect(err.message).toMatch(/cannot run/);
  });

  it("an entry escaping the folder with ../", () => {
    const zip = patchName(makeBundle({ files: { "XX/evil.js": "x" } }), "XX/evil.js", "../evil.js");
    expect(refusal(zip).message).toMatch(/"\.\.\/evil\.js" has a '\.\.' segment/);
  });

  it("an entry with an absolute path", () => {
    const zip = patchName(makeBundle({ files: { Xetc_passwd: "x" } }), "Xetc_passwd", "/etc_passwd");
    expect(refusal(zip).message).toMatch(/absolute path/);
  });

  it("an entry with a backslash", () => {
    const zip = patchName(makeBundle({ files: { "aXb.js": "x" } }), "aXb.js", "a\\b.js");
    expect(refusal(zip).message).toMatch(/backslash/);
  });

  it("an entry with a NUL byte in its name", () => {
    const zip = patchName(makeBundle({ files: { "aXb.js": "x" } }), "aXb.js", "a\0b.js");
    expect(refusal(zip).message).toMatch(/NUL/);
  });

  it("a symbolic link", () => {
    const zip = new AdmZip(makeBundle({ files: { link: "/etc/passwd" } }));
    zip.getEntry("link")!.attr = (0o120777 << 16) >>> 0;
    expect(refusal(zip.toBuffer()).message).toMatch(/"link" is a symbolic link/);
  });

  it("more than 1,000 entries", () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 1001; i++) files[`f${i}.txt`] = "x";
    const err = refusal(makeBundle({ files: { ...files, "index.js": testPluginSource() } }));
    expect(err.errcode).toBe("bundle_too_large");
    expect(err.message).toMatch(/1003 entries; at most 1000/);
  });

  it("more than 100 MiB uncompressed", () => {
    const err = refusal(makeBundle({ files: { "index.js": testPluginSource(), "big.bin": Buffer.alloc(101 * 1024 * 1024) } }));
    expect(err.errcode).toBe("bundle_too_large");
    expect(err.message).toMatch(/100 MiB/);
  });

  it("an entry that inflates to more than its header says (zip bomb)", () => {
    const zip = new AdmZip(makeBundle({ files: { "index.js": testPluginSource(), "bomb.bin": Buffer.alloc(1024 * 1024) } }));
    // Lie in the central directory: claim 10 bytes.
    zip.getEntry("bomb.bin")!.header.size = 10;
    const err = refusal(zip.toBuffer());
    expect(err.message).toMatch(/bomb\.bin/);
  });

  it("maubot.yaml that is not YAML", () => {
    expect(refusal(makeBundle({ manifest: "id: [unclosed\n" })).message).toMatch(/maubot\.yaml is not valid YAML/);
  });

  it("an id outside the pattern", () => {
    expect(refusal(makeBundle({ manifest: testManifest({ id: "Bad ID" }) })).message).toMatch(/at \/id: must match pattern/);
  });

  it("a version that is not semver", () => {
    expect(refusal(makeBundle({ manifest: testManifest({ version: "1.0" }) })).message).toMatch(/not a semantic version/);
  });

  it("a version semver would only read loosely (a leading v, spaces)", () => {
    for (const version of ["v1.0.0 ", "v1.0.0", " 1.0.0", "=1.0.0"]) {
      const err = refusal(makeBundle({ manifest: testManifest({ version }) }));
      expect(err.errcode).toBe("plugin_invalid");
      expect(err.message).toContain(`version ${JSON.stringify(version)} is not a semantic version`);
    }
  });

  it("a file whose name is also a folder (a and a/b)", () => {
    const err = refusal(makeBundle({ files: { "index.js": testPluginSource(), lib: "x", "lib/util.js": "y" } }));
    expect(err.errcode).toBe("plugin_invalid");
    expect(err.message).toMatch(/"lib" as a file and as the folder of "lib\/util\.js"/);
  });

  it("a main module without the main_class export, naming what it exports", () => {
    const err = refusal(makeBundle({ manifest: testManifest({ main_class: "Missing" }), files: { "index.js": testPluginSource({ className: "Other" }) } }));
    expect(err.errcode).toBe("plugin_invalid");
    expect(err.message).toMatch(/index\.js has no export named "Missing"/);
    expect(err.message).toMatch(/it exports Other/);
  });

  it("a main module without a default export", () => {
    const err = refusal(makeBundle({ files: { "index.js": "export const x = 1;\n" } }));
    expect(err.message).toMatch(/index\.js has no default export/);
  });

  it("a main module that is not parseable ESM", () => {
    const err = refusal(makeBundle({ files: { "index.js": "export default class {\n" } }));
    expect(err.errcode).toBe("plugin_invalid");
    expect(err.message).toMatch(/index\.js is not a parseable ES module/);
  });

  it("a main class only re-exported with export *, saying why", () => {
    const err = refusal(makeBundle({ files: { "index.js": 'export * from "./impl.js";\n', "impl.js": testPluginSource() } }));
    expect(err.message).toMatch(/export \* from/);
  });

  it("a maubot.yaml over 64 KiB, saying the limit", () => {
    const manifest = `${YAML.stringify(testManifest())}# ${"x".repeat(64 * 1024)}\n`;
    const err = refusal(makeBundle({ manifest }));
    expect(err.errcode).toBe("bundle_too_large");
    expect(err.message).toMatch(/maubot\.yaml is \d+ bytes; the limit is 64 KiB/);
  });

  it("a base-config.yaml over 256 KiB, saying the limit", () => {
    const err = refusal(makeBundle({ manifest: testManifest({ config: true }), files: { "base-config.yaml": `a: 1\n# ${"x".repeat(256 * 1024)}\n` } }));
    expect(err.errcode).toBe("bundle_too_large");
    expect(err.message).toMatch(/base-config\.yaml is \d+ bytes; the limit is 256 KiB/);
  });

  it("a manifest list longer than 1,000 items", () => {
    const err = refusal(makeBundle({ manifest: testManifest({ extra_files: Array.from({ length: 1001 }, (_, i) => `f${i}`) }) }));
    expect(err.errcode).toBe("plugin_invalid");
    expect(err.message).toMatch(/at \/extra_files: must NOT have more than 1000 items/);
  });

  it("a config_schema with more than 1,000 nodes, before compiling it", () => {
    const properties = Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`p${i}`, { type: "string" }]));
    const err = refusal(makeBundle({ manifest: testManifest({ config_schema: { type: "object", properties } }) }));
    expect(err.message).toMatch(/config_schema is too large to check: it has more than 1000 keys/);
  });

  it("a config_schema nested deeper than 32 levels", () => {
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 40; i++) deep = { type: "object", properties: { a: deep } };
    const err = refusal(makeBundle({ manifest: testManifest({ config_schema: deep }) }));
    expect(err.message).toMatch(/nests deeper than 32 levels/);
  });

  it("a missing required field", () => {
    expect(refusal(makeBundle({ manifest: { id: "a.b", main: "index.js" } })).message).toMatch(/at \/version: must have required property/);
  });

  it("a main that is not in the bundle", () => {
    expect(refusal(makeBundle({ manifest: testManifest({ main: "dist/plugin.js" }) })).message).toMatch(/main "dist\/plugin\.js" is not a file in the bundle/);
  });

  it("a main that is not an ES module file", () => {
    expect(refusal(makeBundle({ manifest: testManifest({ main: "index.ts" }), files: { "index.ts": "x" } })).message).toMatch(/at \/main/);
  });

  it("a config_schema that is not a valid JSON Schema", () => {
    const err = refusal(makeBundle({ manifest: testManifest({ config_schema: { type: "nonsense" } }) }));
    expect(err.message).toMatch(/config_schema is not a valid JSON Schema/);
  });

  it("a config_schema file that is missing", () => {
    expect(refusal(makeBundle({ manifest: testManifest({ config_schema: "schema.json" }) })).message).toMatch(/config_schema file "schema\.json" is not in the bundle/);
  });

  it("a base-config.yaml that does not parse", () => {
    const err = refusal(makeBundle({ manifest: testManifest({ config: true }), files: { "base-config.yaml": "a: [1,\n" } }));
    expect(err.message).toMatch(/base-config\.yaml is not valid YAML/);
  });

  it("a base-config.yaml that does not satisfy config_schema, naming the path", () => {
    const err = refusal(makeBundle({ manifest: testManifest({ config: true, config_schema: schema }), files: { "base-config.yaml": "interval: 5\n" } }));
    expect(err.message).toMatch(/base-config\.yaml does not satisfy config_schema at \/interval: must be >= 10/);
  });

  it("config: true without base-config.yaml", () => {
    expect(refusal(makeBundle({ manifest: testManifest({ config: true }) })).message).toMatch(/no base-config\.yaml/);
  });

  it("a plugin made for other host versions", () => {
    const err = refusal(makeBundle({ manifest: testManifest({ botyard: ">=2.0.0" }) }), "0.1.0");
    expect(err.message).toMatch(/supports botyard >=2\.0\.0; this host is 0\.1\.0/);
  });

  it("a missing extra file", () => {
    expect(refusal(makeBundle({ manifest: testManifest({ extra_files: ["README.md"] }) })).message).toMatch(/extra_files entry "README\.md"/);
  });
});
