#!/usr/bin/env node
// `npm start`: from a fresh clone to a running daemon on ./data/config.yaml.
//   1. stop at once when Node is too old, or when a botyard already runs on ./data or its port
//      (before the build rewrites the code a running daemon uses);
//   2. npm ci when node_modules is missing, then the build (TypeScript, plugin bundles, web admin page);
//   3. on the first run, ./data/config.yaml from config.example.yaml (generated secret, generated
//      admin password printed once and stored bcrypt-hashed);
//   4. the shipped plugin bundles copied into the upload folder when new or rebuilt
//      (shipped-bundles.ts: never over a bundle the operator uploaded);
//   5. this process becomes `botyard start -c ./data/config.yaml` (execve, same pid), so Ctrl-C
//      and signals reach the daemon directly and nothing waits behind it.
// `npm start -- <args>` builds the TypeScript and runs `botyard <args>` instead (e.g.
// `npm start -- hash-password`), from the folder npm was started in.
import "./check-node.cjs";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const configPath = path.join(root, "data", "config.yaml");
const hostDist = path.join(root, "packages", "host", "dist");
const mainJs = path.join(hostDist, "main.js");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function say(text) {
  process.stderr.write(`[npm start] ${text}\n`);
}

/** Runs a command in the foreground; returns whether it succeeded, or exits when it must. */
function run(command, args, { required = true } = {}) {
  say(`${command === process.execPath ? "node" : command} ${args.map((a) => path.relative(root, a) || a).join(" ")}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.error) throw result.error;
  if (result.status === 0) return true;
  say(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
  if (required) process.exit(result.status || 1);
  return false;
}

const hostModule = (file) => import(pathToFileURL(path.join(hostDist, file)).href);

/** Replaces this process by `botyard <args>`; where Node has no execve (before 22.15), waits for it as a child. */
function becomeBotyard(args) {
  const argv = [process.execPath, mainJs, ...args];
  if (typeof process.execve === "function") process.execve(process.execPath, argv, process.env);
  const child = spawn(argv[0], argv.slice(1), { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/** Stops here, in one line, when a botyard runs on ./data or its port (checked with the last build). */
async function refuseSecondStart() {
  if (!existsSync(configPath) || !existsSync(path.join(hostDist, "startup-guard.js"))) return;
  const { loadConfig, ConfigError } = await hostModule("config/index.js");
  const { assertNothingRunning, StartRefused } = await hostModule("startup-guard.js");
  try {
    const { config } = await loadConfig(configPath, { rewrite: false });
    const { hostname, port } = config.server;
    await assertNothingRunning({ dataDir: path.dirname(config.database), hostname, port, configPath });
  } catch (err) {
    if (err instanceof StartRefused) {
      say(err.message);
      process.exit(1);
    }
    // A config error is the daemon's to report, with the new build.
    if (!(err instanceof ConfigError)) throw err;
  }
}

const passThrough = process.argv.slice(2);
if (passThrough.length === 0) await refuseSecondStart();

if (!existsSync(path.join(root, "node_modules"))) run(npm, ["ci", "--no-audit", "--no-fund"]);
run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-b"]);

if (passThrough.length > 0) {
  // Relative paths in the arguments (`-c my.yaml`) mean the folder npm was started in.
  process.chdir(process.env.INIT_CWD ?? process.cwd());
  becomeBotyard(passThrough);
} else {
  // One plugin that fails to bundle must not keep the daemon (and the plugins that did build) down.
  if (!run(process.execPath, [path.join(root, "scripts", "build-plugins.mjs")], { required: false })) {
    say("some plugin bundles did not build; starting with the ones that did");
  }
  // The daemon and its API work without the page, which then says how to build it.
  if (!run(npm, ["run", "build:web-admin"], { required: false })) {
    say("the web admin page did not build; the API works, the page answers with how to build it");
  }

  // From here on everything made is data (config with the secret, bundles): the user's alone, as
  // the daemon makes its files (folders 0700, files 0600).
  process.umask(0o077);
  const { createFirstRunConfig, loadConfig } = await hostModule("config/index.js");
  const created = existsSync(configPath)
    ? null
    : await createFirstRunConfig(configPath, { examplePath: path.join(root, "config.example.yaml") });
  const { config } = await loadConfig(configPath, { rewrite: false });
  const uploadDir = config.plugin_directories.upload;
  const { syncShippedBundles } = await hostModule("shipped-bundles.js");
  const changes = syncShippedBundles(path.join(root, "build", "plugins"), uploadDir);
  const described = changes.map(
    (c) => `${c.action} ${path.relative(root, path.join(uploadDir, c.file))}${c.replaced ? ` (replacing ${c.replaced})` : ""}`,
  );
  if (created) {
    const line = "=".repeat(72);
    process.stdout.write(
      `\n${line}\n` +
        `  First run: created ${path.relative(root, created.path)}\n` +
        `  Admin login for the management API (shown only this once):\n\n` +
        `      user:     ${created.adminName}\n` +
        `      password: ${created.adminPassword}\n\n` +
        "  Only its bcrypt hash is stored; set a new one with `npx botyard hash-password`.\n" +
        `  Shipped plugins: ${described.join(", ") || "none found"}\n` +
        `${line}\n\n`,
    );
  } else {
    for (const text of described) say(`shipped plugin ${text}`);
  }
  becomeBotyard(["start", "-c", configPath]);
}
