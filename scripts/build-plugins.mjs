#!/usr/bin/env node
// Builds every plugins/* folder that has a maubot.yaml into build/plugins/<folder>-v<version>.mbp
// with botyard-cli (run by `npm run build` after `tsc -b`, which compiled the CLI and the SDK).

import { chmodSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cliDist = join(root, "packages/cli/dist");
if (!existsSync(join(cliDist, "build.js")) || !existsSync(join(root, "packages/sdk/dist/index.js"))) {
  console.error("build-plugins: packages/cli or packages/sdk is not compiled; run `npx tsc -b` first (npm run build does).");
  process.exit(1);
}
// npm links the CLI's bin before tsc creates it, so the bin may have no exec bit yet.
chmodSync(join(cliDist, "main.js"), 0o755);

const { buildPlugin, readSourceManifest } = await import(join(cliDist, "build.js"));

const pluginsDir = join(root, "plugins");
const outDir = join(root, "build/plugins");
mkdirSync(outDir, { recursive: true });

const only = process.argv.slice(2);
const folders = readdirSync(pluginsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(pluginsDir, d.name, "maubot.yaml")))
  .map((d) => d.name)
  .filter((name) => only.length === 0 || only.includes(name))
  .sort();

let failed = 0;
for (const folder of folders) {
  const dir = join(pluginsDir, folder);
  try {
    const { manifest } = readSourceManifest(dir);
    // Named after the folder (owncast-sentry-v1.2.0.mbp), not the id, so the shipped names stay short.
    const file = `${folder}-v${manifest.version}.mbp`;
    const result = await buildPlugin(dir, { output: join(outDir, file) });
    for (const w of result.warnings) console.warn(`${folder}: warning: ${w}`);
    console.log(`${folder}: ${manifest.id} v${manifest.version} → ${join("build/plugins", file)} (${(result.bytes / 1024).toFixed(1)} KiB)`);
  } catch (err) {
    failed++;
    console.error(`${folder}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
if (folders.length === 0) console.log("build-plugins: no plugin folder with a maubot.yaml");
process.exit(failed > 0 ? 1 : 0);
