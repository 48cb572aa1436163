#!/usr/bin/env node
// `npm run package`: botyard as an installable program, from a built checkout (`npm run build`).
//
//   node scripts/package.mjs [--dir DIR] [--pack DEST]
//
// Writes a self-contained directory (default build/package/botyard) and, with --pack, runs
// `npm pack` on it, giving DEST/botyard-<version>.tgz. Inside: the daemon (packages/host), its
// production dependencies in node_modules, config.example.yaml, the shipped plugin bundles
// (build/plugins/*.mbp), the web admin (web-admin/dist, when it was built) and the systemd units
// (packaging/systemd). The directory keeps the checkout's layout, so the daemon finds the example
// config and the shipped bundles where it finds them in a checkout.
//
// Why a copy with bundleDependencies, not a bundle made by esbuild: the daemon starts worker
// threads, a module probe and the database console's child process from files next to its own,
// loads some libraries lazily with require() (markdown-it, sanitize-html) and needs
// better-sqlite3's native addon; copied as they are, they run exactly as they were tested. The
// @botyard workspaces are not published, so every dependency is bundled: the tarball installs
// offline (`npm install -g ./botyard-<version>.tgz`), and the Nix package (nix/package.nix)
// installs the directory itself. better-sqlite3 ships N-API prebuilds for linux, macOS and
// Windows, so the package does not depend on the Node version or machine it was made on.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: { dir: { type: "string" }, pack: { type: "string" } },
});
const out = path.resolve(values.dir ?? path.join(root, "build", "package", "botyard"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

function fail(message) {
  process.stderr.write(`[package] ${message}\n`);
  process.exit(1);
}

const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));
const rootPkg = readJson(path.join(root, "package.json"));
const hostPkg = readJson(path.join(root, "packages/host/package.json"));

for (const built of ["packages/host/dist/main.js", "packages/sdk/dist/index.js"]) {
  if (!existsSync(path.join(root, built))) fail(`${built} is missing: run \`npm run build\` first`);
}

/** Paths (relative to root) of the host's production dependencies, as npm resolved them. */
function productionDependencies() {
  const r = spawnSync(npm, ["ls", "--omit=dev", "--all", "--parseable", "--workspace=@botyard/host"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) fail(`npm ls failed (is node_modules installed? run \`npm ci\`):\n${r.stderr}`);
  return [...new Set(r.stdout.split("\n").filter(Boolean).map((p) => path.relative(root, p)))]
    .filter((p) => p.startsWith("node_modules" + path.sep))
    .sort();
}

// Only what running needs: no sources, tests or source maps.
const RUNTIME_FILE = (file) => !/\.(test\.(js|d\.ts)|map|tsbuildinfo)$/.test(file);
// better-sqlite3's SQLite sources and build tree (about 10 MB) rebuild the addon; its prebuilds run it.
const NOT_NEEDED = new Set(["node_modules/better-sqlite3/deps", "node_modules/better-sqlite3/src", "node_modules/better-sqlite3/build"]);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const copy = (from, to = from, filter = RUNTIME_FILE) => cpSync(path.join(root, from), path.join(out, to), { recursive: true, filter });

copy("packages/host/bin");
copy("packages/host/dist");
copy("packages/host/package.json");
copy("config.example.yaml");
copy("README.md");
copy("packaging/systemd");
if (existsSync(path.join(root, "build/plugins"))) copy("build/plugins");
// The web admin, built by its own workspace; served by the host when present.
if (existsSync(path.join(root, "web-admin/dist"))) copy("web-admin/dist");

// node_modules: each package without its nested node_modules, which are copied as entries of
// their own when they are production dependencies. Workspace links become real folders.
const bundled = {};
for (const dep of productionDependencies()) {
  const posix = dep.split(path.sep).join("/");
  if (posix === "node_modules/@botyard/host") continue; // it is packages/host
  const source = path.join(root, dep);
  const nestedModules = path.join(source, "node_modules");
  cpSync(source, path.join(out, dep), {
    recursive: true,
    dereference: true,
    filter: (file) => {
      const rel = path.relative(root, file).split(path.sep).join("/");
      if (NOT_NEEDED.has(rel)) return false;
      if (file === nestedModules) return false;
      return posix === "node_modules/@botyard/sdk" ? !rel.includes("/src/") && RUNTIME_FILE(file) : true;
    },
  });
  const top = posix.split("/node_modules/")[0].replace(/^node_modules\//, "");
  if (!posix.includes("/node_modules/", "node_modules/".length)) bundled[top] = readJson(path.join(source, "package.json")).version;
}

const pkg = {
  name: "botyard",
  version: rootPkg.version,
  description: rootPkg.description,
  type: "module",
  license: rootPkg.license,
  engines: rootPkg.engines,
  bin: { botyard: "packages/host/bin/botyard.mjs" },
  dependencies: bundled,
  bundleDependencies: Object.keys(bundled).sort(),
};
writeFileSync(path.join(out, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
process.stderr.write(`[package] wrote ${path.relative(process.cwd(), out) || "."} (${Object.keys(bundled).length} bundled dependencies)\n`);

if (values.pack !== undefined) {
  const dest = path.resolve(values.pack);
  mkdirSync(dest, { recursive: true });
  const r = spawnSync(npm, ["pack", "--pack-destination", dest, "--json"], { cwd: out, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) fail(`npm pack failed:\n${r.stderr}`);
  const [{ filename }] = JSON.parse(r.stdout);
  process.stdout.write(`${path.join(dest, filename)}\n`);
}
