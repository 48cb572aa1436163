// kill -9 in the middle of a burst of API writes: every write the API acknowledged is there
// after a restart (the host database commits before it answers; WAL with synchronous=NORMAL
// loses nothing on a process crash). Runs the built command (dist/main.js) as a child process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BOT_ID, daemonApi, freePort, seedBotAccount, startDaemonProcess, writeDaemonConfig, type DaemonProcess } from "../test-support/daemon-process.js";
import { makeBundle, testManifest } from "../test-support/plugin-fixtures.js";

let dir: string | undefined;
let daemon: DaemonProcess | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Acknowledged before the kill: created instances, and the config each acknowledged update set. */
interface Acknowledged {
  created: string[];
  config: Map<string, string>;
}

describe("kill -9 during a burst of writes", { timeout: 180_000 }, () => {
  it("keeps every acknowledged create and update", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "botyard-crash-"));
    seedBotAccount(path.join(dir, "data", "botyard.db"));
    const port = await freePort();
    const config = writeDaemonConfig(dir, port);
    const first = await startDaemonProcess(config, port);
    daemon = first;
    expect((await daemonApi(first, "POST", "/plugins/upload", makeBundle({ manifest: testManifest() }))).status).toBe(201);

    const acked: Acknowledged = { created: [], config: new Map() };
    const killAfter = 60;
    let next = 0;
    let killed = false;
    // Instances created and not yet updated: each is updated once, so its stored config is exact.
    const toUpdate: string[] = [];
    // Eight writers at once, each a create of a new instance or an update of one already acknowledged.
    const writer = async () => {
      while (!killed && next < 400) {
        const n = next++;
        const target = n % 3 === 2 ? toUpdate.shift() : undefined;
        try {
          if (target) {
            const value = `n: ${n}\n`;
            const res = await daemonApi(first, "PUT", `/instance/${target}`, { config: value });
            if (res.status === 200 && !killed) acked.config.set(target, value);
          } else {
            const id = `burst${n}`;
            const res = await daemonApi(first, "PUT", `/instance/${id}`, { type: "test.plugin", primary_user: BOT_ID, enabled: false });
            if (res.status === 201 && !killed) {
              acked.created.push(id);
              toUpdate.push(id);
            }
          }
        } catch {
          // The connection died with the daemon: not acknowledged.
        }
        if (!killed && acked.created.length + acked.config.size >= killAfter) {
          killed = true;
          first.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, writer));
    expect(killed).toBe(true);
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    expect(acked.created.length).toBeGreaterThan(0);
    expect(acked.config.size).toBeGreaterThan(0);

    daemon = await startDaemonProcess(config, port);
    const instances = (await daemonApi(daemon, "GET", "/instances")).json as Array<{ id: string; config: string }>;
    const byId = new Map(instances.map((i) => [i.id, i]));
    for (const id of acked.created) expect(byId.has(id), id).toBe(true);
    for (const [id, value] of acked.config) expect(byId.get(id)?.config, id).toBe(value);
    expect((await fetch(`${daemon.base}/health`)).status).toBe(200);
  });
});
