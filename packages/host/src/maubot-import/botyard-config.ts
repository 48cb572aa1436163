// maubot's settings that carry over into botyard's config.yaml: server address and public URL,
// api_features, homeservers and admins (bcrypt hashes as they are). The file is edited as a YAML
// document, so its comments stay; maubot's own paths (database, plugin folders) never carry
// over, as botyard must not write into maubot's files.
import { existsSync, readFileSync } from "node:fs";
import { isMap, type Document } from "yaml";
import { ConfigFile } from "../config/config-file.js";
import { randomSecret } from "../config/passwords.js";
import { API_FEATURES } from "../config/schema.js";
import type { ReportLine } from "./report.js";

export interface ConfigPlan {
  file: ConfigFile;
  /** Whether the file is there already. */
  existed: boolean;
  /** Whether the text to write differs from the file's. */
  changed: boolean;
  lines: ReportLine[];
}

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => v !== null && typeof v === "object" && !Array.isArray(v);

function setScalar(doc: Document, keys: string[], value: unknown): boolean {
  if (doc.getIn(keys) === value) return false;
  doc.setIn(keys, value);
  return true;
}

/** Adds the entries of maubot's map `section` that botyard's lacks; botyard's own are kept. */
function addEntries(
  doc: Document,
  section: string,
  entries: Mapping,
  lines: ReportLine[],
  convert: (v: unknown) => unknown,
  same: (wanted: unknown, current: unknown) => boolean,
): void {
  if (!isMap(doc.get(section, true))) doc.set(section, doc.createNode({}));
  const existing = ((doc.toJS() as Mapping)[section] ?? {}) as Mapping;
  for (const [name, value] of Object.entries(entries)) {
    const id = `${section}.${name}`;
    const wanted = convert(value);
    if (!Object.hasOwn(existing, name)) {
      doc.setIn([section, name], doc.createNode(wanted));
      lines.push({ kind: "config", id, outcome: "imported", detail: "" });
    } else if (same(wanted, existing[name])) {
      lines.push({ kind: "config", id, outcome: "unchanged", detail: "" });
    } else {
      lines.push({ kind: "config", id, outcome: "skipped", detail: "botyard's config has its own entry of that name; kept botyard's" });
    }
  }
}

export function planBotyardConfig(target: string, maubot: Mapping, examplePath: string): ConfigPlan {
  const existed = existsSync(target);
  const file = existed ? ConfigFile.read(target) : ConfigFile.parse(target, readFileSync(examplePath, "utf8"));
  const before = existed ? file.toString() : "";
  const doc = file.doc;
  const lines: ReportLine[] = [];
  if (!existed) file.set(["server", "unshared_secret"], randomSecret());

  const server = isMapping(maubot.server) ? maubot.server : {};
  let serverChanged = false;
  for (const key of ["hostname", "port", "public_url"] as const) {
    if (server[key] !== undefined && server[key] !== null) serverChanged = setScalar(doc, ["server", key], server[key]) || serverChanged;
  }
  lines.push({ kind: "config", id: "server", outcome: serverChanged ? "imported" : "unchanged", detail: serverChanged ? "hostname, port and public_url as maubot had them" : "" });

  const features = isMapping(maubot.api_features) ? maubot.api_features : {};
  let featuresChanged = false;
  for (const feature of API_FEATURES) {
    if (typeof features[feature] === "boolean") featuresChanged = setScalar(doc, ["api_features", feature], features[feature]) || featuresChanged;
  }
  lines.push({ kind: "config", id: "api_features", outcome: featuresChanged ? "imported" : "unchanged", detail: "" });

  const homeservers = isMapping(maubot.homeservers) ? maubot.homeservers : {};
  addEntries(
    doc,
    "homeservers",
    homeservers,
    lines,
    (v) => {
      const hs = isMapping(v) ? v : {};
      return { url: String(hs.url ?? ""), secret: typeof hs.secret === "string" && hs.secret !== "" ? hs.secret : null, registration_token: null };
    },
    (wanted, current) => isMapping(current) && isMapping(wanted) && current.url === wanted.url,
  );
  const admins = isMapping(maubot.admins) ? maubot.admins : {};
  addEntries(doc, "admins", admins, lines, (v) => (typeof v === "string" ? v : ""), (wanted, current) => wanted === current);

  const text = file.toString();
  return { file, existed, changed: !existed || text !== before, lines };
}
