// Bench: the management API on loopback with autocannon. Prints figures, asserts nothing.
//   node bench/api.mjs            (build first: npm run build, for packages/host/dist and build/plugins)
// Figures: requests/s and latency (p50, p99) of
//   - GET /instances with 100 instances (running, one echo worker), 10 connections, 10 s;
// autocannon runs as a separate process against the API in this one.
//   - POST /plugins/upload?allow_override=true of the echo plugin's .mbp (no instances), 1 connection, 10 s
//     (installs are serialised by the registry, so more connections only queue);
//   - POST /instance/{id}/database/query of a small SELECT, 1 connection, 10 s (one child process each).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";

if (process.argv[2] === "--load") {
  const { default: autocannon } = await import("autocannon");
  const { bodyFile, ...options } = JSON.parse(process.argv[3]);
  const result = await autocannon({ ...options, body: bodyFile ? readFileSync(bodyFile) : undefined });
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

const { root, hostDist, createHost, benchConfig } = await import("./support/host-dist.mjs");
const bundlePath = join(root, "build/plugins/echo-v0.1.0.mbp");
if (!existsSync(bundlePath)) {
  console.error("bench/api.mjs: build first (npm run build)");
  process.exit(1);
}
const { TokenIssuer } = await import(join(hostDist, "api/tokens.js"));
const { createLogging } = await import(join(hostDist, "logging/index.js"));

const dir = await mkdtemp(join(tmpdir(), "botyard-bench-api-"));
const config = benchConfig(dir, { admins: { bench: "" } });
const logging = createLogging(config.logging);
const host = await createHost(config, { logging, api: { port: 0, version: "bench" } });
const { store, api: server } = host;
const base = `http://127.0.0.1:${server.port}/_matrix/maubot/v1`;
const token = new TokenIssuer(config.server.unshared_secret, 3600, () => true).issue("bench");
const auth = { authorization: `Bearer ${token}` };

// autocannon runs in its own process (this script with --load), so the load generator does not
// share the API's event loop; the body goes through a file so binary bundles stay intact.
function run(title, { url, method = "GET", headers = {}, body, connections }) {
  return new Promise((resolveRun, reject) => {
    let bodyFile = null;
    if (body) {
      bodyFile = join(dir, "body.bin");
      writeFileSync(bodyFile, body);
    }
    const spec = JSON.stringify({ url, method, headers, bodyFile, connections, duration: 10 });
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--load", spec], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", () => {
      let result;
      try {
        result = JSON.parse(out);
      } catch {
        return reject(new Error(`autocannon output: ${out.slice(0, 500)}`));
      }
      const ok = result["2xx"];
      console.log(
        `${title}: ${result.requests.average.toFixed(1)} req/s, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
          `${ok} ok of ${result.requests.total} (non-2xx ${result.non2xx}, errors ${result.errors}, timeouts ${result.timeouts}; status codes ${JSON.stringify(Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])))})`,
      );
      resolveRun(result);
    });
  });
}

const bundle = readFileSync(bundlePath);
console.log(`node ${process.version}, bundle ${bundlePath} (${bundle.length} bytes)`);
const first = await fetch(`${base}/plugins/upload`, { method: "POST", headers: auth, body: bundle });
if (first.status !== 201) throw new Error(`first upload: ${first.status} ${await first.text()}`);

await run("POST /plugins/upload?allow_override=true (echo .mbp, 1 connection)", {
  url: `${base}/plugins/upload?allow_override=true`, method: "POST", headers: { ...auth, "content-type": "application/zip" }, body: bundle, connections: 1,
});

store.putClient({
  id: "@bench:localhost", homeserver: "http://127.0.0.1:9", access_token: "x", device_id: "D", enabled: false, next_batch: "", filter_id: "",
  sync: false, autojoin: false, online: false, displayname: "disable", avatar_url: "disable",
});
for (let i = 0; i < 100; i++) {
  const res = await fetch(`${base}/instance/bench${i}`, {
    method: "PUT", headers: auth, body: JSON.stringify({ type: "org.botyard.echo", primary_user: "@bench:localhost" }),
  });
  if (res.status !== 201) throw new Error(`instance ${i}: ${res.status} ${await res.text()}`);
}
const list = await (await fetch(`${base}/instances`, { headers: auth })).json();
const running = list.filter((i) => i.state === "running").length;
console.log(`GET /instances body: ${JSON.stringify(list).length} bytes, ${list.length} instances (${running} running)`);
await run("GET /instances with 100 instances (10 connections)", { url: `${base}/instances`, headers: auth, connections: 10 });
// Each console query runs in a fresh child process (killable at the time limit): this is its cost.
await run("POST /instance/bench0/database/query (SELECT, 1 connection)", {
  url: `${base}/instance/bench0/database/query`, method: "POST", headers: auth, connections: 1,
  body: Buffer.from(JSON.stringify({ query: "SELECT name, value FROM counter" })),
});

await host.close();
logging.close();
await rm(dir, { recursive: true, force: true });
