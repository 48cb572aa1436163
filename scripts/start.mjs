#!/usr/bin/env node
// `npm start`: from a fresh clone to a running daemon on ./data/config.yaml.
//   1. npm ci when node_modules is missing, then the build (TypeScript, then plugin bundles);
//   2. on the first run, ./data/config.yaml from config.example.yaml (generated secret, generated
//      admin password printed once and stored bcrypt-hashed), and the shipped plugin bundles
//      copied into the upload folder;
//   3. botyard start -c ./data/config.yaml, in the foreground, so Ctrl-C stops it.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const configPath = path.join(root, "data", "config.yaml");
const mainJs = path.join(root, "packages", "host", "dist", "main.js");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function say(text) {
  process.stderr.write(`[npm start] ${text}\n`);
}

/** Runs a command in the foreground; returns whether it succeeded, or exits when it must. */
function run(command, args, { required = true } = {}) {
  say(`${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit" });
  if (result.error) throw result.error;
  if (result.status === 0) return true;
  say(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
  if (required) process.exit(result.status || 1);
  return false;
}

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  say(`botyard needs Node.js 22 or newer; this is ${process.version}`);
  process.exit(1);
}

if (!existsSync(path.join(root, "node_modules"))) run(npm, ["ci", "--no-audit", "--no-fund"]);
// `npm run build` is the TypeScript build followed by the plugin bundles. They run as two steps
// here: the daemon cannot start without the first, but one plugin that fails to bundle must not
// keep it (and the plugins that did build) down.
run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-b"]);
if (!run(npm, ["run", "build:plugins"], { required: false })) {
  say("some plugin bundles did not build; starting with the ones that did");
}

if (!existsSync(configPath)) {
  const { createFirstRunConfig, loadConfig } = await import(pathToFileURL(path.join(root, "packages/host/dist/config/index.js")).href);
  const created = await createFirstRunConfig(configPath, { examplePath: path.join(root, "config.example.yaml") });
  const { config } = await loadConfig(configPath);
  const copied = copyShippedBundles(config.plugin_directories.upload);
  const line = "=".repeat(72);
  process.stdout.write(
    `\n${line}\n` +
      `  First run: created ${path.relative(root, created.path)}\n` +
      `  Admin login for the management API (shown only this once):\n\n` +
      `      user:     ${created.adminName}\n` +
      `      password: ${created.adminPassword}\n\n` +
      `  Only its bcrypt hash is stored; set a new one with \`botyard hash-password\`.\n` +
      `  Shipped plugins copied to ${path.relative(root, config.plugin_directories.upload)}: ${copied.join(", ") || "none found"}\n` +
      `${line}\n\n`,
  );
}

/** Copies build/plugins/*.mbp (written by `npm run build:plugins`) into the upload folder. */
function copyShippedBundles(uploadDir) {
  const copied = [];
  mkdirSync(uploadDir, { recursive: true });
  for (const dir of [path.join(root, "build", "plugins"), path.join(root, "dist", "plugins")]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".mbp")).sort()) {
      copyFileSync(path.join(dir, name), path.join(uploadDir, name));
      copied.push(name);
    }
    if (copied.length) break;
  }
  return copied;
}

// The daemon runs as a child with the terminal attached. Ctrl-C reaches it directly (it is in
// the terminal's foreground process group); signals sent to this process alone are passed on.
const child = spawn(process.execPath, [mainJs, "start", "-c", configPath], { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
