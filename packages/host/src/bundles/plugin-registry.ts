// The plugins the host knows: bundles on disk in the upload/load folders, each read and checked
// statically (in a check thread with a time limit; no plugin code runs) and extracted to a
// private folder for its worker. Installing a new version of a loaded plugin is atomic: its instances
// stop, the new version loads and they start again; if anything fails the old version comes back.
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { Logger } from "pino";
// One function, not the package index (its ~50 modules; the check thread loads the rest).
import semverGt from "semver/functions/gt.js";
import { byCodeUnits } from "../code-unit-order.js";
import { componentLogger } from "../logging/logging.js";
import type { InstanceRow, PluginRow } from "../store/types.js";
import { readBundleBounded } from "../workers/bounded-checks.js";
import { BundleError } from "./bundle-error.js";
import { extractBundle, removeExtracted } from "./bundle-files.js";
import { type BundleInfo, bundleInfo } from "./bundle-info.js";
import { trashFile } from "./trash.js";

/** What the registry needs from the host store (HostStore has these). */
export interface PluginRecords {
  putPlugin(row: PluginRow): unknown;
  deletePlugin(id: string): unknown;
  listPlugins(): PluginRow[] | Promise<PluginRow[]>;
  instancesOfPlugin(id: string): InstanceRow[] | Promise<InstanceRow[]>;
}

/**
 * The instances side, as the registry sees it during a replacement (InstanceSupervisor).
 * `suspendPlugin` stops the plugin's running instances and its workers and says which ran;
 * `resumePlugin` starts them again on whatever version is loaded now and says which failed.
 */
export interface PluginInstanceHost {
  suspendPlugin(pluginId: string): Promise<string[]>;
  resumePlugin(pluginId: string, instanceIds: string[]): Promise<Array<{ instanceId: string; error: string }>>;
}

export interface LoadedPlugin {
  id: string;
  version: string;
  /** The .mbp file. */
  path: string;
  bundle: BundleInfo;
  /** Extracted files, imported by the plugin's workers. */
  codeDir: string;
  loadedAt: number;
}

export interface PluginRegistryOptions {
  records: PluginRecords;
  uploadDir: string;
  loadDirs: string[];
  /** Trash folder, or null to delete removed bundles. */
  trashDir: string | null;
  /** Private folder for extracted bundles; emptied by loadAll(). */
  codeDir: string;
  logger: Logger;
  hostVersion?: string;
  /** The instances of the plugins, stopped and started again around a replacement. */
  instances: PluginInstanceHost;
}

export interface InstallOptions {
  /** Replace a loaded plugin with the same id (maubot's `allow_override`). */
  allowOverride: boolean;
  /** When replacing through `PUT /plugin/{id}`: the bundle must carry this id. */
  expectId?: string;
}

export class PluginRegistry {
  private readonly plugins = new Map<string, LoadedPlugin>();
  /** Installs, deletes and reloads run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly log: Logger;

  constructor(private readonly options: PluginRegistryOptions) {
    this.log = componentLogger(options.logger, "loader");
  }

  list(): LoadedPlugin[] {
    return [...this.plugins.values()].sort((a, b) => byCodeUnits(a.id, b.id));
  }

  get(id: string): LoadedPlugin | undefined {
    return this.plugins.get(id);
  }

  /**
   * Loads every *.mbp of every load folder. A broken bundle, or the lower version of two with
   * the same id, goes to the trash with the reason, as maubot does.
   */
  loadAll(): Promise<void> {
    return this.serial(async () => {
      const { codeDir, loadDirs, uploadDir } = this.options;
      await rm(codeDir, { recursive: true, force: true });
      await mkdir(codeDir, { recursive: true });
      await mkdir(uploadDir, { recursive: true });
      for (const dir of [...new Set(loadDirs.map((d) => resolve(d)))]) {
        let names: string[];
        try {
          names = (await readdir(dir)).filter((n) => n.endsWith(".mbp")).sort();
        } catch (err) {
          this.log.warn({ dir, err }, "plugin load directory cannot be read");
          continue;
        }
        for (const name of names) await this.loadFile(join(dir, name));
      }
      const loaded = new Set(this.plugins.keys());
      for (const row of await this.options.records.listPlugins()) {
        if (!loaded.has(row.id)) await this.options.records.deletePlugin(row.id);
      }
      this.log.info({ plugins: [...loaded] }, `loaded ${loaded.size} plugin(s)`);
    });
  }

  install(buffer: Buffer, options: InstallOptions): Promise<{ plugin: LoadedPlugin; created: boolean }> {
    return this.serial(async () => {
      const bundle = await readBundleBounded(buffer, { hostVersion: this.options.hostVersion });
      const { id, version } = bundle.manifest;
      if (options.expectId !== undefined && options.expectId !== id) {
        throw new BundleError("pid_mismatch", `The bundle is plugin ${id}, not ${options.expectId}.`);
      }
      const old = this.plugins.get(id);
      if (old && !options.allowOverride) {
        throw new BundleError("plugin_exists", `Plugin ${id} is already loaded (version ${old.version}); allow replacing it to upload a new version.`, {
          // botyard extension: which plugin, so a UI can name the instances a replace restarts.
          plugin_id: id,
          loaded_version: old.version,
          version,
        });
      }
      const codeDir = await extractBundle(bundle, this.options.codeDir);
      let path = join(this.options.uploadDir, `${id}-v${version}.mbp`);
      if (old && resolve(old.path) === resolve(path)) {
        // Same version again: keep the old file until the new one is known to work (maubot's rule).
        path = join(this.options.uploadDir, `${id}-v${version}-ts${Date.now()}.mbp`);
      }
      try {
        await writeFileAtomic(path, buffer);
      } catch (err) {
        await removeExtracted(codeDir);
        throw err;
      }
      const plugin: LoadedPlugin = { id, version, path, bundle: bundleInfo(bundle), codeDir, loadedAt: Date.now() };
      if (!old) {
        this.plugins.set(id, plugin);
        await this.options.records.putPlugin(rowOf(plugin));
        this.log.info({ plugin: id, version }, `installed plugin ${id} ${version}`);
        return { plugin, created: true };
      }
      await this.replace(old, plugin, { trashOld: true });
      return { plugin, created: false };
    });
  }

  /** Removes a plugin without instances; its bundle goes to the trash. */
  delete(id: string): Promise<void> {
    return this.serial(async () => {
      const plugin = this.plugins.get(id);
      if (!plugin) throw new BundleError("plugin_not_found", `Plugin ${id} is not loaded.`);
      const users = await this.options.records.instancesOfPlugin(id);
      if (users.length > 0) {
        throw new BundleError("plugin_in_use", `Plugin ${id} still has instances (${users.map((i) => i.id).join(", ")}); delete them first.`);
      }
      this.plugins.delete(id);
      await this.options.records.deletePlugin(id);
      await trashFile(plugin.path, "delete", this.options.trashDir);
      await removeExtracted(plugin.codeDir);
      this.log.info({ plugin: id }, `deleted plugin ${id}`);
    });
  }

  /** Reads the plugin's bundle file again and restarts its instances on it (maubot's reload). */
  reload(id: string): Promise<LoadedPlugin> {
    return this.serial(async () => {
      const old = this.plugins.get(id);
      if (!old) throw new BundleError("plugin_not_found", `Plugin ${id} is not loaded.`);
      let buffer: Buffer;
      try {
        buffer = await readFile(old.path);
      } catch (err) {
        throw new BundleError("plugin_reload_fail", `The bundle file of ${id} cannot be read: ${(err as Error).message}`);
      }
      const bundle = await readBundleBounded(buffer, { hostVersion: this.options.hostVersion });
      if (bundle.manifest.id !== id) {
        throw new BundleError("pid_mismatch", `The file ${old.path} now holds plugin ${bundle.manifest.id}, not ${id}.`);
      }
      const codeDir = await extractBundle(bundle, this.options.codeDir);
      const plugin: LoadedPlugin = { id, version: bundle.manifest.version, path: old.path, bundle: bundleInfo(bundle), codeDir, loadedAt: Date.now() };
      await this.replace(old, plugin, { trashOld: false });
      return plugin;
    });
  }

  private async loadFile(path: string): Promise<void> {
    let plugin: LoadedPlugin;
    try {
      const bundle = await readBundleBounded(await readFile(path), { hostVersion: this.options.hostVersion });
      const codeDir = await extractBundle(bundle, this.options.codeDir);
      plugin = { id: bundle.manifest.id, version: bundle.manifest.version, path, bundle: bundleInfo(bundle), codeDir, loadedAt: Date.now() };
    } catch (err) {
      this.log.error({ file: path, err: (err as Error).message }, `failed to load ${basename(path)}: ${(err as Error).message}; moving it to the trash`);
      await trashFile(path, "error", this.options.trashDir).catch((e: unknown) => this.log.error({ err: e }, "could not trash the bundle"));
      return;
    }
    const existing = this.plugins.get(plugin.id);
    if (existing) {
      // Two files with one id: keep the higher version, deterministically (maubot keeps whichever came first).
      const keepNew = semverGt(plugin.version, existing.version);
      const [loser, winner] = keepNew ? [existing, plugin] : [plugin, existing];
      this.log.warn({ plugin: plugin.id, kept: winner.path, trashed: loser.path }, `two bundles of plugin ${plugin.id}; keeping ${basename(winner.path)}`);
      await trashFile(loser.path, "duplicate", this.options.trashDir);
      await removeExtracted(loser.codeDir);
      if (!keepNew) return;
    }
    this.plugins.set(plugin.id, plugin);
    await this.options.records.putPlugin(rowOf(plugin));
  }

  private async replace(old: LoadedPlugin, next: LoadedPlugin, { trashOld }: { trashOld: boolean }): Promise<void> {
    const host = this.options.instances;
    const running = await host.suspendPlugin(old.id);
    this.plugins.set(old.id, next);
    const failures = await host.resumePlugin(old.id, running);
    if (failures.length === 0) {
      await this.options.records.putPlugin(rowOf(next));
      if (trashOld && resolve(old.path) !== resolve(next.path)) await trashFile(old.path, "update", this.options.trashDir);
      await removeExtracted(old.codeDir);
      this.log.info({ plugin: old.id, from: old.version, to: next.version, restarted: running }, `replaced plugin ${old.id} ${old.version} with ${next.version}`);
      return;
    }
    // Roll back: the new version never becomes visible on disk or in the store.
    await host.suspendPlugin(old.id);
    this.plugins.set(old.id, old);
    if (resolve(old.path) !== resolve(next.path)) await rm(next.path, { force: true });
    await removeExtracted(next.codeDir);
    const restored = await host.resumePlugin(old.id, running);
    const detail = failures.map((f) => `${f.instanceId}: ${f.error}`).join("; ");
    this.log.error({ plugin: old.id, failures, restoreFailures: restored }, `new version ${next.version} of ${old.id} failed; restored ${old.version}`);
    throw new BundleError("plugin_reload_fail", `Version ${next.version} of ${old.id} was rolled back to ${old.version} because instances failed to start on it (${detail}).`);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function rowOf(plugin: LoadedPlugin): PluginRow {
  return { id: plugin.id, version: plugin.version, path: resolve(plugin.path), sha256: plugin.bundle.sha256, loaded_at: plugin.loadedAt };
}

async function writeFileAtomic(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { flag: "w" });
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
