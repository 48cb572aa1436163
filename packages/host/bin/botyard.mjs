#!/usr/bin/env node
// The `botyard` bin. It is committed (dist/ is not) so that `npm ci` on a fresh clone can link
// it: npm skips bins whose file does not exist yet, and dist/ appears only after the build.
import { existsSync } from "node:fs";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("botyard is not compiled yet: run `npm run build` (or `npx tsc -b packages/host`) first.\n");
  process.exit(1);
}
await import(main.href);
