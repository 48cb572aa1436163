// The web admin page as the host serves it, and the API fields the page needs (additive).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import YAML from "yaml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeBundle, testManifest } from "../../test-support/plugin-fixtures.js";
import { startApiHarness, type ApiHarness } from "../../test-support/api-harness.js";

const V1 = "/_matrix/maubot/v1";
const UI = "/_matrix/maubot";
let dist: string;
let h: ApiHarness | undefined;

beforeAll(() => {
  dist = mkdtempSync(join(tmpdir(), "botyard-web-admin-dist-"));
  mkdirSync(join(dist, "assets"));
  writeFileSync(join(dist, "index.html"), '<!doctype html><html><head><script type="module" src="./assets/index-abc123.js"></script></head><body></body></html>');
  writeFileSync(join(dist, "assets", "index-abc123.js"), "console.log('page');");
  writeFileSync(join(dist, "assets", "index-def456.css"), "body{}");
  writeFileSync(join(dist, "favicon.svg"), "<svg/>");
  writeFileSync(join(dist, "assets", "big-aaa111.js"), `export const words = ${JSON.stringify("botyard ".repeat(2000))};`);
});
afterAll(() => rmSync(dist, { recursive: true, force: true }));
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("the web admin page at ui_base_path", () => {
  it("answers index.html, with a <base href> for the base and no caching, for the base and any page route", async () => {
    h = await startApiHarness({ webAdminDir: dist });
    for (const path of [`${UI}/`, `${UI}/instances/echo1`, `${UI}/logs`]) {
      const res = await h.request("GET", path, { token: null });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.text).toContain('<head>\n    <base href="/_matrix/maubot/" />');
    }
    const bare = await fetch(`${h.base}${UI}`, { redirect: "manual" });
    expect([bare.status, bare.headers.get("location")]).toEqual([302, `${UI}/`]);
  });

  it("serves files with their content type, hashed assets cached for a year, and a missing asset as 404", async () => {
    h = await startApiHarness({ webAdminDir: dist });
    const js = await h.request("GET", `${UI}/assets/index-abc123.js`, { token: null });
    expect([js.status, js.headers.get("content-type"), js.headers.get("cache-control"), js.text]).toEqual([
      200,
      "text/javascript; charset=utf-8",
      "public, max-age=31536000, immutable",
      "console.log('page');",
    ]);
    const css = await h.request("GET", `${UI}/assets/index-def456.css`, { token: null });
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    const svg = await h.request("GET", `${UI}/favicon.svg`, { token: null });
    expect([svg.headers.get("content-type"), svg.headers.get("cache-control")]).toEqual(["image/svg+xml", "no-cache"]);
    const missing = await h.request("GET", `${UI}/assets/index-old999.js`, { token: null });
    expect([missing.status, missing.json.errcode]).toEqual([404, "resource_not_found"]);
  });

  it("sends text gzipped only to browsers that accept it, and a CSP that allows only the page's own files", async () => {
    h = await startApiHarness({ webAdminDir: dist });
    const raw = (path: string, acceptEncoding: string | null) =>
      new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
        const req = httpRequest(`${h!.base}${path}`, { headers: acceptEncoding ? { "accept-encoding": acceptEncoding } : {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
    const source = `export const words = ${JSON.stringify("botyard ".repeat(2000))};`;
    const zipped = await raw(`${UI}/assets/big-aaa111.js`, "gzip, deflate, br");
    expect([zipped.headers["content-encoding"], zipped.headers.vary]).toEqual(["gzip", "Accept-Encoding"]);
    expect(zipped.body.length).toBeLessThan(source.length / 10);
    expect(gunzipSync(zipped.body).toString()).toBe(source);
    const plain = await raw(`${UI}/assets/big-aaa111.js`, null);
    expect([plain.headers["content-encoding"], plain.body.toString()]).toEqual([undefined, source]);
    // Small files are not worth it.
    const small = await raw(`${UI}/assets/index-abc123.js`, "gzip");
    expect([small.headers["content-encoding"], small.body.toString()]).toEqual([undefined, "console.log('page');"]);

    const page = await raw(`${UI}/instances/x`, "gzip");
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toMatch(/script-src 'self'[^;]*;/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*(unsafe-inline|\*|http)/);
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("leaves paths.json, the API and plugin web apps under the same base alone", async () => {
    h = await startApiHarness({ webAdminDir: dist });
    expect((await h.request("GET", `${UI}/paths.json`, { token: null })).json).toEqual({ api_path: V1 });
    const api = await h.request("GET", `${V1}/plugins`, { token: null });
    expect([api.status, api.json.errcode]).toEqual([401, "auth_token_missing"]);
    expect((await h.request("GET", `${V1}/nothing-here`)).json.errcode).toBe("resource_not_found");
    const plugin = await h.request("GET", `${UI}/plugin/nobody/page`, { token: null });
    expect([plugin.status, plugin.json.errcode]).toEqual([404, "instance_not_found"]);
    const post = await h.request("POST", `${UI}/instances`, { token: null, body: {} });
    expect(post.status).toBe(404);
  });

  it("says how to build the page when it is not built", async () => {
    h = await startApiHarness({ webAdminDir: join(dist, "not-there") });
    const res = await h.request("GET", `${UI}/`, { token: null });
    expect(res.status).toBe(404);
    expect(res.text).toContain("npm run build");
  });
});

describe("API fields the page needs", () => {
  const schema = {
    type: "object",
    additionalProperties: false,
    properties: { greeting: { type: "string" }, poll: { type: "object", properties: { interval: { type: "integer", minimum: 1 } } } },
  };
  const baseConfig = "# Said on !hello\ngreeting: hi\npoll:\n  interval: 60\n";
  const bundle = (version = "1.0.0") =>
    makeBundle({ manifest: testManifest({ version, config: true, config_schema: schema }), files: { "base-config.yaml": baseConfig } });

  it("GET /health with a token carries the version, start time and uptime; without one only the status", async () => {
    h = await startApiHarness();
    const res = await h.request("GET", `${V1}/health`);
    expect(res.json).toMatchObject({ status: "ok", version: "0.1.0-test", uptime_seconds: expect.any(Number) });
    expect(Number.isNaN(Date.parse(res.json.started_at))).toBe(false);
    expect(res.json.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect((await h.request("GET", `${V1}/health`, { token: null })).json).toEqual({ status: "ok" });
  });

  it("a plugin carries its manifest, config schema and base config; plugin_exists names the plugin", async () => {
    h = await startApiHarness();
    await h.request("POST", `${V1}/plugins/upload`, { raw: bundle() });
    const plugin = (await h.request("GET", `${V1}/plugin/test.plugin`)).json;
    expect(plugin.config_schema).toEqual(schema);
    expect(plugin.base_config).toBe(baseConfig);
    expect(plugin.manifest).toMatchObject({ id: "test.plugin", version: "1.0.0", config: true });
    const again = await h.request("POST", `${V1}/plugins/upload`, { raw: bundle("1.1.0") });
    expect(again.json).toMatchObject({ errcode: "plugin_exists", plugin_id: "test.plugin", loaded_version: "1.0.0", version: "1.1.0" });
  });

  it("an instance's config is the effective config (base merged with its values), and saving it back changes nothing", async () => {
    h = await startApiHarness();
    h.addClient("@bot:test");
    await h.request("POST", `${V1}/plugins/upload`, { raw: bundle() });
    const created = await h.request("PUT", `${V1}/instance/one`, { body: { type: "test.plugin", primary_user: "@bot:test", config: "poll:\n  interval: 5\n" } });
    expect(created.status).toBe(201);
    const config: string = created.json.config;
    expect(config).toContain("# Said on !hello");
    expect(YAML.parse(config)).toEqual({ greeting: "hi", poll: { interval: 5 } });
    const listed = (await h.request("GET", `${V1}/instances`)).json.find((i: { id: string }) => i.id === "one");
    expect(listed.config).toBe(config);
    const saved = await h.request("PUT", `${V1}/instance/one`, { body: { config } });
    expect(saved.json.config).toBe(config);
  });
});
