import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
import { initPlugin } from "./init.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("botyard-cli init", () => {
  let tmp: string;
  beforeAll(() => {
    // Inside the repository (build/ is ignored) so the new plugin resolves @botyard/sdk.
    mkdirSync(join(root, "build"), { recursive: true });
    tmp = mkdtempSync(join(root, "build", "cli-init-"));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("creates a plugin that type-checks, builds and answers its command", async () => {
    const dir = join(tmp, "greeter-bot");
    const result = initPlugin(dir, { config: true, database: true });
    expect(result.files.sort()).toEqual(["base-config.yaml", "config-schema.json", "maubot.yaml", "package.json", "src/index.ts", "tsconfig.json"]);
    expect(YAML.parse(readFileSync(join(dir, "maubot.yaml"), "utf8"))).toMatchObject({
      id: "org.example.greeter-bot",
      version: "0.1.0",
      main: "src/index.ts",
      main_class: "GreeterBotPlugin",
      config: true,
      database: true,
    });

    const tsc = join(root, "node_modules/typescript/bin/tsc");
    await promisify(execFile)(process.execPath, [tsc, "-p", dir]);

    const built = await buildPlugin(dir, { output: join(tmp, "out") + "/" });
    const zip = new AdmZip(built.path);
    const extracted = join(tmp, "extracted");
    zip.extractAllTo(extracted, true);
    const mod = (await import(pathToFileURL(join(extracted, BUNDLED_MAIN)).href)) as Record<string, new () => PluginRuntime>;
    const plugin = new mod["GreeterBotPlugin"]!();
    const db = new Database(join(tmp, "greeter.db"));
    try {
      const test = createTestContext({ config: YAML.parse(zip.readAsText("base-config.yaml")), db: db as unknown as SqlDatabase });
      await plugin.__botyardStart(test.ctx);
      await plugin.__botyardEvent(textMessage("!hello Bob"));
      expect(test.callsOf("sendMarkdown")).toMatchObject([{ markdown: "Hello, Bob!" }]);
      expect(db.prepare("SELECT user_id, times FROM greeted").all()).toEqual([{ user_id: "@alice:test.local", times: 1 }]);
      await plugin.__botyardStop();
    } finally {
      db.close();
    }
  });

  it("creates a minimal plugin without config or database", async () => {
    const dir = join(tmp, "plain");
    initPlugin(dir, { id: "org.acme.plain", className: "Plain", version: "2.0.0" });
    const manifest = YAML.parse(readFileSync(join(dir, "maubot.yaml"), "utf8"));
    expect(manifest).toMatchObject({ id: "org.acme.plain", version: "2.0.0", main_class: "Plain", config: false, database: false });
    const built = await buildPlugin(dir, { output: join(tmp, "plain.mbp") });
    expect(built.entries.sort()).toEqual(["maubot.yaml", BUNDLED_MAIN]);
  });

  it("refuses to overwrite a plugin and refuses bad ids and versions", () => {
    const dir = join(tmp, "taken");
    mkdirSync(dir);
    writeFileSync(join(dir, "maubot.yaml"), "id: x\n");
    expect(() => initPlugin(dir)).toThrow(/already has a maubot.yaml/);
    expect(() => initPlugin(join(tmp, "bad-id"), { id: "Not.Valid" })).toThrow(BuildError);
    expect(() => initPlugin(join(tmp, "bad-version"), { version: "1" })).toThrow(/semantic version/);
  });
});
