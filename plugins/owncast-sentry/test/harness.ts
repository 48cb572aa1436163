// Drives a real OwncastSentry instance through its PluginRuntime members, on a real SQLite file,
// against the simulated Owncast, with a scripted clock. Matrix calls are recorded by the SDK's
// test context (the plugin's side of the host contract); nothing here fakes plugin logic.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { ClientMethod, ClientParams, ClientResult, MatrixEvent, PowerLevels, SqlDatabase, WebRequest } from "@botyard/sdk";
import { createTestContext, DEFAULT_POWER_LEVELS, textMessage, type TestContext } from "@botyard/sdk/testing";
import { OwncastSentry } from "../src/plugin.js";
import type { Resolver } from "../src/owncast-http.js";
import { OwncastSim } from "../../../test/owncast/sim.js";

export const ROOM = "!room:test.local";
export const ADMIN = "@admin:test.local";
export const T0 = Date.parse("2026-01-01T12:00:00Z");

export const loopbackResolver: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];

export class TestClock {
  constructor(public ms = T0) {}
  now = () => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

class TestSentry extends OwncastSentry {
  constructor(resolver: Resolver, clock: () => number) {
    super();
    this.resolver = resolver;
    this.clock = clock;
  }

  /** Time is scripted: the test runs every cycle itself (the one at start included). */
  override start(): void {
    super.start();
    this.pollTask?.cancel();
  }
}

export interface HarnessOptions {
  config?: Record<string, unknown>;
  powerLevels?: PowerLevels;
  webappUrl?: string | null;
}

/** Test timings: the original's, scaled down (seconds of a scripted clock). */
export function testConfig(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    // Cycles are run by the tests on a scripted clock, one every 6 scripted seconds (this also
    // sets the backoff's scheduling slack, half an interval).
    poll_interval_seconds: 6,
    min_notification_interval_seconds: 120,
    offline_grace_seconds: 42,
    unknown_after_seconds: 96,
    cleanup_warning_after_seconds: 830,
    cleanup_remove_after_seconds: 900,
    backoff: [
      { after_seconds: 0, interval_seconds: 6 },
      { after_seconds: 30, interval_seconds: 12 },
      { after_seconds: 60, interval_seconds: 18 },
      { after_seconds: 90, interval_seconds: 30 },
      { after_seconds: 180, interval_seconds: 90 },
    ],
    http: { scheme: "http", port, allow_private_addresses: true, connect_timeout_seconds: 1, read_timeout_seconds: 0.5, request_deadline_seconds: 2 },
    ...extra,
  };
}

export class Harness {
  readonly clock = new TestClock();
  readonly sim = new OwncastSim({ clock: () => this.clock.ms });
  readonly dir = mkdtempSync(join(tmpdir(), "owncast-sentry-"));
  powerLevels: PowerLevels = { ...structuredClone(DEFAULT_POWER_LEVELS), users: { [ADMIN]: 100 } };
  plugin!: TestSentry;
  test!: TestContext;
  private db!: Database.Database;
  private config: Record<string, unknown> = {};
  private webappUrl: string | null = "https://bot.example/_matrix/maubot/plugin/sentry";

  async start(options: HarnessOptions = {}): Promise<this> {
    if (this.sim.port === 0) await this.sim.start();
    this.config = options.config ?? testConfig(this.sim.port);
    if (options.powerLevels) this.powerLevels = options.powerLevels;
    if (options.webappUrl !== undefined) this.webappUrl = options.webappUrl;
    await this.boot();
    return this;
  }

  /** Matrix calls of instances that were restarted away. */
  private earlierCalls: TestContext["calls"] = [];

  private async boot(): Promise<void> {
    if (this.test) this.earlierCalls.push(...this.test.calls);
    this.db = new Database(join(this.dir, "instance.db"));
    this.db.pragma("journal_mode = WAL");
    this.test = createTestContext({
      config: this.config,
      db: this.db as unknown as SqlDatabase,
      webappUrl: this.webappUrl,
      metrics: true,
      answer: <M extends ClientMethod>(method: M, params: ClientParams<M>) => this.answer(method, params) as ClientResult<M>,
    });
    this.plugin = new TestSentry(loopbackResolver, this.clock.now);
    await this.plugin.__botyardStart(this.test.ctx);
    await this.plugin.settled();
  }

  private counter = 0;
  private answer(method: ClientMethod, _params: unknown): unknown {
    if (method === "getPowerLevels") return structuredClone(this.powerLevels);
    if (method === "uploadMedia") return { contentUri: `mxc://test.local/upload${++this.counter}` };
    return { eventId: `$e${++this.counter}` };
  }

  /** Stops the instance and starts a fresh one on the same database (a daemon restart). */
  async restart(): Promise<void> {
    await this.plugin.__botyardStop();
    this.db.close();
    await this.boot();
  }

  async stop(): Promise<void> {
    await this.plugin.__botyardStop();
    this.db.close();
    await this.sim.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A member's message in the room; resolves when every handler has finished. */
  async say(body: string, sender = ADMIN, roomId = ROOM): Promise<void> {
    const evt: MatrixEvent = textMessage(body, { sender, room_id: roomId });
    await this.plugin.__botyardEvent(evt);
  }

  poll() {
    return this.plugin.pollNow();
  }

  web(req: Partial<WebRequest> & { path: string }) {
    return this.plugin.__botyardWeb({ method: "POST", query: "", headers: {}, body: new Uint8Array(), ...req });
  }

  /** Every m.room.message the bot sent, oldest first. */
  messages(): { roomId: string; content: Record<string, unknown> }[] {
    return [...this.earlierCalls, ...this.test.calls]
      .filter((c) => c.method === "sendEvent")
      .map((c) => c.params as { roomId: string; content: Record<string, unknown> })
      .map((p) => ({ roomId: p.roomId, content: p.content }));
  }

  /** Notices about streams (not replies to commands). */
  notices(roomId = ROOM): Record<string, unknown>[] {
    return this.messages().filter((m) => m.roomId === roomId && !("m.relates_to" in m.content)).map((m) => m.content);
  }

  replies(): string[] {
    return this.messages().filter((m) => "m.relates_to" in m.content).map((m) => String(m.content["body"]));
  }

  lastReply(): string {
    const all = this.replies();
    return all[all.length - 1] ?? "";
  }

  /** Runs raw SQL on the instance database (assertions on stored state). */
  query(sql: string, ...params: unknown[]): unknown[] {
    return this.db.prepare(sql).all(...params);
  }
}
