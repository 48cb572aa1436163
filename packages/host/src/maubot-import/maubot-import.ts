// `botyard import-maubot`: maubot's bot accounts (with their access tokens and devices), its
// instances with their configs and databases, and its homeservers, admins and server settings,
// into botyard. Safe to run twice (what is there already is left alone and reported as such);
// maubot's files are only ever read (from private copies); `dryRun` writes nothing.
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { parseDocument, isMap } from "yaml";
import type { Bundle } from "../bundles/bundle-reader.js";
import { defaultExamplePath } from "../config/first-run.js";
import { shippedPluginsDir } from "../config/service-config.js";
import { validateConfigData } from "../config/validate.js";
import { invalidInstanceId } from "../instances/instance-id.js";
import { InstanceConfigError, resolveInstanceConfig } from "../instances/instance-config.js";
import { InstanceDatabaseFiles } from "../instances/instance-database-files.js";
import { HostStore } from "../store/host-store.js";
import type { ClientRow, InstanceRow } from "../store/types.js";
import { readBundleBounded } from "../workers/bounded-checks.js";
import { planBotyardConfig } from "./botyard-config.js";
import { type MaubotClient, MaubotImportError, type MaubotInstance, type MaubotSource, readMaubotSource } from "./maubot-source.js";
import type { ReportLine } from "./report.js";

export { MaubotImportError } from "./maubot-source.js";

export interface ImportOptions {
  /** maubot's data folder, or its config.yaml. */
  source: string;
  /** botyard's config.yaml (created from the example when missing). */
  configPath: string;
  dryRun?: boolean;
  /** Rewrite an existing botyard config.yaml whose settings differ (a .bak copy is kept). */
  force?: boolean;
  examplePath?: string;
  /** Folders of the bundles botyard ships (copied into the upload folder when an instance needs one). */
  shippedBundleDirs?: string[];
}


interface BotyardPaths {
  database: string;
  uploadDir: string;
  loadDirs: string[];
  databaseDir: string;
}

interface KnownBundle {
  file: string;
  bundle: Bundle;
  /** Still to be copied into the upload folder (a shipped bundle). */
  shipped: boolean;
}

/** Paths of botyard's config (with its defaults), relative ones against the config's folder. */
function botyardPaths(data: Record<string, unknown>, configPath: string): BotyardPaths {
  validateConfigData(data, path.basename(configPath));
  const c = data as { database: string; plugin_directories: { upload: string; load: string[] }; plugin_databases: { sqlite: string } };
  const dir = path.dirname(configPath);
  const abs = (p: string) => path.resolve(dir, p);
  return {
    database: abs(c.database.replace(/^sqlite:(\/\/\/?)?/, "")),
    uploadDir: abs(c.plugin_directories.upload),
    loadDirs: c.plugin_directories.load.map(abs),
    databaseDir: abs(c.plugin_databases.sqlite),
  };
}

async function readBundlesIn(dirs: string[], shipped: boolean): Promise<KnownBundle[]> {
  const out: KnownBundle[] = [];
  for (const dir of new Set(dirs)) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).filter((n) => n.endsWith(".mbp")).sort()) {
      const file = path.join(dir, name);
      try {
        // The same checks `botyard start` makes, so a bundle it would refuse is no candidate.
        out.push({ file, bundle: await readBundleBounded(readFileSync(file)), shipped });
      } catch {
        // A bundle botyard refuses is no candidate; `botyard start` reports it.
      }
    }
  }
  return out;
}

/** The bundle for maubot's plugin id: the same id, or one whose manifest says it replaces it. */
function bundleFor(type: string, bundles: KnownBundle[]): KnownBundle | undefined {
  return bundles.find((b) => b.bundle.manifest.id === type) ?? bundles.find((b) => b.bundle.manifest.replaces.includes(type));
}

/**
 * maubot keeps an instance's config text verbatim; keys the new plugin's schema does not allow
 * (a closed schema) are left out so the instance starts. Comments are kept.
 */
export function carryInstanceConfig(text: string, bundle: Bundle | null): { text: string; dropped: string[] } {
  const schema = bundle?.configSchema as { properties?: Record<string, unknown>; additionalProperties?: unknown } | null | undefined;
  if (!schema?.properties || schema.additionalProperties !== false) return { text, dropped: [] };
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return { text, dropped: [] };
  const dropped: string[] = [];
  for (const item of [...doc.contents.items]) {
    const key = String((item.key as { value?: unknown } | null)?.value ?? item.key);
    if (!Object.hasOwn(schema.properties, key)) {
      doc.delete(item.key);
      dropped.push(key);
    }
  }
  if (dropped.length === 0) return { text, dropped };
  // The comment block at the top stays, even when the key it sat on is gone.
  const leading = /^(?:[ \t]*#.*\n)+/.exec(text)?.[0] ?? "";
  if (doc.contents.items.length === 0) return { text: leading, dropped };
  const rest = doc.toString({ lineWidth: 0 });
  return { text: rest.startsWith(leading) ? rest : leading + rest, dropped };
}

function clientRow(c: MaubotClient): ClientRow {
  return { ...c, next_batch: "", filter_id: "" };
}

const CLIENT_FIELDS = ["homeserver", "access_token", "device_id", "enabled", "sync", "autojoin", "online", "displayname", "avatar_url"] as const;
const INSTANCE_FIELDS = ["type", "enabled", "primary_user", "config", "database_engine"] as const;

function sameFields<T extends object>(a: T, b: T, fields: readonly (keyof T)[]): boolean {
  return fields.every((f) => a[f] === b[f]);
}

interface InstancePlan {
  row: InstanceRow;
  line: ReportLine;
  /** The private copy of maubot's database for it, when botyard has none yet. */
  database: string | null;
}

async function planInstance(mi: MaubotInstance, source: MaubotSource, bundles: KnownBundle[], store: HostStore, paths: BotyardPaths): Promise<InstancePlan | ReportLine> {
  const badId = invalidInstanceId(mi.id);
  if (badId) return { kind: "instance", id: mi.id, outcome: "skipped", detail: `its id ${badId} in botyard; create it again under another id` };
  const known = bundleFor(mi.type, bundles);
  const bundle = known?.bundle ?? null;
  const carried = carryInstanceConfig(mi.config, bundle);
  let enabled = mi.enabled;
  let lastError: string | null = null;
  const notes: string[] = [];
  if (bundle === null) {
    enabled = false;
    lastError = `needs plugin ${mi.type}: botyard has no bundle for it (maubot's Python plugins do not run in botyard); upload a botyard build of it, then enable this instance`;
  } else {
    if (bundle.manifest.id !== mi.type) notes.push(`now runs ${bundle.manifest.id} ${bundle.manifest.version} (replaces ${mi.type})`);
    if (carried.dropped.length) notes.push(`config keys ${carried.dropped.join(", ")} left out (${bundle.manifest.id} does not know them)`);
    try {
      await resolveInstanceConfig(bundle, carried.text);
    } catch (err) {
      if (!(err instanceof InstanceConfigError)) throw err;
      enabled = false;
      lastError = `imported from maubot with a config botyard refuses (${err.message}); fix it, then enable this instance`;
    }
  }
  if (mi.enabled && !enabled) notes.push("imported disabled (it was enabled in maubot)");
  const maubotDb = source.instanceDatabase(mi.id);
  const row: InstanceRow = {
    id: mi.id,
    type: bundle?.manifest.id ?? mi.type,
    enabled,
    primary_user: mi.primary_user,
    config: carried.text,
    database_engine: maubotDb !== null || mi.database_engine === "sqlite" ? "sqlite" : null,
    isolated: false,
    state: "stopped",
    last_error: lastError,
  };
  const existing = store.getInstance(mi.id);
  if (existing) {
    const same = sameFields(existing, row, INSTANCE_FIELDS);
    return {
      kind: "instance",
      id: mi.id,
      outcome: same ? "unchanged" : "skipped",
      detail: same ? "" : "botyard has an instance with this id and other settings; kept botyard's",
    };
  }
  const databaseTaken = existsSync(new InstanceDatabaseFiles(paths.databaseDir).pathOf(mi.id));
  return {
    row,
    database: maubotDb !== null && !databaseTaken ? maubotDb : null,
    line: { kind: "instance", id: mi.id, outcome: lastError ? "attention" : "imported", detail: [...notes, ...(lastError ? [lastError] : [])].join("; ") },
  };
}

async function isBotyardRunning(configData: Record<string, unknown>): Promise<string | null> {
  const server = (configData.server ?? {}) as { hostname?: string; port?: number };
  const host = server.hostname === "0.0.0.0" || !server.hostname ? "127.0.0.1" : server.hostname;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${server.port ?? 29316}/_matrix/maubot/v1/health`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1500) });
    return res.ok ? url : null;
  } catch {
    return null;
  }
}

/** Copies a checked private copy of a maubot plugin database to `target` (SQLite's online backup). */
async function copyDatabase(from: string, target: string): Promise<void> {
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const db = new Database(from, { readonly: true, fileMustExist: true });
  try {
    await db.backup(target);
  } finally {
    db.close();
  }
  chmodSync(target, 0o600);
}

export async function importMaubot(options: ImportOptions): Promise<ReportLine[]> {
  const dryRun = options.dryRun ?? false;
  const configPath = path.resolve(options.configPath);
  const source = readMaubotSource(options.source);
  const scratch = mkdtempSync(path.join(tmpdir(), "botyard-import-store-"));
  let store: HostStore | null = null;
  try {
    if (path.resolve(source.configPath) === configPath) {
      throw new MaubotImportError(`${configPath} is maubot's config; give botyard's own config with -c (botyard never writes into maubot's files).`);
    }
    const configPlan = planBotyardConfig(configPath, source.config, options.examplePath ?? defaultExamplePath());
    const configData = configPlan.file.toJS() as Record<string, unknown>;
    const paths = botyardPaths(configData, configPath);
    const maubotPaths = new Set([source.mainDatabase, source.pluginDatabaseDir, source.uploadDir]);
    const clash = [paths.database, paths.databaseDir, paths.uploadDir].find((p) => maubotPaths.has(p));
    if (clash) throw new MaubotImportError(`botyard's config points at maubot's own ${clash}; give botyard files and folders of its own (it never writes into maubot's).`);
    if (!dryRun) {
      const running = await isBotyardRunning(configData);
      if (running) throw new MaubotImportError(`botyard is running (${running} answers); stop it first: the import writes its database.`);
    }

    const lines: ReportLine[] = [];
    if (configPlan.changed && configPlan.existed && !options.force) {
      lines.push({ kind: "config", id: path.basename(configPath), outcome: "attention", detail: `exists and differs from maubot's settings below; run again with --force to write them into it (comments kept, a .bak copy made)` });
    } else {
      lines.push(...configPlan.lines);
    }

    const bundles = [
      ...(await readBundlesIn([paths.uploadDir, ...paths.loadDirs], false)),
      ...(await readBundlesIn(options.shippedBundleDirs ?? [shippedPluginsDir()], true)),
    ];
    // The dry run works on a copy of botyard's database, so its report is the real run's.
    let storePath = paths.database;
    if (dryRun) {
      storePath = path.join(scratch, "host.db");
      if (existsSync(paths.database)) {
        copyFileSync(paths.database, storePath);
        if (existsSync(`${paths.database}-wal`)) copyFileSync(`${paths.database}-wal`, `${storePath}-wal`);
      }
    }
    store = HostStore.open(storePath);
    const liveStore = store;

    const clientRows: ClientRow[] = [];
    for (const mc of source.clients) {
      const existing = liveStore.getClient(mc.id);
      const row = clientRow(mc);
      if (!existing) {
        clientRows.push(row);
        lines.push({ kind: "client", id: mc.id, outcome: "imported", detail: `device ${mc.device_id || "(none)"}${mc.enabled ? "" : ", disabled as in maubot"}` });
      } else {
        const same = sameFields(existing, row, CLIENT_FIELDS);
        lines.push({ kind: "client", id: mc.id, outcome: same ? "unchanged" : "skipped", detail: same ? "" : "botyard has this bot account with other settings; kept botyard's" });
      }
    }

    const instancePlans: InstancePlan[] = [];
    const neededBundles = new Map<string, KnownBundle>();
    for (const mi of source.instances) {
      const plan = await planInstance(mi, source, bundles, liveStore, paths);
      if ("row" in plan) {
        instancePlans.push(plan);
        const known = bundleFor(mi.type, bundles);
        if (known?.shipped && !bundles.some((b) => !b.shipped && b.bundle.manifest.id === known.bundle.manifest.id)) {
          neededBundles.set(known.bundle.manifest.id, known);
        }
        lines.push(plan.line);
        if (plan.database) lines.push({ kind: "database", id: mi.id, outcome: "imported", detail: `from ${path.join(source.pluginDatabaseDir, `${mi.id}.db`)}` });
        else if (source.instanceDatabase(mi.id) !== null) lines.push({ kind: "database", id: mi.id, outcome: "unchanged", detail: "botyard has a database for this instance already; kept it" });
      } else {
        lines.push(plan);
      }
    }
    for (const known of neededBundles.values()) {
      lines.push({ kind: "plugin", id: known.bundle.manifest.id, outcome: "imported", detail: `${path.basename(known.file)} copied into ${paths.uploadDir}` });
    }

    // One transaction for the rows (clients first: instances refer to them).
    liveStore.transaction(() => {
      for (const row of clientRows) liveStore.putClient(row);
      for (const plan of instancePlans) liveStore.putInstance(plan.row);
    });
    if (!dryRun) {
      if (configPlan.changed && (!configPlan.existed || options.force)) {
        if (configPlan.existed) copyFileSync(configPath, `${configPath}.bak`);
        mkdirSync(path.dirname(configPath), { recursive: true });
        configPlan.file.save();
      }
      mkdirSync(paths.uploadDir, { recursive: true });
      for (const known of neededBundles.values()) copyFileSync(known.file, path.join(paths.uploadDir, path.basename(known.file)));
      for (const plan of instancePlans) {
        if (plan.database) await copyDatabase(plan.database, new InstanceDatabaseFiles(paths.databaseDir).pathOf(plan.row.id));
      }
    }
    return lines;
  } finally {
    store?.close();
    source.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}
