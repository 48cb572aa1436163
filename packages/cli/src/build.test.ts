import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import AdmZip from "adm-zip";
import Database from "better-sqlite3";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PluginRuntime, SqlDatabase } from "@botyard/sdk";
import { createTestContext, textMessage } from "@botyard/sdk/testing";
import { BUNDLED_MAIN, BuildError, buildPlugin } from "./build.js";
import { ManifestError } from "./manifest.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const echoDir = join(root, "plugins/echo");

describe("botyard-cli build", () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), "botyard-cli-"));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  /** A plugin folder with the given files (maubot.yaml as an object). */
  function folder(name: string, files: Record<string, string | object>): string {
    const dir = join(tmp, name);
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), typeof content === "string" ? content : YAML.stringify(content));
    }
    return dir;
  }

  const plainMain = "export default class P { async __botyardStart() {} }\n";

  it("bundles the echo plugin into an importable .mbp", async () => {
    const out = join(tmp, "out");
    mkdirSync(out);
    const result = await buildPlugin(echoDir, { output: out });
    expect(result.path).toBe(join(out, "org.botyard.echo-v0.1.0.mbp"));

    const zip = new AdmZip(result.path);
    const names = zip.getEntries().map((e) => e.entryName).sort();
    expect(names).toEqual(["base-config.yaml", "config-schema.json", "maubot.yaml", BUNDLED_MAIN].sort());
    const manifest = YAML.parse(zip.readAsText("maubot.yaml"));
    expect(manifest).toMatchObject({ id: "org.botyard.echo", version: "0.1.0", main: BUNDLED_MAIN, main_class: "EchoPlugin", database: true, config: true, webapp: true });

    // The bundle stands alone: extracted away from node_modules, it imports and runs.
    const extracted = join(tmp, "extracted");
    zip.extractAllTo(extracted, true);
    const code = zip.readAsText(BUNDLED_MAIN);
    expect(code).not.toMatch(/from\s+["']@botyard\/sdk["']/);
    const mod = (await import(pathToFileURL(join(extracted, BUNDLED_MAIN)).href)) as Record<string, new () => PluginRuntime>;
    const Echo = mod["EchoPlugin"]!;
    const plugin = new Echo();
    for (const m of ["__botyardStart", "__botyardStop", "__botyardEvent", "__botyardWeb", "__botyardConfigUpdate", "__botyardCommands"] as const) {
      expect(typeof plugin[m]).toBe("function");
    }

    const db = new Database(join(tmp, "bundled-echo.db"));
    try {
      const base = YAML.parse(zip.readAsText("base-config.yaml"));
      const test = createTestContext({ config: base, db: db as unknown as SqlDatabase });
      await plugin.__botyardStart(test.ctx);
      await plugin.__botyardEvent(textMessage("!echo from the bundle"));
      expect(test.callsOf("sendText")).toEqual([{ roomId: "!room:test.local", text: "from the bundle", msgtype: "m.notice", mentions: {} }]);
      await plugin.__botyardStop();
    } finally {
      db.close();
    }
  });

  it("writes <id>-v<version>.mbp in the current directory by default and to a file given with -o", async () => {
    const dir = folder("named", { "maubot.yaml": { id: "org.example.named", version: "1.2.3-beta.1", main: "main.js" }, "main.js": plainMain });
    const file = join(tmp, "custom.mbp");
    expect((await buildPlugin(dir, { output: file })).path).toBe(file);
    expect((await buildPlugin(dir, { output: join(tmp, "new-folder") + "/" })).path).toBe(join(tmp, "new-folder", "org.example.named-v1.2.3-beta.1.mbp"));
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      expect((await buildPlugin(dir)).path).toBe(join(tmp, "org.example.named-v1.2.3-beta.1.mbp"));
    } finally {
      process.chdir(cwd);
    }
  });

  it("builds the same bytes from the same sources", async () => {
    const a = await buildPlugin(echoDir, { output: join(tmp, "repro-a.mbp") });
    const b = await buildPlugin(echoDir, { output: join(tmp, "repro-b.mbp") });
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
    // Not the build time: a fixed date unless SOURCE_DATE_EPOCH says otherwise.
    const times = new AdmZip(a.path).getEntries().map((e) => e.header.time.getTime());
    expect(new Set(times)).toEqual(new Set([Date.UTC(2000, 0, 1)]));
  });

  it("packs extra_files and an inline schema", async () => {
    const dir = folder("extras", {
      "maubot.yaml": { id: "org.example.extras", version: "1.0.0", main: "src/main.ts", config: true, config_schema: { type: "object", properties: { n: { type: "integer" } } }, extra_files: ["assets/*.txt", "LICENSE"] },
      "src/main.ts": "const n: number = 1;\nexport default class P { n = n; }\n",
      "base-config.yaml": "n: 3\n",
      "assets/a.txt": "a",
      "assets/b.txt": "b",
      "assets/c.bin": "c",
      LICENSE: "license text",
    });
    const result = await buildPlugin(dir, { output: join(tmp, "extras.mbp") });
    expect(result.entries.sort()).toEqual(["LICENSE", "assets/a.txt", "assets/b.txt", "base-config.yaml", "maubot.yaml", BUNDLED_MAIN].sort());
  });

  it("refuses invalid manifests with the field named", async () => {
    const cases: [string, object, RegExp][] = [
      ["noid", { version: "1.0.0", main: "main.js" }, /id is missing/],
      ["badid", { id: "Org.Example", version: "1.0.0", main: "main.js" }, /id must be a lower-case reverse-DNS name/],
      ["badver", { id: "org.example.v", version: "1.0", main: "main.js" }, /version must be a semantic version/],
      // The host refuses these too (one shared definition, @botyard/sdk/manifest).
      ["vver", { id: "org.example.v", version: "v1.0.0 ", main: "main.js" }, /version must be a semantic version/],
      ["longlist", { id: "org.example.l", version: "1.0.0", main: "main.js", extra_files: Array.from({ length: 1001 }, (_, i) => `f${i}`) }, /extra_files must NOT have more than 1000 items/],
      ["nomain", { id: "org.example.m", version: "1.0.0" }, /main is missing/],
      ["pymain", { id: "org.example.p", version: "1.0.0", main: "plugin.py" }, /main must be the entry file/],
      ["python", { id: "xyz.maubot.echo", version: "1.4.0", modules: ["echo"], main_class: "EchoBot" }, /Python maubot plugin/],
      ["badtype", { id: "org.example.t", version: "1.0.0", main: "main.js", database: "yes" }, /database must be boolean/],
    ];
    for (const [name, manifest, message] of cases) {
      const dir = folder(name, { "maubot.yaml": manifest, "main.js": plainMain });
      const err = await buildPlugin(dir, { output: join(tmp, `${name}.mbp`) }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(ManifestError);
      expect((err as Error).message, name).toMatch(message);
    }
  });

  it("refuses folders whose files do not fit the manifest", async () => {
    const base = { id: "org.example.f", version: "1.0.0", main: "main.js" };
    const cases: [string, Record<string, string | object>, RegExp][] = [
      ["nofile", { "maubot.yaml": { ...base, main: "missing.ts" } }, /main missing.ts does not exist/],
      ["noclass", { "maubot.yaml": { ...base, main_class: "Plugin" }, "main.js": "export class Other {}\n" }, /main_class Plugin is not exported by main.js \(it exports Other\)/],
      ["nodefault", { "maubot.yaml": base, "main.js": "export class Other {}\n" }, /no default export/],
      ["syntax", { "maubot.yaml": base, "main.js": "export default class {\n" }, /bundling main.js failed/],
      ["unresolved", { "maubot.yaml": base, "main.js": 'import x from "not-a-package-anywhere";\nexport default x;\n' }, /Could not resolve "not-a-package-anywhere"/],
      ["nobase", { "maubot.yaml": { ...base, config: true, config_schema: { type: "object" } }, "main.js": plainMain }, /no base-config.yaml/],
      ["badbase", { "maubot.yaml": { ...base, config: true, config_schema: { type: "object", required: ["url"] } }, "main.js": plainMain, "base-config.yaml": "other: 1\n" }, /base-config.yaml does not satisfy config_schema: \(root\) must have required property 'url'/],
      ["badschema", { "maubot.yaml": { ...base, config: true, config_schema: { type: "nonsense" } }, "main.js": plainMain, "base-config.yaml": "{}\n" }, /config_schema is not a valid JSON Schema/],
      ["noschemafile", { "maubot.yaml": { ...base, config: true, config_schema: "schema.json" }, "main.js": plainMain, "base-config.yaml": "{}\n" }, /config_schema file schema.json does not exist/],
      ["escape", { "maubot.yaml": { ...base, extra_files: ["../secret"] }, "main.js": plainMain }, /extra_files: \.\.\/secret must be a path inside the plugin folder/],
      ["nomatch", { "maubot.yaml": { ...base, extra_files: ["docs/*.md"] }, "main.js": plainMain }, /extra_files: docs\/\*\.md matches no file/],
    ];
    for (const [name, files, message] of cases) {
      const dir = folder(name, files);
      const err = await buildPlugin(dir, { output: join(tmp, `${name}.mbp`) }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(BuildError);
      expect((err as Error).message, name).toMatch(message);
    }
    const notPlugin = await buildPlugin(join(tmp, "nothing-here")).catch((e: unknown) => e);
    expect((notPlugin as Error).message).toMatch(/has no maubot.yaml/);
  });

  it("runs as a command: exit 0 and the path on success, exit 1 and the reason on failure", async () => {
    const run = promisify(execFile);
    const bin = join(root, "packages/cli/dist/main.js");
    const ok = await run(process.execPath, [bin, "build", echoDir, "-o", join(tmp, "cmd.mbp")]);
    expect(ok.stdout).toContain(`Built org.botyard.echo v0.1.0 → ${join(tmp, "cmd.mbp")}`);
    const bad = folder("cmd-bad", { "maubot.yaml": { id: "org.example.bad", version: "x", main: "main.js" }, "main.js": plainMain });
    const failed = await run(process.execPath, [bin, "build", bad]).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain("version must be a semantic version");
  });

  it("answers an unknown option with the usage and exit 2, not a stack trace", async () => {
    const run = promisify(execFile);
    const bin = join(root, "packages/cli/dist/main.js");
    const wrong = await run(process.execPath, [bin, "build", echoDir, "--outptu", "x.mbp"]).catch((e: { code: number; stderr: string }) => e);
    expect(wrong).toMatchObject({ code: 2 });
    const stderr = (wrong as { stderr: string }).stderr;
    expect(stderr).toMatch(/^error: Unknown option '--outptu'/);
    expect(stderr).toContain("Usage: botyard-cli <command>");
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
