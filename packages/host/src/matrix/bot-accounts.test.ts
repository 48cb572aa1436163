import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ApiError, HostError } from "../errors.js";
import { HostStore } from "../store/index.js";
import * as accounts from "./accounts.js";
import { BotAccounts } from "./bot-accounts.js";
import { ClientPool } from "./client-pool.js";

let dir: string | undefined;
let store: HostStore | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function service(): BotAccounts {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-accounts-"));
  store = HostStore.open(path.join(dir, "botyard.db"));
  const log = pino({ level: "silent" });
  const homeservers = { open: { url: "http://127.0.0.1:9", secret: null, registration_token: null } };
  return new BotAccounts({ rows: store, clients: new ClientPool({ logger: log, sink: null }), accounts, homeservers, log });
}

async function refusal(work: Promise<unknown> | (() => unknown)): Promise<HostError> {
  try {
    await (typeof work === "function" ? work() : work);
  } catch (err) {
    expect(err).toBeInstanceOf(HostError);
    // A service refusal knows nothing of HTTP: the API maps it, it is not the API's own kind.
    expect(err).not.toBeInstanceOf(ApiError);
    return err as HostError;
  }
  throw new Error("not refused");
}

describe("BotAccounts", () => {
  it("refuses an account without connection details with maubot's errcodes, storing nothing", async () => {
    const s = service();
    expect((await refusal(s.save({ access_token: "x" }, null))).errcode).toBe("bad_client_connection_details");
    expect((await refusal(s.save({ homeserver: "http://127.0.0.1:9" }, null))).errcode).toBe("bad_client_access_token");
    expect(store?.listClients()).toEqual([]);
  });

  it("names the configured homeservers when asked for another, and refuses registration without a secret or token", async () => {
    const s = service();
    const unknown = await refusal(() => s.server("nowhere"));
    expect([unknown.errcode, unknown.message]).toEqual([
      "server_not_found",
      'Registration target server not found: "nowhere" is not a homeserver name of this botyard (the configured ones are "open"). ' +
        "Add it under `homeservers:` in the config (url, and secret or registration_token) and restart botyard.",
    ]);
    expect((await refusal(() => s.server("__proto__"))).errcode).toBe("server_not_found");
    expect(s.server("open").url).toBe("http://127.0.0.1:9");
    expect((await refusal(() => s.registrationServer("open"))).errcode).toBe("registration_secret_not_found");
  });
});
