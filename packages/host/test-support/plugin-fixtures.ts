// Builds plugin bundles for tests with adm-zip, and a small real ClientCaller that records the
// Matrix calls plugins make. Plugins are plain ESM implementing PluginRuntime, so these tests do
// not depend on the SDK.
import AdmZip from "adm-zip";
import YAML from "yaml";
import type { ClientMethod, ClientParams, ClientResult, MatrixEvent } from "@botyard/sdk";
import type { ClientCaller } from "../src/ports.js";

export interface BundleSpec {
  /** maubot.yaml as an object (dumped to YAML) or raw text. */
  manifest?: Record<string, unknown> | string | null;
  files?: Record<string, string | Buffer>;
}

export function makeZip(files: Record<string, string | Buffer>): Buffer {
  const zip = new AdmZip();
  for (const [name, data] of Object.entries(files)) zip.addFile(name, Buffer.isBuffer(data) ? data : Buffer.from(data));
  return zip.toBuffer();
}

export function makeBundle(spec: BundleSpec = {}): Buffer {
  const files: Record<string, string | Buffer> = { ...(spec.files ?? {}) };
  if (spec.manifest !== null) {
    const manifest = spec.manifest ?? { id: "test.plugin", version: "1.0.0", main: "index.js" };
    files["maubot.yaml"] = typeof manifest === "string" ? manifest : YAML.stringify(manifest);
  }
  if (files["index.js"] === undefined && !Object.keys(files).some((n) => n.endsWith(".js"))) files["index.js"] = testPluginSource();
  return makeZip(files);
}

/** Renames an entry in a built zip by patching its name bytes (same length) in both headers. */
export function patchName(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error("patchName needs names of equal length");
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let at = out.indexOf(needle);
  let count = 0;
  while (at >= 0) {
    Buffer.from(to).copy(out, at);
    count++;
    at = out.indexOf(needle, at + needle.length);
  }
  if (count === 0) throw new Error(`${from} not in zip`);
  return out;
}

/**
 * A plugin that does what its events ask: "count" (db counter, answered with sendText),
 * "echo <x>", "throw" (handler error), "loop" (never returns), "alloc" (grows the heap without
 * bound), "hoard <n>" (keeps n more MiB of Buffers, outside the JS heap), "exit" (ends the
 * worker). Config `fail_start: true` makes start throw; `exit_start: true` ends the worker during
 * start. GET /state answers with what the tests inspect; GET /bytes?mib=<n> answers
 * with n MiB whose byte i is i % 251 (`&as=string`: n MiB of "x" as a string).
 */
export function testPluginSource(options: { marker?: string; className?: string; version?: string } = {}): string {
  const marker = options.marker ?? "A";
  const cls = options.className ?? "TestPlugin";
  const exportLine = options.className ? `export class ${cls}` : `export default class ${cls}`;
  return `
import { threadId } from "node:worker_threads";
const moduleToken = Math.random().toString(36).slice(2);
${exportLine} {
  async __botyardStart(ctx) {
    this.ctx = ctx;
    this.config = ctx.config;
    this.updates = 0;
    if (ctx.config.fail_start) throw new Error("boom in start");
    if (ctx.config.exit_start) process.exit(2);
    if (ctx.db) ctx.db.exec("CREATE TABLE IF NOT EXISTS counter (n INTEGER NOT NULL); INSERT INTO counter SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM counter)");
    ctx.log.info("started", { marker: ${JSON.stringify(marker)} });
  }
  async __botyardStop() {
    if (this.ctx?.config.slow_stop) await new Promise((r) => setTimeout(r, 60_000));
  }
  async __botyardEvent(event) {
    const body = String(event.content.body ?? "");
    const room = event.room_id;
    if (body === "count") {
      this.ctx.db.prepare("UPDATE counter SET n = n + 1").run();
      const { n } = this.ctx.db.prepare("SELECT n FROM counter").get();
      await this.ctx.callClient("sendText", { roomId: room, text: "count " + n });
    } else if (body.startsWith("echo ")) {
      await this.ctx.callClient("sendText", { roomId: room, text: ${JSON.stringify(marker)} + ":" + body.slice(5) });
    } else if (body === "throw") {
      throw new Error("handler boom");
    } else if (body === "task-throw") {
      setTimeout(() => { throw new Error("task boom"); }, 1);
    } else if (body === "log-flood") {
      for (let i = 0; i < 5000; i++) this.ctx.log.info("flood " + i);
      await new Promise((r) => setTimeout(r, 1100));
      this.ctx.log.info("after flood");
    } else if (body === "loop") {
      for (;;) {}
    } else if (body === "alloc") {
      const hoard = [];
      for (;;) hoard.push(new Array(100000).fill({ x: hoard.length }));
    } else if (body.startsWith("hoard ")) {
      this.hoard ??= [];
      // Filled, so the pages are really used; 1 MiB each, kept for good.
      for (let i = 0; i < Number(body.slice(6)); i++) this.hoard.push(Buffer.alloc(1024 * 1024, 7));
    } else if (body === "exit") {
      process.exit(3);
    }
  }
  async __botyardWeb(req) {
    if (req.path === "/slow") return new Promise(() => {});
    if (req.path === "/bytes") {
      const query = new URLSearchParams(req.query);
      const size = Number(query.get("mib")) * 1024 * 1024;
      if (query.get("as") === "string") return { status: 200, headers: { "content-type": "text/plain" }, body: "x".repeat(size) };
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i++) bytes[i] = i % 251;
      return { status: 200, headers: { "content-type": "application/octet-stream" }, body: bytes };
    }
    const count = this.ctx.db ? this.ctx.db.prepare("SELECT n FROM counter").get().n : null;
    return { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({
      instanceId: this.ctx.instanceId, userId: this.ctx.userId, config: this.ctx.config, updates: this.updates,
      count, moduleToken, threadId, marker: ${JSON.stringify(marker)}, webappUrl: this.ctx.webappUrl,
    }) };
  }
  async __botyardConfigUpdate(config) { this.updates++; this.config = config; }
  __botyardCommands() { return [{ name: "count", aliases: [], usage: "!count", help: "counts" }]; }
}
`;
}

export function testManifest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: "test.plugin", version: "1.0.0", main: "index.js", database: true, ...overrides };
}

export function messageEvent(body: string, n = 0): MatrixEvent {
  return {
    event_id: `$ev${n}-${Math.random().toString(36).slice(2)}`,
    room_id: "!room:test",
    sender: "@user:test",
    type: "m.room.message",
    origin_server_ts: Date.now(),
    content: { msgtype: "m.text", body },
  };
}

export interface RecordedCall {
  clientId: string;
  method: ClientMethod;
  params: unknown;
}

/** A ClientCaller that records every call and answers like a homeserver would for sends. */
export class RecordingClientCaller implements ClientCaller {
  readonly calls: RecordedCall[] = [];
  private waiters: Array<() => void> = [];
  private n = 0;

  async call<M extends ClientMethod>(clientId: string, method: M, params: ClientParams<M>): Promise<ClientResult<M>> {
    this.calls.push({ clientId, method, params });
    for (const wake of this.waiters.splice(0)) wake();
    return { eventId: `$sent${++this.n}` } as ClientResult<M>;
  }

  texts(clientId?: string): string[] {
    return this.calls
      .filter((c) => c.method === "sendText" && (clientId === undefined || c.clientId === clientId))
      .map((c) => (c.params as { text: string }).text);
  }

  /** Resolves when `predicate` holds, rejects after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a Matrix call");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
