// The Prometheus endpoint end to end: a daemon with metrics on (real Synapse, the echo plugin and
// a test plugin whose worker can be made to exit), scraped by a real Prometheus (Debian's
// `prometheus` package) started here on 127.0.0.1. promtool accepts the exposition; a query
// returns the running instances; a handler that throws raises the handler-error count; a worker
// that dies raises the restart counter with cause "crash"; an unauthenticated scrape is refused.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../packages/host/src/daemon.js";
import { makeBundle, testManifest } from "../packages/host/test-support/plugin-fixtures.js";
import { HS_URL, TestUser, clientRowFor, isReplyTo, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { REPO_ROOT, addClient, freePort, pluginBundle, startTempDaemon, daemonConfigLines } from "./support/daemon.js";

const SECRET = "metrics-bearer-secret-0123456789";
const API = "/_matrix/maubot/v1";

describe("metrics for Prometheus", () => {
  let dir: string;
  let daemon: Daemon;
  let base: string;
  let bot: TestAccount;
  let user: TestUser;
  let roomId: string;
  let prometheus: ChildProcess | null = null;
  let promUrl = "";
  let promDir = "";

  const scrape = async (token: string | null = SECRET) =>
    fetch(`${base}/metrics`, token === null ? {} : { headers: { Authorization: `Bearer ${token}` } });

  /** One sample's value from the exposition, or null. */
  const sample = async (line: RegExp): Promise<number | null> => {
    const text = await (await scrape()).text();
    const found = text.split("\n").find((l) => line.test(l));
    return found === undefined ? null : Number(found.slice(found.lastIndexOf(" ") + 1));
  };

  /** A PromQL query's first value; null when there is none yet, or Prometheus is still starting. */
  const query = async (promql: string): Promise<number | null> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`).catch(() => null);
    if (res === null || !res.ok) return null;
    const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
    const first = body.data?.result?.[0];
    return first ? Number(first.value[1]) : null;
  };

  beforeAll(async () => {
    bot = await registerUser("metricsbot");
    user = await TestUser.create("metricsfan");
    roomId = await user.createRoom([bot.user_id], "metrics");
    const port = await freePort();
    ({ dir, daemon } = await startTempDaemon(
      "botyard-metrics-",
      daemonConfigLines({
        database: "./host.db",
        port,
        secret: "metrics-e2e-secret-0123456789abcdef",
        admins: { root: "metrics-e2e-password" },
        logging: { console: "off" },
        extra: ["metrics:", "  enabled: true", `  secret: ${SECRET}`],
      }),
    ));
    base = `http://127.0.0.1:${port}`;
    expect(await addClient(daemon, clientRowFor(bot, HS_URL))).toBe(true);
    await user.waitForJoin(roomId, bot.user_id);
    await daemon.registry.install(pluginBundle("echo"), { allowOverride: true });
    await daemon.registry.install(makeBundle({ manifest: testManifest({ id: "test.crasher" }) }), { allowOverride: true });
    const row = { enabled: true, primary_user: bot.user_id, config: "", database_engine: "sqlite" as const, isolated: false, state: "stopped" as const, last_error: null };
    await daemon.supervisor.create({ ...row, id: "echo1", type: "org.botyard.echo" });
    await daemon.supervisor.create({ ...row, id: "crash1", type: "test.crasher" });
    await waitFor(() => daemon.supervisor.status("echo1").state === "running" && daemon.supervisor.status("crash1").state === "running", 30_000, "both instances to run");

    // A real Prometheus scraping the endpoint every 2 s with the bearer secret.
    promDir = mkdtempSync(path.join(tmpdir(), "botyard-prometheus-"));
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      path.join(promDir, "prometheus.yml"),
      [
        "global: {scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 2s}",
        "scrape_configs:",
        "  - job_name: botyard",
        "    metrics_path: /metrics",
        `    authorization: {type: Bearer, credentials: ${SECRET}}`,
        `    static_configs: [{targets: ["127.0.0.1:${port}"]}]`,
        "",
      ].join("\n"),
    );
    prometheus = spawn(
      "prometheus",
      [`--config.file=${path.join(promDir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(promDir, "data")}`, `--web.listen-address=127.0.0.1:${promPort}`],
      { stdio: "ignore" },
    );
    await waitFor(async () => (await query("up{job=\"botyard\"}")) === 1, 60_000, "Prometheus to scrape botyard");
  }, 180_000);

  afterAll(async () => {
    prometheus?.kill("SIGTERM");
    await daemon?.stop();
    user?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (promDir) rmSync(promDir, { recursive: true, force: true });
  });

  it("refuses a scrape without the bearer secret or an admin token, and serves one with either", async () => {
    const none = await scrape(null);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ errcode: "auth_token_missing" });
    expect((await scrape("wrong-secret")).status).toBe(401);
    expect((await scrape()).status).toBe(200);
    const login = await fetch(`${base}${API}/auth/login`, { method: "POST", body: JSON.stringify({ username: "root", password: "metrics-e2e-password" }) });
    const { token } = (await login.json()) as { token: string };
    const withToken = await scrape(token);
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("passes promtool's check and names host, bot account, API and instance series", async () => {
    const text = await (await scrape()).text();
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(check.stderr + check.stdout).toBe("");
    expect(check.status).toBe(0);
    for (const name of [
      "botyard_process_cpu_seconds_total",
      "botyard_process_resident_memory_bytes",
      "botyard_nodejs_eventloop_lag_seconds",
      "botyard_process_open_fds",
      "botyard_uptime_seconds",
      `botyard_build_info{version="`,
      `botyard_bot_sync_up{bot="${bot.user_id}"} 1`,
      `botyard_bot_seconds_since_last_sync{bot="${bot.user_id}"}`,
      "botyard_bot_sync_request_duration_seconds_bucket",
      `botyard_instance_state{instance_id="echo1",plugin="org.botyard.echo",state="running"} 1`,
      `botyard_instance_database_bytes{instance_id="echo1"}`,
      `botyard_worker_memory_bytes{worker="plugin:org.botyard.echo",kind="array_buffers"}`,
      `botyard_api_request_duration_seconds_count{method="POST",route="${API}/auth/login",status="200"}`,
    ]) {
      expect(text, name).toContain(name);
    }
    // Bounded labels: no room or sender ids anywhere.
    expect(text).not.toContain(roomId);
    expect(text).not.toContain(user.userId);
  });

  it("answers PromQL queries: running instances, commands, and handler errors that rise when a handler throws", async () => {
    expect(await query('sum(botyard_instance_state{state="running"})')).toBe(2);

    const ping = await user.send(roomId, "!ping");
    await user.waitForEvent(isReplyTo(ping), 30_000, "the pong");
    await waitFor(async () => ((await query('sum(botyard_instance_commands_total{instance_id="echo1",command="ping"})')) ?? 0) >= 1, 30_000, "the ping command in Prometheus");
    expect((await query('sum(botyard_bot_messages_sent_total)')) ?? 0).toBeGreaterThanOrEqual(1);
    expect((await query('sum(botyard_instance_handler_errors_total{instance_id="echo1"})')) ?? 0).toBe(0);

    // Break the instance's database under it: its !ping handler now throws.
    const login = await fetch(`${base}${API}/auth/login`, { method: "POST", body: JSON.stringify({ username: "root", password: "metrics-e2e-password" }) });
    const { token } = (await login.json()) as { token: string };
    const drop = await fetch(`${base}${API}/instance/echo1/database/query`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "DROP TABLE counter", write: true }),
    });
    expect(drop.status).toBe(200);
    await user.send(roomId, "!ping");
    await waitFor(async () => ((await query('sum(botyard_instance_handler_errors_total{instance_id="echo1",kind="command"})')) ?? 0) >= 1, 30_000, "the handler error in Prometheus");
  });

  it("ships a Grafana dashboard whose every query Prometheus accepts, over metrics botyard exports", async () => {
    const dashboard = JSON.parse(readFileSync(path.join(REPO_ROOT, "packaging/grafana/botyard.json"), "utf8")) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const text = await (await scrape()).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    expect(dashboard.panels.length).toBeGreaterThan(10);
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        for (const [name] of expr.matchAll(/botyard_[a-z0-9_]+/g)) {
          expect(exported.has(name.replace(/_(bucket|count|sum)$/, "")) || exported.has(name), `${panel.title}: ${name}`).toBe(true);
        }
        const promql = expr.replaceAll("$__rate_interval", "1m").replaceAll("$job", ".*");
        const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
        expect(res.status, `${panel.title}: ${promql}`).toBe(200);
      }
    }
  });

  it("counts a worker that died as a restart with cause crash", async () => {
    expect(await sample(/^botyard_instance_restarts_total\{instance_id="crash1",cause="crash"\}/)).toBeNull();
    await user.send(roomId, "exit");
    await waitFor(async () => (await sample(/^botyard_instance_restarts_total\{instance_id="crash1",cause="crash"\}/)) === 1, 30_000, "the restart counter");
    await waitFor(async () => (await query('sum(botyard_instance_restarts_total{instance_id="crash1",cause="crash"})')) === 1, 30_000, "the restart in Prometheus");
  });
});
