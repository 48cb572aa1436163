#!/usr/bin/env node
// `npm test`: make sure the test homeserver answers, then run every vitest project (unit + e2e).
// The e2e tests need a real Synapse; ../shared/homeserver/synapse.sh builds and starts one on
// 127.0.0.1:8008 (BOTYARD_TEST_HS overrides the URL when you run your own).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const hs = process.env.BOTYARD_TEST_HS ?? "http://127.0.0.1:8008";
const synapseScript = resolve(root, "../shared/homeserver/synapse.sh");

async function answers(url) {
  try {
    const res = await fetch(`${url}/_matrix/client/versions`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

if (!(await answers(hs))) {
  if (!process.env.BOTYARD_TEST_HS && existsSync(synapseScript)) {
    console.log(`test homeserver not answering at ${hs}: starting it with ${synapseScript}`);
    const r = spawnSync(synapseScript, ["start"], { stdio: "inherit" });
    if (r.status !== 0) process.exit(r.status ?? 1);
  } else {
    console.error(`The e2e tests need a Matrix homeserver at ${hs}. Start one (../shared/homeserver/synapse.sh start) or set BOTYARD_TEST_HS.`);
    process.exit(1);
  }
}

const vitest = resolve(root, "node_modules/vitest/vitest.mjs");
// vitest colours its output even into a pipe or a file (its colour check assumes a terminal),
// which fills CI logs with escape codes: no colour unless stdout is a terminal or asked for.
const env = { ...process.env };
if (!process.stdout.isTTY && env.FORCE_COLOR === undefined) env.NO_COLOR = "1";
const r = spawnSync(process.execPath, [vitest, "run", ...process.argv.slice(2)], { stdio: "inherit", cwd: root, env });
process.exit(r.status ?? 1);
