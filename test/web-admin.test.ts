// The web admin page in Debian's chromium against a real daemon and the real test Synapse, at
// 1280x800 and 390x844: log in; upload the Owncast Sentry bundle (and see a broken one refused,
// and a second upload ask before replacing); register a bot account on Synapse through the page;
// create an Owncast Sentry instance, see an invalid setting refused inline with nothing saved,
// save a valid one; see it running, its log and its database; stop and delete it and the
// account; an expired token returns to the login page. axe-core checks every page, and every
// page is saved as a screenshot under test-output/web-admin/.
import { rmSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../packages/host/src/daemon.js";
import type { InstanceJson } from "../packages/host/src/api/types.js";
import { freePort, pluginBundle, startTempDaemon, daemonConfigLines } from "./support/daemon.js";
import { HS_URL, randomLocalpart, sharedSecret } from "./support/synapse.js";
import { cspViolations, launchChromium, screenshot, seriousViolations, watchCspViolations } from "./web-admin/browser.js";

const PASSWORD = "web-admin-e2e-password";
const PLUGIN = "org.botyard.owncastsentry";
/** A 1x1 PNG for the avatar upload. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
const SIZES = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

let dir: string;
let daemon: Daemon;
let browser: Browser;
let base: string;
let adminToken: string;
const bundle = pluginBundle("owncast-sentry");

async function apiGet<T>(path: string): Promise<T> {
  const res = await fetch(`${base}v1${path}`, { headers: { Authorization: `Bearer ${adminToken}` } });
  return (await res.json()) as T;
}

beforeAll(async () => {
  const port = await freePort();
  ({ dir, daemon } = await startTempDaemon(
    "botyard-web-admin-",
    daemonConfigLines({
      database: "./host.db",
      port,
      secret: "web-admin-e2e-secret-0123456789abcdef",
      admins: { root: PASSWORD },
      homeservers: { test: { url: HS_URL, secret: sharedSecret() } },
      logging: { level: "info", console: "off" },
    }),
  ));
  base = `http://127.0.0.1:${port}/_matrix/maubot/`;
  const login = await fetch(`${base}v1/auth/login`, { method: "POST", body: JSON.stringify({ username: "root", password: PASSWORD }) });
  adminToken = ((await login.json()) as { token: string }).token;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the web admin page is served by the host", () => {
  it("serves index.html for client-side routes, assets with their type and a long cache, and leaves the API alone", async () => {
    const page = await fetch(`${base}instances/some-id`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('<base href="/_matrix/maubot/" />');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(base + script);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await fetch(`${base}assets/missing-abc.js`)).status).toBe(404);
    expect(await (await fetch(`${base}paths.json`)).json()).toEqual({ api_path: "/_matrix/maubot/v1" });
    const api = await fetch(`${base}v1/plugins`);
    expect(api.status).toBe(401);
    expect(((await api.json()) as { errcode: string }).errcode).toBe("auth_token_missing");
    const plugin = await fetch(`${base}plugin/nope/x`);
    expect(((await plugin.json()) as { errcode: string }).errcode).toBe("instance_not_found");
  });
});

for (const size of SIZES) {
  describe(`at ${size.width}x${size.height} (${size.name})`, () => {
    let page: Page;
    const botName = randomLocalpart(`webadmin${size.name}`);
    const instanceId = `sentry-${size.name}`;
    const shot = (name: string) => screenshot(page, `${size.name}-${name}`);
    // Every page checked: no serious or critical axe finding, nothing the page's CSP refused, and
    // nothing wider than the window.
    const noSeriousViolations = async () => {
      expect(await seriousViolations(page)).toEqual([]);
      expect(await cspViolations(page)).toEqual([]);
      expect(await page.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(size.width);
    };
    const nav = (label: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true }).click();

    beforeAll(async () => {
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height } });
      page = await context.newPage();
      await watchCspViolations(page);
      page.on("dialog", (dialog) => void dialog.accept());
    });

    afterAll(async () => {
      await page?.context().close();
    });

    it("logs in, and the dashboard shows the version and uptime", async () => {
      await page.goto(base);
      await page.getByRole("heading", { name: "botyard" }).waitFor();
      await noSeriousViolations();
      await shot("login");
      await page.getByLabel("Password").fill("wrong password");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByText("Invalid username or password").waitFor();
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByRole("heading", { name: "Dashboard" }).waitFor();
      await page.getByText(/^botyard \d+\.\d+\.\d+, up /).waitFor();
      await page.getByText("No errors in the recent log.").or(page.getByRole("heading", { name: "Latest errors" })).first().waitFor();
      await noSeriousViolations();
      await shot("dashboard");
    });

    it("refuses a broken bundle with the API's words, then uploads Owncast Sentry", async () => {
      await nav("Plugins");
      await page.getByRole("heading", { name: "Upload a plugin" }).waitFor();
      const broken = Buffer.from("this is not a zip file");
      const refusal = await fetch(`${base}v1/plugins/upload`, { method: "POST", headers: { Authorization: `Bearer ${adminToken}` }, body: broken });
      const expected = ((await refusal.json()) as { error: string }).error;
      await page.getByLabel("Choose a file…").setInputFiles({ name: "broken.mbp", mimeType: "application/zip", buffer: broken });
      await page.getByRole("alert").filter({ hasText: expected }).waitFor();
      await shot("plugins-refused");

      await page.getByLabel("Choose a file…").setInputFiles({ name: "owncast-sentry.mbp", mimeType: "application/zip", buffer: bundle });
      if (size.name === "phone") {
        // Loaded by the desktop run: the page asks first and names what restarts.
        await page.getByText(`Replace ${PLUGIN}`).waitFor();
        await shot("plugins-replace");
        await page.getByRole("button", { name: "Replace" }).click();
      }
      await page.getByText(new RegExp(`^Loaded ${PLUGIN.replaceAll(".", "\\.")} `)).waitFor();
      await page.getByRole("heading", { name: new RegExp(`^${PLUGIN.replaceAll(".", "\\.")}`) }).waitFor();
      await noSeriousViolations();
      await shot("plugins");
    });

    it("registers a bot account on Synapse through the page", async () => {
      await nav("Bot accounts");
      await page.getByRole("heading", { name: "Register or log in on a homeserver" }).waitFor();
      await page.getByLabel("User name").fill(botName);
      await page.getByLabel("Password", { exact: true }).fill(`pw-${botName}`);
      await page.getByRole("button", { name: "Register" }).click();
      const userId = `@${botName}:`;
      await page.getByText(new RegExp(`^Registered ${userId}`)).waitFor({ timeout: 30_000 });
      const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: new RegExp(`^${userId}`) }) });
      await card.getByText("connected", { exact: true }).waitFor({ timeout: 30_000 });
      // Encryption is on by default: the card names the device and its verification state.
      await card.getByText(/^Device \S+ · encryption on, not verified$/).waitFor();
      await card.getByLabel("Display name").fill(`Sentry ${size.name}`);
      await card.getByRole("button", { name: "Set name" }).click();
      await card.getByText("Saved.").waitFor();
      await card.getByLabel("Avatar picture").setInputFiles({ name: "avatar.png", mimeType: "image/png", buffer: PNG });
      await card.getByText("Avatar set.").waitFor({ timeout: 30_000 });
      const saved = (await apiGet<{ id: string; displayname: string; avatar_url: string }[]>("/clients")).find((c) => c.id.startsWith(userId));
      expect(saved?.displayname).toBe(`Sentry ${size.name}`);
      expect(saved?.avatar_url).toMatch(/^mxc:\/\//);
      await noSeriousViolations();
      await shot("bot-accounts");
    });

    it("creates an instance, refuses an invalid setting inline without saving, saves a valid one", async () => {
      await nav("Instances");
      await page.getByRole("heading", { name: "New instance" }).waitFor();
      await page.getByLabel("Instance id").fill(instanceId);
      await page.getByLabel("Plugin").selectOption(PLUGIN);
      await page.getByLabel("Bot account").selectOption({ label: (await page.getByLabel("Bot account").locator("option", { hasText: botName }).textContent())!.trim() });
      await noSeriousViolations();
      await shot("instances");
      await page.getByRole("button", { name: "Create and start" }).click();
      await page.getByRole("heading", { name: new RegExp(`^${instanceId}\\s+running`) }).waitFor({ timeout: 30_000 });

      const field = page.getByLabel("Poll interval seconds");
      // The editor opens on the effective config: the base config's default, not an empty box.
      expect(await field.inputValue()).toBe("60");
      await field.fill("0");
      await page.getByText("must be > 0").first().waitFor();
      expect(await field.getAttribute("aria-invalid")).toBe("true");
      await page.getByRole("button", { name: "Save config" }).click();
      await page.getByText(/^Not saved: 1 value is not allowed/).waitFor();
      await noSeriousViolations();
      await shot("instance-invalid");
      const unchanged = await apiGet<InstanceJson>(`/instance/${instanceId}`);
      expect(unchanged.config).toMatch(/^poll_interval_seconds: 60$/m);

      await field.fill("30");
      expect(await page.getByText("must be > 0").count()).toBe(0);
      await page.getByRole("button", { name: "Save config" }).click();
      await page.getByText(/^Saved/).waitFor({ timeout: 30_000 });
      const saved = await apiGet<InstanceJson>(`/instance/${instanceId}`);
      expect(saved.config).toMatch(/^poll_interval_seconds: 30$/m);
      await page.getByRole("heading", { name: new RegExp(`^${instanceId}\\s+running`) }).waitFor({ timeout: 30_000 });
      await shot("instance-config");

      await page.getByRole("tab", { name: "YAML" }).click();
      await page.locator(".cm-editor").getByText("poll_interval_seconds: 30").waitFor();
      await noSeriousViolations();
      await shot("instance-yaml");
    });

    it("shows the instance's log and runs a database query", async () => {
      await page.getByRole("tab", { name: "Log" }).click();
      await page.getByText(/^Stream live/).waitFor();
      await page.getByRole("list", { name: "Log records" }).getByRole("listitem").first().waitFor();
      await noSeriousViolations();
      await shot("instance-log");

      await page.getByRole("tab", { name: "Database" }).click();
      await page.getByRole("heading", { name: "Tables" }).waitFor();
      await page.getByLabel("SQL (read-only)").fill("SELECT name, type FROM sqlite_master ORDER BY name");
      await page.getByRole("button", { name: "Run" }).click();
      const result = page.getByRole("region", { name: "Query result" });
      await result.getByRole("columnheader", { name: "name" }).waitFor();
      expect(await result.getByRole("row").count()).toBeGreaterThan(1);
      await page.getByRole("button", { name: "subscriptions" }).click();
      await page.getByText("First rows of subscriptions.").waitFor();
      await noSeriousViolations();
      await shot("instance-database");
      // Read-only: a write is refused with the API's words.
      await page.getByLabel("SQL (read-only)").fill("DELETE FROM subscriptions");
      await page.getByRole("button", { name: "Run" }).click();
      await page.getByRole("alert").filter({ hasText: /not allowed|read-only|readonly/i }).waitFor();
    });

    it("shows the running instance and the account on the dashboard, then stops and deletes the instance", async () => {
      await nav("Dashboard");
      const instanceLink = page.getByRole("link", { name: instanceId, exact: true });
      await instanceLink.waitFor();
      await page.getByRole("link", { name: new RegExp(`^@${botName}:`) }).waitFor();
      await noSeriousViolations();
      await shot("dashboard-running");
      await instanceLink.click();
      await page.getByRole("button", { name: "Stop" }).click();
      await page.getByRole("heading", { name: new RegExp(`^${instanceId}\\s+stopped`) }).waitFor({ timeout: 30_000 });
      await page.getByRole("button", { name: "Delete instance" }).click();
      await page.getByRole("heading", { name: "All instances" }).waitFor();
      expect((await apiGet<InstanceJson[]>("/instances")).map((i) => i.id)).not.toContain(instanceId);
    });

    it("shows the live log with filters, pause and resume", async () => {
      await nav("Logs");
      await page.getByText(/^Stream live/).waitFor();
      await page.getByLabel("Level").selectOption({ label: "WARNING and above" });
      await page.getByLabel("Text").fill("instance");
      await page.getByRole("button", { name: "Pause" }).click();
      await page.getByText(/paused \(\d+ new records waiting\)/).waitFor();
      await page.getByRole("button", { name: "Resume" }).click();
      await page.getByLabel("Level").selectOption({ label: "INFO and above" });
      await page.getByLabel("Text").fill("");
      await page.getByRole("list", { name: "Log records" }).getByRole("listitem").first().waitFor();
      await noSeriousViolations();
      await shot("logs");
    });

    it("deletes the bot account", async () => {
      await nav("Bot accounts");
      const userId = `@${botName}:`;
      const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: new RegExp(`^${userId}`) }) });
      await card.getByRole("button", { name: /^Delete bot account/ }).click();
      await card.waitFor({ state: "detached", timeout: 30_000 });
      expect((await apiGet<{ id: string }[]>("/clients")).map((c) => c.id).some((id) => id.startsWith(userId))).toBe(false);
    });

    it("returns to the login page with a message when the token is refused", async () => {
      await page.evaluate(`localStorage.setItem("botyard.token", "expired-or-forged-token")`);
      await page.goto(`${base}plugins`);
      await page.getByText("Your session has expired or the token was refused; log in again.").waitFor();
      await page.getByRole("button", { name: "Log in" }).waitFor();
      await noSeriousViolations();
      await shot("login-expired");
    });
  });
}
