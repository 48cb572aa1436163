import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeBundle, testManifest, testPluginSource } from "../test-support/plugin-fixtures.js";
import { Daemon } from "./daemon.js";
import { HostStore } from "./store/index.js";

let dir: string;
let daemon: Daemon | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-daemon-"));
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(extra = "", serverExtra: string[] = []): string {
  const file = path.join(dir, "config.yaml");
  writeFileSync(
    file,
    [
      "database: ./host.db",
      "server:",
      "  port: 0",
      "  unshared_secret: daemon-test-secret-0123456789",
      ...serverExtra,
      "admins:",
      "  root: plaintext-admin-password",
      "logging:",
      "  level: debug",
      "  console: off",
      extra,
    ].join("\n"),
  );
  return file;
}

describe("Daemon", () => {
  it("starts every service and stops with the databases closed", async () => {
    daemon = new Daemon({ configPath: writeConfig() });
    await daemon.start();
    expect(daemon.store.isOpen).toBe(true);
    expect(daemon.config.database).toBe(path.join(dir, "host.db"));
    expect(daemon.registry.list()).toEqual([]);
    const messages = daemon.logging.ring.history().map((e) => e.msg);
    const port = daemon.api!.port;
    expect(port).toBeGreaterThan(0);
    expect(messages).toContain(`botyard running on http://127.0.0.1:${port}/ (management API: /_matrix/maubot/v1)`);
    const features = await fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1/features`);
    expect(features.status).toBe(200);
    expect(messages).toContain('hashed the plaintext password of admin "root"');
    // The admin's plaintext password is a secret: it never reaches the log.
    expect(JSON.stringify(daemon.logging.ring.history())).not.toContain("plaintext-admin-password");

    const started = Date.now();
    await daemon.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(daemon.store.isOpen).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1/features`)).rejects.toThrow();
    expect(daemon.logging.ring.history().at(-1)?.msg).toBe("botyard stopped");
    await daemon.stop(); // idempotent
  });

  it("names the management API's own path in its start line, which ui_base_path does not move", async () => {
    daemon = new Daemon({ configPath: writeConfig("", ["  ui_base_path: /admin"]) });
    await daemon.start();
    const port = daemon.api!.port;
    expect(daemon.logging.ring.history().map((e) => e.msg)).toContain(`botyard running on http://127.0.0.1:${port}/ (management API: /_matrix/maubot/v1)`);
    expect((await fetch(`http://127.0.0.1:${port}/_matrix/maubot/v1/features`)).status).toBe(200);
  });

  it("scrubs a bot's access token from the logs once it is stored", async () => {
    daemon = new Daemon({ configPath: writeConfig() });
    await daemon.start();
    daemon.store.putClient({
      id: "@bot:127.0.0.1",
      homeserver: "http://127.0.0.1:1",
      access_token: "syt_daemon_test_token_value",
      device_id: "D",
      enabled: false,
      next_batch: "",
      filter_id: "",
      sync: true,
      autojoin: true,
      online: true,
      displayname: "disable",
      avatar_url: "disable",
    });
    daemon.logging.logger.info("token is syt_daemon_test_token_value");
    expect(daemon.logging.ring.history().at(-1)?.msg).toBe("token is [Redacted]");
  });

  it("refuses an invalid config before opening anything", async () => {
    daemon = new Daemon({ configPath: writeConfig("api_features: {login: maybe}") });
    await expect(daemon.start()).rejects.toThrow("config.yaml: api_features.login must be boolean");
    await daemon.stop();
  });
});

describe("Daemon with a running instance", () => {
  it("loads bundles from the load folder, starts enabled instances, and stops within 5 s even when a plugin's stop hangs", async () => {
    const configPath = writeConfig();
    mkdirSync(path.join(dir, "plugins"), { recursive: true });
    writeFileSync(
      path.join(dir, "plugins", "test.plugin-v1.0.0.mbp"),
      makeBundle({ manifest: testManifest(), files: { "index.js": testPluginSource() } }),
    );
    // The host db as an earlier run left it: a (disabled) bot account and two enabled instances,
    // one whose plugin never finishes its stop().
    const seed = HostStore.open(path.join(dir, "host.db"));
    seed.putClient({
      id: "@bot:127.0.0.1",
      homeserver: "http://127.0.0.1:1",
      access_token: "syt_unused",
      device_id: "D",
      enabled: false,
      next_batch: "",
      filter_id: "",
      sync: true,
      autojoin: false,
      online: false,
      displayname: "disable",
      avatar_url: "disable",
    });
    for (const [id, config] of [["fine", ""], ["hangs", "slow_stop: true\n"]] as const) {
      seed.putInstance({
        id,
        type: "test.plugin",
        enabled: true,
        primary_user: "@bot:127.0.0.1",
        config,
        database_engine: "sqlite",
        isolated: false,
        state: "stopped",
        last_error: null,
      });
    }
    seed.close();

    daemon = new Daemon({ configPath });
    await daemon.start();
    expect(daemon.registry.list().map((p) => p.id)).toEqual(["test.plugin"]);
    expect(daemon.supervisor.status("fine")).toEqual({ state: "running", lastError: null });
    expect(daemon.supervisor.status("hangs").state).toBe("running");
    expect(daemon.store.getInstance("fine")?.state).toBe("running");

    const started = Date.now();
    await daemon.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(daemon.store.isOpen).toBe(false);

    // What was stored survives for the next start.
    const after = HostStore.open(path.join(dir, "host.db"));
    try {
      expect(after.listInstances().map((i) => i.id)).toEqual(["fine", "hangs"]);
      expect(after.getInstance("fine")?.state).toBe("stopped");
    } finally {
      after.close();
    }
  });
});
