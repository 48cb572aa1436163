import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogging, instanceLogger, clientLogger, LogRing, toLogEntry, type LogEntry, type Logging } from "./index.js";

const SECRET = "Sup3r-Secret-V4lue!";
const TOKEN = "syt_Ym90_ABCDEFghijkl_0123";
const HS_SECRET = 'shared"with\\quotes';

class Collector {
  text = "";
  write(s: string) {
    this.text += s;
  }
}

const opened: Logging[] = [];
let dir: string | undefined;
afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function setup(format: "pretty" | "json", file: string | null = null) {
  const out = new Collector();
  const logging = createLogging({ level: "trace", console: format, file }, { secrets: [SECRET, HS_SECRET], console: out });
  opened.push(logging);
  return { out, logging };
}

/** Logs the secrets every way a careless caller might. */
function logSecretsEverywhere(logging: Logging) {
  const log = instanceLogger(logging.logger, "echo1");
  logging.addSecret(TOKEN);
  log.info({ access_token: TOKEN, password: SECRET }, "login");
  log.info({ request: { headers: { Authorization: `Bearer ${TOKEN}` }, body: { new_password: SECRET } } }, "http");
  log.info(`the token is ${TOKEN} and the secret ${SECRET}`);
  log.info({ url: `https://hs/_matrix/client/v3/sync?access_token=${TOKEN}&since=1` }, "url");
  log.info({ content: JSON.stringify({ password: SECRET, user: "bob" }) }, "json in a string");
  log.info({ hs: { secret: HS_SECRET } }, "quoted secret");
  log.warn(`quoted secret inline ${HS_SECRET}`);

  // Errors: the secret in the message, in own fields, nested, in a cause, and in bindings.
  const err = new Error(`login failed for token ${TOKEN}`) as Error & Record<string, unknown>;
  err.access_token = TOKEN;
  err.data = { errcode: "M_FORBIDDEN", config: { headers: { authorization: `Bearer ${TOKEN}` }, password: SECRET } };
  err.cause = Object.assign(new Error("inner"), { secret: SECRET, token: TOKEN });
  log.error(err);
  log.error({ err }, "request failed");
  log.error({ failure: err }, "nested error");
  log.child({ credentials: { password: SECRET } }).error("child with secret bindings");
  clientLogger(logging.logger, "@bot:hs").fatal({ err: new Error(SECRET) }, "fatal");
}

describe("secrets never reach the log output", () => {
  for (const format of ["json", "pretty"] as const) {
    it(`in ${format} console output, the log file and the ring`, () => {
      dir = mkdtempSync(path.join(tmpdir(), "botyard-log-"));
      const file = path.join(dir, "sub", "botyard.log");
      const { out, logging } = setup(format, file);
      logSecretsEverywhere(logging);
      logging.close();
      const fileText = readFileSync(file, "utf8");
      const ringText = JSON.stringify(logging.ring.history());
      for (const text of [out.text, fileText, ringText]) {
        expect(text).toContain("login failed for token");
        expect(text).toContain("[Redacted]");
        for (const secret of [SECRET, TOKEN, HS_SECRET, JSON.stringify(HS_SECRET).slice(1, -1), "Ym90_ABCDEF"]) {
          expect(text).not.toContain(secret);
        }
      }
      // Every call produced a record.
      expect(logging.ring.history()).toHaveLength(12);
      expect(fileText.trim().split("\n")).toHaveLength(12);
    });
  }

  it("redacts by key even for secrets it was never told about", () => {
    const out = new Collector();
    const logging = createLogging({ level: "info", console: "json", file: null }, { console: out });
    opened.push(logging);
    logging.logger.info({ registration_token: "unknown-token-value", deep: { a: { b: { api_key: "k-12345678" } } } }, "x");
    expect(out.text).not.toContain("unknown-token-value");
    expect(out.text).not.toContain("k-12345678");
    expect(JSON.parse(out.text)).toMatchObject({ registration_token: "[Redacted]", deep: { a: { b: { api_key: "[Redacted]" } } } });
  });
});

describe("log ring", () => {
  it("keeps maubot-like entries with name, level name and instance id", () => {
    const { logging } = setup("json");
    instanceLogger(logging.logger, "echo1").warn({ room: "!r:hs" }, "hello %s", "world");
    logging.logger.error(new Error("top-level"));
    const [a, b] = logging.ring.history() as [LogEntry, LogEntry];
    expect(a).toMatchObject({ levelname: "WARNING", levelno: 30, name: "instance.echo1", instance_id: "echo1", msg: "hello world", room: "!r:hs" });
    expect(new Date(a.time).toISOString()).toBe(a.time);
    expect(Number(b.id)).toBeGreaterThan(Number(a.id));
    expect(b).toMatchObject({ levelname: "ERROR", name: "botyard", msg: "top-level" });
    expect(b.exc_info).toMatch(/^Error: top-level\n\s+at /);
  });

  it("keeps the last 2048 entries and delivers new ones to subscribers until they unsubscribe", () => {
    const ring = new LogRing();
    const seen: string[] = [];
    const unsubscribe = ring.subscribe((e) => seen.push(e.msg));
    for (let i = 0; i < 3000; i++) ring.push(toLogEntry({ level: 30, msg: `m${i}` }));
    expect(ring.history()).toHaveLength(2048);
    expect(ring.history()[0]!.msg).toBe("m952");
    expect(seen).toHaveLength(3000);
    unsubscribe();
    ring.push(toLogEntry({ level: 30, msg: "after" }));
    expect(seen).toHaveLength(3000);
  });

  it("survives a throwing listener and one that logs from inside the callback", () => {
    const { logging } = setup("json");
    const seen: string[] = [];
    logging.ring.subscribe(() => {
      throw new Error("broken socket");
    });
    logging.ring.subscribe((e) => {
      seen.push(e.msg);
      if (e.msg === "first") logging.logger.info("from listener");
    });
    logging.logger.info("first");
    logging.logger.info("second");
    expect(seen).toEqual(["first", "from listener", "second"]);
  });

  it("pretty console prints one line per record with name and level", () => {
    const { out, logging } = setup("pretty");
    logging.logger.child({ name: "loader" }).info({ plugin: "echo" }, "loaded");
    expect(out.text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO +\[loader\] loaded plugin=echo\n$/);
  });

  it("respects the level", () => {
    const out = new Collector();
    const logging = createLogging({ level: "warn", console: "json", file: null }, { console: out });
    opened.push(logging);
    logging.logger.info("hidden");
    logging.logger.warn("shown");
    expect(logging.ring.history().map((e) => e.msg)).toEqual(["shown"]);
  });
});
