import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeBundle, testManifest, testPluginSource } from "../../test-support/plugin-fixtures.js";
import { createTestHost, type TestHost } from "../../test-support/test-host.js";
import { BundleError } from "./bundle-error.js";

let host: TestHost;
beforeEach(async () => {
  host = await createTestHost();
});
afterEach(async () => {
  await host.close();
});

async function listing(): Promise<{ upload: string[]; trash: string[]; plugins: unknown[] }> {
  const safe = async (dir: string) => (await readdir(dir).catch(() => [] as string[])).sort();
  return { upload: await safe(host.dirs.upload), trash: await safe(host.dirs.trash), plugins: host.store.listPlugins() };
}

async function refusedInstall(buffer: Buffer, options = { allowOverride: false }): Promise<BundleError> {
  const before = await listing();
  const err = await host.registry.install(buffer, options).then(
    () => {
      throw new Error("the bundle was accepted");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  // Nothing on disk or in the store changed.
  expect(await listing()).toEqual(before);
  return err as BundleError;
}

describe("PluginRegistry.install", () => {
  it("creates a plugin: bundle file in the upload folder, row in the store", async () => {
    const { plugin, created } = await host.registry.install(makeBundle({ manifest: testManifest() }), { allowOverride: false });
    expect(created).toBe(true);
    expect(plugin.id).toBe("test.plugin");
    expect((await listing()).upload).toEqual(["test.plugin-v1.0.0.mbp"]);
    expect(host.store.getPlugin("test.plugin")).toMatchObject({ version: "1.0.0", sha256: plugin.bundle.sha256 });
  });

  it("refuses a static problem (here a path escaping the bundle) and changes nothing", async () => {
    const err = await refusedInstall(Buffer.from("not a zip"));
    expect(err.errcode).toBe("plugin_invalid");
  });

  it("refuses a main_class that is not exported", async () => {
    const err = await refusedInstall(makeBundle({ manifest: testManifest({ main_class: "Missing" }) }));
    expect(err.message).toMatch(/no export named "Missing"/);
  });

  it("refuses a main module that is not parseable ESM", async () => {
    const err = await refusedInstall(makeBundle({ manifest: testManifest(), files: { "index.js": "export default class {" } }));
    expect(err.message).toMatch(/not a parseable ES module/);
  });

  it("runs none of the bundle's code: top-level code that would write a file has not run after the upload", async () => {
    const marker = join(host.dirs.upload, "..", "top-level-ran");
    const source = `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\n${testPluginSource()}`;
    const { plugin } = await host.registry.install(makeBundle({ manifest: testManifest(), files: { "index.js": source } }), { allowOverride: false });
    expect(plugin.id).toBe("test.plugin");
    await expect(readdir(join(host.dirs.upload, ".."))).resolves.not.toContain("top-level-ran");
  });

  it("loads a named main_class", async () => {
    const { plugin } = await host.registry.install(
      makeBundle({ manifest: testManifest({ main_class: "Named" }), files: { "index.js": testPluginSource({ className: "Named" }) } }),
      { allowOverride: false },
    );
    expect(plugin.bundle.manifest.main_class).toBe("Named");
  });

  it("refuses an id that exists unless replacing (plugin_exists)", async () => {
    await host.registry.install(makeBundle({ manifest: testManifest() }), { allowOverride: false });
    const err = await refusedInstall(makeBundle({ manifest: testManifest({ version: "1.1.0" }) }));
    expect(err.errcode).toBe("plugin_exists");
  });

  it("refuses a bundle of another id when one was expected (pid_mismatch)", async () => {
    const err = await refusedInstall(makeBundle({ manifest: testManifest({ id: "other.plugin" }) }), { allowOverride: true, expectId: "test.plugin" } as never);
    expect(err.errcode).toBe("pid_mismatch");
  });

  it("replaces a plugin: new file, old one in the trash with reason update", async () => {
    await host.registry.install(makeBundle({ manifest: testManifest() }), { allowOverride: false });
    const { plugin, created } = await host.registry.install(makeBundle({ manifest: testManifest({ version: "1.1.0" }) }), { allowOverride: true });
    expect(created).toBe(false);
    expect(plugin.version).toBe("1.1.0");
    const after = await listing();
    expect(after.upload).toEqual(["test.plugin-v1.1.0.mbp"]);
    expect(after.trash).toHaveLength(1);
    expect(after.trash[0]).toMatch(/^\d+-update-test\.plugin-v1\.0\.0\.mbp$/);
    expect(host.store.getPlugin("test.plugin")?.version).toBe("1.1.0");
  });

  it("deletes a plugin into the trash, and refuses while it has instances", async () => {
    await host.registry.install(makeBundle({ manifest: testManifest() }), { allowOverride: false });
    host.addClient("@bot:test");
    host.store.putInstance(host.instanceRow("i1", "test.plugin", { enabled: false }));
    await expect(host.registry.delete("test.plugin")).rejects.toMatchObject({ errcode: "plugin_in_use" });
    host.store.deleteInstance("i1");
    await host.registry.delete("test.plugin");
    expect(host.registry.get("test.plugin")).toBeUndefined();
    const after = await listing();
    expect(after.upload).toEqual([]);
    expect(after.trash[0]).toMatch(/^\d+-delete-test\.plugin-v1\.0\.0\.mbp$/);
    expect(after.plugins).toEqual([]);
  });
});

describe("PluginRegistry.loadAll", () => {
  it("loads good bundles and moves broken ones and lower duplicates to the trash with a reason", async () => {
    await writeFile(join(host.dirs.upload, "good-v1.mbp"), makeBundle({ manifest: testManifest({ id: "good.plugin" }) }));
    await writeFile(join(host.dirs.upload, "broken.mbp"), Buffer.from("garbage"));
    await writeFile(join(host.dirs.upload, "dup-a.mbp"), makeBundle({ manifest: testManifest({ id: "dup.plugin", version: "2.0.0" }) }));
    await writeFile(join(host.dirs.upload, "dup-b.mbp"), makeBundle({ manifest: testManifest({ id: "dup.plugin", version: "1.0.0" }) }));
    await host.registry.loadAll();
    expect(host.registry.list().map((p) => [p.id, p.version])).toEqual([["dup.plugin", "2.0.0"], ["good.plugin", "1.0.0"]]);
    const after = await listing();
    expect(after.upload).toEqual(["dup-a.mbp", "good-v1.mbp"]);
    expect(after.trash.map((n) => n.replace(/^\d+-/, "")).sort()).toEqual(["duplicate-dup-b.mbp", "error-broken.mbp"]);
    expect(host.store.listPlugins().map((p) => p.id).sort()).toEqual(["dup.plugin", "good.plugin"]);
  });
});
