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
    await freshUserClient();
    // The pending invite is joined.
    await waitFor(() => user.client.getRoom(roomId)?.getMember(bot.user_id)?.membership === "join", 60_000, "the bot to join");
    await pingUntilAnswered("!ping after boot");
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
    await freshUserClient();
    await pingUntilAnswered("!ping after outage");
  });

  /**
   * Synapse (the Debian sid build used here) can hand out a sync token just after a restart that
   * is ahead of the next event it persists, so a client syncing across the restart may never see
   * that one event (seen here: next_batch s67 while the following join got stream 67; see
   * element-hq/synapse#17386 for this family of bugs). The user's view is therefore rebuilt with
   * a fresh initial sync after each restart, and a command that fell into that gap is sent again
   * (at most 3 times): what is proven is that the bot answers commands after the outage.
   */
  async function freshUserClient(): Promise<void> {
    const account = user.account;
    user.stop();
    user = await TestUser.fromAccount(account, HS);
  }

  async function pingUntilAnswered(text: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const ping = await user.send(roomId, `${text} (${attempt})`);
      try {
        await user.waitForEvent(isReplyTo(ping), 20_000, `the reply to "${text}"`);
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }
});
