// The API driving a real bot: the echo bundle uploaded, a bot account registered through
// /client/auth, an instance created; a user pings the bot on Synapse, and the API then shows the
// plugin's own data: the database console reads the counter, the web endpoint returns it, and
// the log websocket carries the instance's records.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startApiHarness, type ApiHarness } from "../packages/host/test-support/api-harness.js";
import { HS_URL, TestUser, isReplyTo, randomLocalpart, sharedSecret, waitFor } from "./support/synapse.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const V1 = "/_matrix/maubot/v1";
let h: ApiHarness;
let user: TestUser | undefined;

beforeAll(async () => {
  h = await startApiHarness({ homeservers: { synapse: { url: HS_URL, secret: sharedSecret(), registration_token: null } } });
});
afterAll(async () => {
  user?.stop();
  await h?.close();
});

describe("an echo bot managed through the API on real Synapse", () => {
  it("answers !ping, and the console, web endpoint and log stream show it", async () => {
    const up = await h.request("POST", `${V1}/plugins/upload`, { raw: readFileSync(path.join(repoRoot, "build/plugins/echo-v0.1.0.mbp")) });
    expect(up.status).toBe(201);
    const reg = await h.request("POST", `${V1}/client/auth/synapse/register?update_client=true`, {
      body: { username: randomLocalpart("apiecho"), password: "pw-0123456789" },
    });
    expect(reg.status).toBe(201);
    const botId = reg.json.id as string;
    await waitFor(async () => (await h.request("GET", `${V1}/client/${botId}`)).json.sync_ok === true, 30_000, "the bot to sync");
    const created = await h.request("PUT", `${V1}/instance/echo-api`, { body: { type: "org.botyard.echo", primary_user: botId } });
    expect(created.json.state).toBe("running");

    // Follow the log stream from before the ping.
    const records: Array<Record<string, unknown>> = [];
    const ws = new WebSocket(`${h.base.replace("http", "ws")}${V1}/logs`);
    ws.on("message", (d) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (typeof m.msg === "string") records.push(m);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.send(h.token);

    user = await TestUser.create("apiechouser");
    const room = await user.createRoom([botId], "api echo");
    await user.waitForJoin(room, botId, 30_000);
    const ping = await user.send(room, "!ping");
    await user.waitForEvent((e) => e.sender === botId && isReplyTo(ping)(e), 30_000, "the bot's reply");

    const query = await h.request("POST", `${V1}/instance/echo-api/database/query`, { body: { query: "SELECT value FROM counter WHERE name = 'pings'" } });
    expect(query.json).toMatchObject({ ok: true, rows: [[1]], columns: ["value"] });
    const web = await h.request("GET", "/_matrix/maubot/plugin/echo-api/count", { token: null });
    expect(web.json).toEqual({ pings: 1 });
    // A state change logged now reaches the stream, tagged with the instance.
    expect((await h.request("PUT", `${V1}/instance/echo-api`, { body: { started: false } })).json.state).toBe("stopped");
    await waitFor(() => records.some((r) => r.instance_id === "echo-api" && String(r.msg).includes("stopped")), 10_000, "the instance's record on the log stream");
    ws.close();

    const health = await h.request("GET", `${V1}/health`);
    expect(health.json.instances.stopped).toBe(1);
    expect(health.json.clients).toContainEqual(expect.objectContaining({ id: botId, sync_ok: true }));
    expect((await h.request("DELETE", `${V1}/client/${botId}`)).json.errcode).toBe("client_in_use");
    expect((await h.request("DELETE", `${V1}/instance/echo-api`)).status).toBe(204);
    expect((await h.request("DELETE", `${V1}/client/${botId}`)).status).toBe(204);
  });
});
