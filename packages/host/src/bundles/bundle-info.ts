// A read bundle and what the host keeps of it. Apart from bundle-reader.ts (which the check
// thread runs) so the main thread, which only receives bundles, never loads the reader's
// libraries (adm-zip, the lexer's WebAssembly, ajv's 2020 draft and formats): a few MB of RSS.
import type { ConfigSchema } from "./config-schema.js";
import type { BundleManifest } from "./manifest.js";

export interface Bundle {
  manifest: BundleManifest;
  /** Every file in the bundle by its (checked) path. */
  files: ReadonlyMap<string, Buffer>;
  /** base-config.yaml as text and parsed (a mapping), or null when the bundle has none. */
  baseConfigText: string | null;
  baseConfig: Record<string, unknown> | null;
  /** The resolved config schema (inline or from its file, within the bounds of config-schema.ts), or null. */
  configSchema: ConfigSchema | null;
  sha256: string;
}

/** What a loaded plugin keeps of its bundle: everything but the file contents (they are on disk). */
export type BundleInfo = Omit<Bundle, "files"> & { fileNames: readonly string[] };

export function bundleInfo(bundle: Bundle): BundleInfo {
  const { files, ...rest } = bundle;
  return { ...rest, fileNames: [...files.keys()] };
}
