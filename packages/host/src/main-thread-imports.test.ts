// What the daemon's main thread loads (issue 18: memory). The bundle reader's libraries (adm-zip,
// es-module-lexer with its WebAssembly memory) are for the check thread only; a started daemon
// must not have them on its main thread. A child process on the compiled dist (`npm test` builds
// first) lists every script V8 parsed, through the inspector.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const daemonJs = fileURLToPath(new URL("../dist/daemon.js", import.meta.url));

/** Starts and stops the daemon on `configPath` in a child; returns the package names and wasm scripts it parsed. */
function loadedByDaemon(configPath: string): { packages: string[]; wasm: number } {
  const script = `
    import { Session } from "node:inspector/promises";
    const session = new Session();
    session.connect();
    const urls = [];
    session.on("Debugger.scriptParsed", (m) => urls.push(m.params.url));
    await session.post("Debugger.enable");
    const { Daemon } = await import(${JSON.stringify(daemonJs)});
    const daemon = new Daemon({ configPath: ${JSON.stringify(configPath)} });
    await daemon.start();
    await daemon.stop();
    const packages = new Set();
    for (const url of urls) {
      const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url);
      if (m) packages.add(m[1]);
    }
    process.stdout.write(JSON.stringify({ packages: [...packages], wasm: urls.filter((u) => u.startsWith("wasm:")).length }));
    process.exit(0);
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: path.dirname(configPath), encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`the child failed (${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { packages: string[]; wasm: number };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-imports-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the daemon's main thread", () => {
  it("does not load the bundle reader's libraries (they run in the check thread)", () => {
    const configPath = path.join(dir, "config.yaml");
    writeFileSync(
      configPath,
      ["database: ./host.db", "server:", "  port: 0", "  unshared_secret: imports-test-secret-0123456789", "admins:", "  root: imports-test-password", "logging:", "  console: off", ""].join("\n"),
    );
    const { packages, wasm } = loadedByDaemon(configPath);
    // The list is real: what the daemon needs is in it.
    expect(packages).toEqual(expect.arrayContaining(["matrix-js-sdk", "better-sqlite3", "koa", "yaml"]));
    expect(packages).not.toContain("adm-zip");
    expect(packages).not.toContain("es-module-lexer");
    expect(wasm).toBe(0);
  }, 90_000);
});
