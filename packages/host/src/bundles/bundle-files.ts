// Writes a bundle's files to a private folder the plugin worker imports from. Names were checked
// by readBundle; they are checked again here against the target folder, so this function is safe
// on its own. Each plugin version gets its own folder, so two plugins (or two versions of one)
// whose modules share names never meet.
import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { Bundle } from "./bundle-reader.js";
import { unsafeEntryName } from "./entry-name.js";

export async function extractBundle(bundle: Bundle, codeRoot: string): Promise<string> {
  const { id, version } = bundle.manifest;
  const dir = resolve(codeRoot, `${id}-v${version}-${bundle.sha256.slice(0, 12)}-${randomBytes(4).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  try {
    for (const [name, data] of bundle.files) {
      const problem = unsafeEntryName(name);
      const target = resolve(dir, name);
      const rel = relative(dir, target);
      if (problem || rel.startsWith("..") || isAbsolute(rel)) throw new Error(`refusing to write bundle entry ${JSON.stringify(name)}`);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, data, { flag: "wx" });
    }
    // Bundles are ESM; a package.json of ours keeps Node from reading .js as CommonJS because
    // of some package.json further up the tree. A bundle's own root package.json is replaced.
    await writeFile(join(dir, "package.json"), JSON.stringify({ type: "module", private: true }));
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

export async function removeExtracted(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
