// The web admin page (web-admin/dist) at ui_base_path: its files with their content types,
// hashed assets cached for a year, and index.html for every other path under the base, so the
// page's own routes (/instances/x) load it too. index.html gets a <base href> naming the base,
// which makes its relative asset URLs right on any route. The API and plugin paths, which live
// under the same base, are never answered here. Text files go gzipped to browsers that accept it
// (the page travels through SSH tunnels), and every answer carries a Content-Security-Policy that
// allows only the page's own files: no inline or outside script can run in an admin's session.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { Context, Middleware } from "koa";

const gzipAsync = promisify(gzip);

/**
 * The page's scripts and styles are its own files: no inline script and no other origin can run.
 * 'unsafe-eval' is there for ajv, which compiles a plugin's config schema to a function (the page
 * checks configs as the host does); CodeMirror adds <style> elements at run time, hence
 * 'unsafe-inline' for styles. connect-src 'self' covers the API and the log WebSocket (same origin).
 */
export const WEB_ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Files smaller than this are sent as they are: gzip would not pay for its header. */
const GZIP_MIN_BYTES = 1024;

/** web-admin/dist of this repository, seen from packages/host/dist/api/. */
export const DEFAULT_WEB_ADMIN_DIR = fileURLToPath(new URL("../../../../web-admin/dist/", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

interface WebFile {
  body: Buffer;
  type: string;
  immutable: boolean;
  /** The gzipped body, made at the first request that accepts it (off the event loop). */
  gzipped?: Promise<Buffer>;
}

function isText(type: string): boolean {
  return /^(text\/|application\/json|image\/svg)/.test(type);
}

/** Sets the body, gzipped when the file is text, big enough and the browser accepts gzip. */
async function sendFile(ctx: Context, file: WebFile): Promise<void> {
  ctx.type = file.type;
  if (!isText(file.type) || file.body.length < GZIP_MIN_BYTES) {
    ctx.body = file.body;
    return;
  }
  ctx.vary("Accept-Encoding");
  if (ctx.acceptsEncodings("gzip", "identity") !== "gzip") {
    ctx.body = file.body;
    return;
  }
  file.gzipped ??= gzipAsync(file.body);
  ctx.set("Content-Encoding", "gzip");
  ctx.body = await file.gzipped;
}

/** Every file of the built page by its URL path under the base ("assets/index-abc.js"). */
function readBuiltFiles(dir: string): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  const walk = (sub: string) => {
    for (const name of readdirSync(path.join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      const full = path.join(dir, rel);
      if (statSync(full).isDirectory()) walk(rel);
      else {
        const type = CONTENT_TYPES[path.extname(name).toLowerCase()] ?? "application/octet-stream";
        files.set(rel, { body: readFileSync(full), type, immutable: rel.startsWith("assets/") });
      }
    }
  };
  walk("");
  return files;
}

export interface WebAdminOptions {
  dir: string;
  /** ui_base_path without a trailing slash ("" for "/"). */
  base: string;
  /** Path prefixes (no trailing slash) that belong to others: the API, plugin web apps. */
  reserved: string[];
}

export function webAdminMiddleware(options: WebAdminOptions): Middleware {
  const { base, reserved } = options;
  // Read once, at the first request: the page is a few hundred KB and never changes while running.
  let files: Map<string, WebFile> | null = null;
  let index: WebFile | null = null;
  const load = () => {
    if (files) return;
    files = existsSync(path.join(options.dir, "index.html")) ? readBuiltFiles(options.dir) : new Map();
    const html = files.get("index.html")?.body.toString("utf8");
    index =
      html === undefined
        ? null
        : { body: Buffer.from(html.replace("<head>", `<head>\n    <base href="${base}/" />`)), type: "text/html; charset=utf-8", immutable: false };
  };
  return async (ctx, next) => {
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return next();
    const p = ctx.path;
    if (p !== base && !p.startsWith(`${base}/`)) return next();
    if (reserved.some((prefix) => p === prefix || p.startsWith(`${prefix}/`))) return next();
    if (p === base) {
      ctx.redirect(`${base}/`);
      return;
    }
    load();
    ctx.set("Content-Security-Policy", WEB_ADMIN_CSP);
    ctx.set("X-Content-Type-Options", "nosniff");
    ctx.set("Referrer-Policy", "no-referrer");
    const rel = p.slice(base.length + 1);
    const file = files!.get(rel);
    if (file && rel !== "index.html") {
      ctx.set("Cache-Control", file.immutable ? "public, max-age=31536000, immutable" : "no-cache");
      await sendFile(ctx, file);
      return;
    }
    // A missing hashed asset is a 404, not the page: a stale tab must not parse HTML as script.
    if (rel.startsWith("assets/")) return next();
    if (!index) {
      ctx.status = 404;
      ctx.type = "text/plain; charset=utf-8";
      ctx.body = "The web admin page is not built. Run `npm run build` in the botyard folder, then reload.\n";
      return;
    }
    ctx.set("Cache-Control", "no-cache");
    await sendFile(ctx, index);
  };
}
