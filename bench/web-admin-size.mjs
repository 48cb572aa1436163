// The web admin page's first load: the JavaScript and CSS index.html pulls in (scripts,
// stylesheets, modulepreloads), gzipped at level 9 as a server would send it, against the
// 100 KB budget; then each chunk loaded on demand. Reads web-admin/dist (npm run build).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

const dist = path.resolve("web-admin/dist");
const html = readFileSync(path.join(dist, "index.html"), "utf8");
const firstLoad = [...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const gz = (file) => gzipSync(readFileSync(path.join(dist, file)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

let total = 0;
for (const file of firstLoad) {
  const size = gz(file);
  total += size;
  console.log(`first load  ${file.padEnd(40)} ${kb(size).padStart(9)} gzipped`);
}
console.log(`first load total (JS + CSS, gzipped): ${kb(total)} of a 100 KB budget`);
for (const name of readdirSync(path.join(dist, "assets")).sort()) {
  const file = `assets/${name}`;
  if (!firstLoad.includes(file) && /\.(js|css)$/.test(name)) console.log(`on demand   ${file.padEnd(40)} ${kb(gz(file)).padStart(9)} gzipped`);
}
