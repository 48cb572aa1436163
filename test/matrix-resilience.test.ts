// A homeserver that is down at boot, or goes down for 20 s while the bot runs: the client keeps
// retrying, is never disabled, and answers the next command once Synapse is back. Uses a Synapse
// of its own (port 8448 unless BOTYARD_TEST_HS_RESTARTABLE says otherwise), never the shared one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pino from "pino";
import { ClientPool } from "../packages/host/src/matrix/client-pool.js";
import { TestUser, clientRowFor, isReplyTo, registerUser, synapseSh, waitFor, portOf, type TestAccount } from "./support/synapse.js";
import { RecordingSink } from "./support/recording-sink.js";

const HS = (process.env.BOTYARD_TEST_HS_RESTARTABLE ?? "http://127.0.0.1:8448").replace(/\/+$/, "");
const PORT = String(portOf(HS));

function stopSynapse(): void {
  synapseSh(["stop", PORT]);
}
function startSynapse(): void {
  synapseSh(["start", PORT], 240_000);
}

describe("ClientPool when the homeserver goes away", () => {
  let bot: TestAccount;
  let user: TestUser;
  let roomId: string;
  let pool: ClientPool | null = null;

  beforeAll(async () => {
    startSynapse();
    bot = await registerUser("rbot", HS);
    user = await TestUser.create("ruser", HS);
    roomId = await user.createRoom([bot.user_id]);
  }, 300_000);

  afterAll(async () => {
    await pool?.stopAll();
    user?.stop();
    startSynapse(); // leave it running for the next test run
  }, 300_000);

  it("starts a client whose homeserver is down at boot once it comes up, and answers", { timeout: 300_000 }, async () => {
    stopSynapse();
    const sink = new RecordingSink();
    pool = new ClientPool({ logger: pino({ level: "silent" }), sink, maxStartBackoffMs: 4_000 });
    sink.caller = pool;
    await pool.start(clientRowFor(bot, HS));
    const down = pool.status(bot.user_id);
    expect(down.started).toBe(false);
    expect(down.last_error).toMatch(/not reachable/);

    // Still retrying, never disabled, after a while.
    await new Promise((r) => setTimeout(r, 6_000));
    expect(pool.has(bot.user_id)).toBe(true);
    expect(pool.status(bot.user_id).last_error).toMatch(/not reachable/);

    startSynapse();
    expect(await pool.whenReady(bot.user_id, 90_000)).toBe(true);
    expect(pool.status(bot.user_id)).toMatchObject({ started: true, sync_ok: true, last_error: null });
    await user.waitForJoin(roomId, bot.user_id, 60_000); // the pending invite is joined
    const ping = await user.send(roomId, "!ping after boot");
    await user.waitForEvent(isReplyTo(ping), 30_000, "the reply after a late homeserver");
  });

  it("recovers by itself after Synapse is stopped for 20 s, and answers the next command", { timeout: 300_000 }, async () => {
    expect(pool).not.toBeNull();
    const p = pool!;
    stopSynapse();
    await waitFor(() => !p.status(bot.user_id).sync_ok, 90_000, "the sync to notice the outage");
    await new Promise((r) => setTimeout(r, 20_000));
    expect(p.has(bot.user_id)).toBe(true);
    startSynapse();
    await waitFor(() => p.status(bot.user_id).sync_ok, 120_000, "the sync to recover");
    expect(p.status(bot.user_id)).toMatchObject({ started: true, sync_ok: true });
    // The user's own client recovers too; send once it is syncing again.
    const ping = await sendWithRetry(user, roomId, "!ping after outage");
    await user.waitForEvent(isReplyTo(ping), 60_000, "the reply after the outage");
  });
});

/** The user's client may still be reconnecting; retry its send for a bounded time. */
async function sendWithRetry(user: TestUser, roomId: string, text: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await user.send(roomId, text);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
