// The host's data on disk as an operator meets it: private file modes, a damaged host database
// refused before anything starts, and `botyard backup` / `botyard restore` around a running
// daemon. Runs the built command (dist/main.js) as a child process.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { daemonApi, freePort, MAIN_JS, runBotyard, seedBotAccount, startDaemonProcess, writeDaemonConfig, type DaemonProcess } from "../test-support/daemon-process.js";
import { makeBundle, testManifest } from "../test-support/plugin-fixtures.js";
import { HostStore } from "./store/index.js";

let dir: string;
let data: string;
let daemon: DaemonProcess | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-backup-"));
  data = path.join(dir, "data");
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function seedHostDatabase(): void {
  seedBotAccount(path.join(data, "botyard.db"));
}

const api = daemonApi;

/** Starts the daemon with the test plugin uploaded and instance `counter1` running (it has a database). */
async function startWithInstance(port: number): Promise<DaemonProcess> {
  const d = await startDaemonProcess(writeDaemonConfig(dir, port), port);
  expect((await api(d, "POST", "/plugins/upload", makeBundle({ manifest: testManifest() }))).status).toBe(201);
  const created = await api(d, "PUT", "/instance/counter1", { type: "test.plugin", primary_user: "@bot:test" });
  expect(created.json.state).toBe("running");
  return d;
}

/** Every file under `root` with its sha256 (and -wal/-shm files by name). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(root, full)] = entry.isFile() ? createHash("sha256").update(readFileSync(full)).digest("hex") : "dir";
  }
  return out;
}

const mode = (file: string) => statSync(file).mode & 0o777;

function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("exit", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

// Each test starts the built daemon once or twice: seconds each on a loaded machine.
describe("data on disk", { timeout: 180_000 }, () => {
  it("makes data folders 0700 and databases (with -wal/-shm), bundles and backups 0600", async () => {
    seedHostDatabase();
    const port = await freePort();
    daemon = await startWithInstance(port);
    for (const folder of ["", "plugins", "databases", "trash", "plugin-code"]) expect(mode(path.join(data, folder)).toString(8), folder).toBe("700");
    const files = ["botyard.db", "botyard.db-wal", "botyard.db-shm", "databases/counter1.db", "databases/counter1.db-wal"];
    for (const bundle of readdirSync(path.join(data, "plugins"))) files.push(path.join("plugins", bundle));
    for (const file of files) expect(mode(path.join(data, file)).toString(8), file).toBe("600");
    const backup = path.join(dir, "backup");
    expect(runBotyard(["backup", "-c", path.join(dir, "config.yaml"), backup]).status).toBe(0);
    expect(mode(backup).toString(8)).toBe("700");
    for (const file of ["host.db", "databases/counter1.db", "botyard-backup.json"]) expect(mode(path.join(backup, file)).toString(8), file).toBe("600");
  });

  it("tightens a host database an older version made 0644", () => {
    seedHostDatabase();
    const file = path.join(data, "botyard.db");
    chmodSync(file, 0o644);
    HostStore.open(file).close();
    expect(mode(file).toString(8)).toBe("600");
  });

  it("refuses to start on a damaged host database with one line naming it, before listening or writing anything", async () => {
    seedHostDatabase();
    const file = path.join(data, "botyard.db");
    // Page 2 (the first table's root) overwritten: the header still says SQLite.
    const fd = openSync(file, "r+");
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 4096);
    closeSync(fd);
    const port = await freePort();
    const config = writeDaemonConfig(dir, port);
    const before = snapshot(dir);
    const started = spawn(process.execPath, [MAIN_JS, "start", "-c", config], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    started.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    started.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    const listenedMeanwhile: boolean[] = [];
    const exit = new Promise<number | null>((resolve) => started.once("exit", resolve));
    let exited = false;
    void exit.then(() => (exited = true));
    // Polled until the process is gone (bounded by the test's timeout): the port never opens.
    for (let i = 0; i < 400 && !exited; i++) {
      listenedMeanwhile.push(await portAnswers(port));
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await exit).toBe(1);
    expect(listenedMeanwhile.every((l) => !l)).toBe(true);
    expect(stdout).toBe("");
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`the host database ${file} is damaged`);
    expect(lines[0]).toContain("botyard restore");
    expect(lines[0]).not.toMatch(/\bat \S+:\d+/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("backs up while the daemon writes, refuses to restore while it runs, and restores after it stopped", async () => {
    seedHostDatabase();
    const port = await freePort();
    const config = path.join(dir, "config.yaml");
    daemon = await startWithInstance(port);
    const d = daemon;
    // Writes go on while the backup runs: each copy is one consistent moment of its database.
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (let i = 0; writing && i < 500; i++) {
        const res = await api(d, "PUT", `/instance/during${i}`, { type: "test.plugin", primary_user: "@bot:test", enabled: false });
        if (res.status === 201) written++;
      }
    })();
    const backup = path.join(dir, "backup");
    const made = await runAsync(["backup", "-c", config, backup]);
    writing = false;
    await writer;
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toContain("1 instance database");
    expect(written).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(path.join(backup, "botyard-backup.json"), "utf8"));
    expect(Object.keys(manifest.instances)).toEqual(["counter1.db"]);
    const copy = new Database(path.join(backup, "host.db"), { readonly: true });
    expect(copy.pragma("quick_check", { simple: true })).toBe("ok");
    const backedUp = (copy.prepare("SELECT id FROM instance ORDER BY id").pluck().all() as string[]);
    copy.close();
    expect(backedUp).toContain("counter1");
    expect(runBotyard(["backup", "-c", config, backup]).stderr).toContain("is not empty");

    // After the backup: one more instance, and counter1's database changes.
    expect((await api(d, "PUT", "/instance/later", { type: "test.plugin", primary_user: "@bot:test", enabled: false })).status).toBe(201);
    await api(d, "POST", "/instance/counter1/database/query", { query: "UPDATE counter SET n = 99", write: true });

    const whileRunning = runBotyard(["restore", "-c", config, backup]);
    expect(whileRunning.status).toBe(1);
    expect(whileRunning.stderr).toContain(`another botyard (pid ${d.child.pid}) is running on ${data}; stop it first`);
    await d.stop();
    daemon = undefined;

    // A backup whose file changed since is refused, and nothing is touched.
    const tampered = path.join(dir, "tampered");
    mkdirSync(tampered);
    for (const f of ["host.db", "botyard-backup.json"]) writeFileSync(path.join(tampered, f), readFileSync(path.join(backup, f)));
    mkdirSync(path.join(tampered, "databases"));
    writeFileSync(path.join(tampered, "databases/counter1.db"), Buffer.concat([readFileSync(path.join(backup, "databases/counter1.db")), Buffer.from("x")]));
    const dataBefore = snapshot(data);
    const refused = runBotyard(["restore", "-c", config, tampered]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("changed since the backup was made");
    expect(snapshot(data)).toEqual(dataBefore);

    const restored = runBotyard(["restore", "-c", config, backup]);
    expect(restored.status, restored.stderr).toBe(0);
    expect(existsSync(path.join(data, "botyard.db-wal"))).toBe(false);
    daemon = await startDaemonProcess(config, port);
    const ids = ((await api(daemon, "GET", "/instances")).json as Array<{ id: string }>).map((i) => i.id);
    expect(ids).toEqual(backedUp);
    expect(ids).not.toContain("later");
    const rows = await api(daemon, "POST", "/instance/counter1/database/query", { query: "SELECT n FROM counter" });
    expect(rows.json.rows).toEqual([[0]]);
  });

  it("backs up the crypto stores with their journals and key, and restores them as they were", async () => {
    seedHostDatabase();
    const config = writeDaemonConfig(dir, await freePort());
    const crypto = path.join(dir, "crypto");
    mkdirSync(crypto);
    const store = path.join(crypto, "%40bot%3Atest.store");
    const other = path.join(crypto, "%40other%3Atest.store");
    writeFileSync(store, "store of @bot");
    writeFileSync(`${store}.log`, "journal of @bot");
    writeFileSync(other, "store of @other");
    writeFileSync(path.join(crypto, "pickle.key"), "key");
    writeFileSync(path.join(crypto, "notes.txt"), "not ours");
    const backup = path.join(dir, "backup");
    const made = runBotyard(["backup", "-c", config, backup]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toContain("and 4 crypto store files");
    const manifest = JSON.parse(readFileSync(path.join(backup, "botyard-backup.json"), "utf8"));
    expect(Object.keys(manifest.crypto).sort()).toEqual(["%40bot%3Atest.store", "%40bot%3Atest.store.log", "%40other%3Atest.store", "pickle.key"]);
    expect(mode(path.join(backup, "crypto/pickle.key"))).toBe(0o600);

    // Later: both stores move on, and @other's now has a journal the backup does not know.
    writeFileSync(store, "newer store of @bot");
    writeFileSync(`${store}.log`, "newer journal");
    writeFileSync(other, "newer store of @other");
    writeFileSync(`${other}.log`, "journal of the newer @other");
    const restored = runBotyard(["restore", "-c", config, backup]);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toContain("and 4 crypto store files");
    expect(readFileSync(store, "utf8")).toBe("store of @bot");
    expect(readFileSync(`${store}.log`, "utf8")).toBe("journal of @bot");
    expect(readFileSync(other, "utf8")).toBe("store of @other");
    expect(existsSync(`${other}.log`)).toBe(false);

    // A changed copy in the backup is refused before anything is replaced.
    writeFileSync(path.join(backup, "crypto/pickle.key"), "other key");
    writeFileSync(store, "current");
    const refused = runBotyard(["restore", "-c", config, backup]);
    expect(refused.stderr).toContain("changed since the backup was made");
    expect(readFileSync(store, "utf8")).toBe("current");
  });
});
