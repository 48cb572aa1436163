// The hostile-bundle corpus of issue 8: bundles an attacker with an admin token might upload,
// generated here (no zips committed). Two kinds:
//   - refused: the upload must answer the errcode, with nothing stored;
//   - accepted but never run: valid bundles whose top-level code would harm the host if it ran
//     (kill it, copy its secrets out, leave a child behind, eat memory, block it). Each writes a
//     marker into `outside` (a folder outside the daemon's data folder) first, so a marker
//     there proves the code ran.
// The two big zips (200,000 entries; a 40 MB maubot.yaml) use raw-zip.ts: adm-zip takes minutes.
import path from "node:path";
import { makeBundle, makeZip, testManifest, testPluginSource } from "../../packages/host/test-support/plugin-fixtures.js";
import { rawZip } from "./raw-zip.js";

export type HostileExpectation =
  | { refused: "plugin_invalid" | "bundle_too_large"; message: RegExp }
  /** The upload succeeds; the proof that no code ran is the test's (markers, pid, memory, children). */
  | { accepted: true };

export interface HostileCase {
  name: string;
  /** The plugin id the bundle claims (accepted cases are deleted again by it). */
  id: string;
  expect: HostileExpectation;
  bundle: () => Buffer;
}

/** A valid plugin module whose top-level code runs `prelude` (with `imports` above it). */
function pluginWithTopLevel(imports: string, prelude: string): string {
  return `${imports}\n${prelude}\n${testPluginSource()}`;
}

function acceptedCase(name: string, id: string, imports: string, prelude: string): HostileCase {
  return {
    name,
    id,
    expect: { accepted: true },
    bundle: () => makeBundle({ manifest: testManifest({ id }), files: { "index.js": pluginWithTopLevel(imports, prelude) } }),
  };
}

/** Built once per process: the big ones take a second or two each. */
function once(build: () => Buffer): () => Buffer {
  let cached: Buffer | null = null;
  return () => (cached ??= build());
}

export function hostileCorpus(outside: string): HostileCase[] {
  const out = (file: string) => JSON.stringify(path.join(outside, file));
  const catastrophicSchema = { type: "object", properties: { name: { type: "string", pattern: "^(a+)+$" } } };
  return [
    acceptedCase("top-level process.kill(process.pid, SIGKILL)", "hostile.sigkill", `import { writeFileSync } from "node:fs";`, `writeFileSync(${out("sigkill-ran")}, "");\nprocess.kill(process.pid, "SIGKILL");`),
    acceptedCase(
      "top-level code copying the config (server secret) and database (access tokens) out of the data folder",
      "hostile.exfiltrate",
      `import { copyFileSync } from "node:fs";`,
      `for (const f of ["config.yaml", "botyard.db"]) { try { copyFileSync(f, ${out("stolen-")} + f); } catch {} }`,
    ),
    acceptedCase(
      "top-level code spawning a detached child",
      "hostile.child",
      `import { spawn } from "node:child_process";`,
      `spawn("sh", ["-c", "echo $$ > " + ${out("child.pid")} + "; sleep 600"], { detached: true, stdio: "ignore" }).unref();`,
    ),
    acceptedCase(
      "top-level code allocating Buffers in a loop (outside any heap limit)",
      "hostile.buffers",
      `import { writeFileSync } from "node:fs";`,
      `writeFileSync(${out("buffers-ran")}, "");\nglobalThis.hoard = [];\nfor (let i = 0; i < 200; i++) globalThis.hoard.push(Buffer.alloc(16 * 1024 * 1024, 1));`,
    ),
    acceptedCase("top-level execSync(\"sleep 40\")", "hostile.sleep", `import { execSync } from "node:child_process";`, `execSync("touch " + ${out("sleep-ran")} + "; sleep 40");`),
    {
      name: "a 40 MB maubot.yaml",
      id: "hostile.bigyaml",
      expect: { refused: "bundle_too_large", message: /maubot\.yaml is \d+ bytes; the limit is 64 KiB/ },
      bundle: once(() => {
        // Valid YAML all the way (one long list of the same mapping); only its size matters.
        const head = "id: hostile.bigyaml\nversion: 1.0.0\nmain: index.js\nfiller:\n";
        const yaml = Buffer.alloc(40_000_000);
        yaml.fill("  - key: value\n", yaml.write(head));
        return rawZip([
          { name: "maubot.yaml", data: yaml, deflate: true },
          { name: "index.js", data: Buffer.from(testPluginSource()), deflate: true },
        ]);
      }),
    },
    {
      name: "200,001 empty entries (ZIP64)",
      id: "hostile.entries",
      expect: { refused: "bundle_too_large", message: /200001 entries; at most 1000/ },
      bundle: once(() => rawZip((function* () {
        for (let i = 0; i < 200_001; i++) yield { name: `e${i}`, data: Buffer.alloc(0) };
      })())),
    },
    {
      name: "a config_schema pattern that backtracks catastrophically on base-config.yaml",
      id: "hostile.regex",
      expect: { refused: "plugin_invalid", message: /took longer than 10 s/ },
      bundle: () =>
        makeBundle({
          manifest: testManifest({ id: "hostile.regex", config: true, config_schema: catastrophicSchema }),
          files: { "base-config.yaml": `name: ${"a".repeat(48)}!\n` },
        }),
    },
    {
      name: "a config_schema with 10,000 properties",
      id: "hostile.props",
      expect: { refused: "plugin_invalid", message: /config_schema is too large to check: it has more than 1000 keys/ },
      bundle: () => {
        // Empty property schemas keep the file (110 KB) under the 256 KiB file cap: the node count refuses it.
        const properties = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`p${i}`, {}]));
        return makeBundle({
          manifest: testManifest({ id: "hostile.props", config: true, config_schema: "schema.json" }),
          files: { "schema.json": JSON.stringify({ type: "object", properties }), "base-config.yaml": "p1: p1\n" },
        });
      },
    },
    {
      name: "a maubot.yaml with a 150,000-item list",
      id: "hostile.list",
      // The file passes 64 KiB long before the list reaches its own cap (1,000 items).
      expect: { refused: "bundle_too_large", message: /maubot\.yaml is \d+ bytes; the limit is 64 KiB/ },
      bundle: () => {
        const items = Array.from({ length: 150_000 }, (_, i) => `  - f${i}`).join("\n");
        return makeBundle({ manifest: `id: hostile.list\nversion: 1.0.0\nmain: index.js\nextra_files:\n${items}\n` });
      },
    },
    {
      name: "an entry that is a file and a folder (a and a/b)",
      id: "hostile.clash",
      expect: { refused: "plugin_invalid", message: /"lib" as a file and as the folder of "lib\/x\.js"/ },
      bundle: () => makeZip({ "maubot.yaml": "id: hostile.clash\nversion: 1.0.0\nmain: index.js\n", "index.js": testPluginSource(), lib: "x", "lib/x.js": "y" }),
    },
    {
      name: 'version "v1.0.0 " (not strict semver)',
      id: "hostile.version",
      expect: { refused: "plugin_invalid", message: /version "v1\.0\.0 " is not a semantic version/ },
      bundle: () => makeBundle({ manifest: testManifest({ id: "hostile.version", version: "v1.0.0 " }) }),
    },
  ];
}
