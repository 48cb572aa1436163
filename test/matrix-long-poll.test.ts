// The /sync long poll on a real Synapse behind a reverse proxy with a read timeout, as nginx's
// proxy_read_timeout: the daemon asks the wait its config sets (sync.long_poll_seconds); when
// the proxy gives up on it (504) the bot asks again at once for 30 s and keeps to that, warns
// once, and its sync never fails. The proxy here gives up after 33 s: a 30 s wait passes it.
import { readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../packages/host/src/daemon.js";
import { HS_URL, TestUser, clientRowFor, isReplyTo, registerUser, waitFor, type TestAccount } from "./support/synapse.js";
import { addClient, daemonConfigLines, runEchoInstance, startTempDaemon } from "./support/daemon.js";

const PROXY_READ_TIMEOUT_MS = 33_000;

/** A /sync the proxy passed on: the wait it asked, and what the proxy answered. */
interface SeenSync {
  timeout: string | null;
  status: number;
}

/** A reverse proxy to Synapse that answers 504 when Synapse takes longer than its read timeout. */
async function startGateway(seen: SeenSync[]): Promise<http.Server> {
  const upstream = new URL(HS_URL);
  const gateway = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", HS_URL);
    const isSync = url.pathname.endsWith("/sync");
    const forward = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      clearTimeout(readTimeout);
      if (isSync) seen.push({ timeout: url.searchParams.get("timeout"), status: answer.statusCode ?? 0 });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    const readTimeout = setTimeout(() => {
      forward.destroy();
      if (isSync) seen.push({ timeout: url.searchParams.get("timeout"), status: 504 });
      res.writeHead(504, { "Content-Type": "text/html" }).end("<html><body><h1>504 Gateway Time-out</h1></body></html>");
    }, PROXY_READ_TIMEOUT_MS);
    forward.on("error", () => {
      clearTimeout(readTimeout);
      if (!res.headersSent) res.writeHead(502).end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
  return gateway;
}

describe("the /sync long poll behind a proxy with a 33 s read timeout", () => {
  const seen: SeenSync[] = [];
  let gateway: http.Server;
  let dir: string;
  let daemon: Daemon;
  let bot: TestAccount;
  let user: TestUser;
  let roomId: string;

  beforeAll(async () => {
    gateway = await startGateway(seen);
    const viaGateway = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    bot = await registerUser("pollbot");
    user = await TestUser.create("polluser");
    roomId = await user.createRoom([bot.user_id], "poll");
    ({ dir, daemon } = await startTempDaemon(
      "botyard-long-poll-",
      daemonConfigLines({
        database: "./host.db",
        port: 0,
        secret: "long-poll-e2e-secret-0123456789abcdef",
        admins: { root: "long-poll-password" },
        logging: { level: "info", console: "off", file: "./botyard.log" },
        extra: ["sync:", "  long_poll_seconds: 40"],
      }),
    ));
    expect(await addClient(daemon, clientRowFor(bot, viaGateway))).toBe(true);
    await user.waitForJoin(roomId, bot.user_id);
    await runEchoInstance(daemon, "poll-echo", bot.user_id);
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    user?.stop();
    gateway?.closeAllConnections();
    gateway?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("asks the configured 40 s, then 30 s at once after the proxy's 504, warns once and keeps syncing", { timeout: 120_000 }, async () => {
    await waitFor(() => seen.some((s) => s.status === 504), PROXY_READ_TIMEOUT_MS + 30_000, "the proxy to give up on a 40 s wait");
    const cut = seen.findIndex((s) => s.status === 504);
    expect(seen[cut]!.timeout).toBe("40000");
    // The SDK never saw the cut: the account's sync stayed healthy, and it answers at once.
    expect(daemon.clients.status(bot.user_id)).toMatchObject({ sync_ok: true, last_error: null });
    const ping = await user.send(roomId, "!ping");
    const reply = await user.waitForEvent(isReplyTo(ping), 30_000, "the echo plugin's pong");
    expect(reply.sender).toBe(bot.user_id);
    // The wait asked again right after the cut was 30 s (it ended with the !ping), and no 40 s since.
    expect(seen[cut + 1]).toEqual({ timeout: "30000", status: 200 });
    expect(seen.slice(cut + 1).every((s) => s.timeout !== "40000")).toBe(true);

    const log = readFileSync(path.join(dir, "botyard.log"), "utf8");
    expect(log).not.toContain("sync failing");
    const warnings = log
      .split("\n")
      .filter((line) => line.includes("a proxy gave up on a /sync long poll"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ asked_s: 40, status: 504, now_s: 30 });
  });
});
