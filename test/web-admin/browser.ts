// Debian's chromium driven by playwright-core (no browser download), axe-core injected into a
// page, and screenshots under test-output/web-admin/ for a person to look at.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO_ROOT } from "../support/daemon.js";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOT_DIR = path.join(REPO_ROOT, "test-output", "web-admin");

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // Run as page source: the tests are type-checked without the DOM library. Evaluated through the
  // DevTools protocol rather than added as a <script>: the page's CSP refuses inline scripts.
  if (!(await page.evaluate<boolean>("typeof window.axe !== 'undefined'"))) await page.evaluate(axeSource);
  return page.evaluate<AxeViolation[]>(`(async () => {
    const result = await window.axe.run(document);
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
  })()`);
}

/**
 * Collects what the page's Content-Security-Policy refused: the DOM's securitypolicyviolation
 * events (recorded by a script the browser runs before the page's own, outside the CSP) and
 * Chromium's console reports of them. Read it with `cspViolations(page)`.
 */
export async function watchCspViolations(page: Page): Promise<void> {
  await page.addInitScript(`window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));`);
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) consoleReports.set(page, [...(consoleReports.get(page) ?? []), msg.text()]);
  });
}

const consoleReports = new WeakMap<Page, string[]>();

export async function cspViolations(page: Page): Promise<string[]> {
  const inPage = await page.evaluate<string[]>("window.__cspViolations ?? []");
  return [...inPage, ...(consoleReports.get(page) ?? [])];
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
