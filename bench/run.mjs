#!/usr/bin/env node
// `npm run bench`: runs every benchmark in this folder one after another and lets each print its
// figures. Nothing here passes or fails on a number; a bench that crashes is reported.
//   npm run bench                 all of them (matrix-ping needs the test Synapse, see README)
//   npm run bench -- api owncast  only those whose file name contains one of the words
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".mjs") && f !== "run.mjs")
  .filter((f) => only.length === 0 || only.some((w) => f.includes(w)))
  .sort();

const crashed = [];
for (const file of benches) {
  console.log(`\n=== ${file} (load average ${(await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")}) ===`);
  const r = spawnSync(process.execPath, ["--expose-gc", join(here, file)], { stdio: "inherit", cwd: join(here, "..") });
  if (r.status !== 0) crashed.push(`${file} (exit ${r.status ?? r.signal})`);
}
if (crashed.length > 0) {
  console.error(`\nbenches that did not finish: ${crashed.join(", ")}`);
  process.exit(1);
}
