// readBundle: a .mbp buffer → a validated Bundle, or a BundleError saying what is wrong.
// Everything here is static: no plugin code runs (the main module's exports are found by lexing
// it). Every input is bounded before it is parsed (zip directory, file sizes, list lengths,
// schema size), but YAML parsing, lexing and schema compiling still cost CPU in proportion, so
// the host runs these functions only in the check thread (workers/check-thread.ts), where a
// stall is bounded in time and killed, never on its main thread.
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import semver from "semver";
import YAML from "yaml";
import type { Bundle } from "./bundle-info.js";
import { BundleError } from "./bundle-error.js";
import { type ConfigSchema, compileConfigSchema, configProblems, schemaBoundsProblem } from "./config-schema.js";
import { type BundleManifest, MAX_MANIFEST_BYTES, manifestFromFields, pythonBundle } from "./manifest.js";
import { checkMainExport } from "./module-exports.js";
import { readZipEntries } from "./zip-entries.js";

/** Bytes of base-config.yaml and of a config_schema file; real ones are under 3 KiB. */
export const MAX_CONFIG_FILE_BYTES = 256 * 1024;

export { type Bundle, type BundleInfo, bundleInfo } from "./bundle-info.js";

export interface ReadBundleOptions {
  /** The running host's version, checked against the manifest's `botyard` range. */
  hostVersion?: string;
}

const require = createRequire(import.meta.url);
const HOST_VERSION: string = (require("../../package.json") as { version: string }).version;

function limitedText(name: string, data: Buffer, limit: number): string {
  if (data.length > limit) {
    throw new BundleError("bundle_too_large", `${name} is ${data.length} bytes; the limit is ${limit / 1024} KiB (a real plugin's is a few KiB).`);
  }
  return data.toString("utf8");
}

export function readBundle(buffer: Buffer, options: ReadBundleOptions = {}): Bundle {
  const files = readZipEntries(buffer);

  const manifestText = files.get("maubot.yaml");
  if (manifestText === undefined) {
    if ([...files.keys()].some((n) => n.endsWith(".py"))) throw pythonBundle();
    throw new BundleError("plugin_invalid", "The bundle has no maubot.yaml at its root; it is not a plugin bundle.");
  }
  const manifestSource = limitedText("maubot.yaml", manifestText, MAX_MANIFEST_BYTES);
  let raw: unknown;
  try {
    raw = YAML.parse(manifestSource);
  } catch (err) {
    throw new BundleError("plugin_invalid", `maubot.yaml is not valid YAML: ${(err as Error).message}`);
  }
  const manifest = manifestFromFields(raw, [...files.keys()].some((n) => n.endsWith(".py")));

  const mainFile = files.get(manifest.main);
  if (mainFile === undefined) {
    throw new BundleError("plugin_invalid", `maubot.yaml: main ${JSON.stringify(manifest.main)} is not a file in the bundle.`);
  }
  if (manifest.botyard !== null) {
    const host = options.hostVersion ?? HOST_VERSION;
    if (!semver.satisfies(host, manifest.botyard, { includePrerelease: true })) {
      throw new BundleError("plugin_invalid", `The plugin supports botyard ${manifest.botyard}; this host is ${host}.`);
    }
  }
  for (const extra of manifest.extra_files) {
    // Globs are expanded at build time (maubot's meaning); a plain path must be present.
    if (!/[*?[]/.test(extra) && !files.has(extra) && ![...files.keys()].some((n) => n.startsWith(`${extra}/`))) {
      throw new BundleError("plugin_invalid", `maubot.yaml: extra_files entry ${JSON.stringify(extra)} is not in the bundle.`);
    }
  }

  const configSchema = resolveConfigSchema(manifest, files);
  if (configSchema) {
    const problem = schemaBoundsProblem(configSchema);
    if (problem) throw new BundleError("plugin_invalid", `config_schema is too large to check: ${problem}.`);
  }

  let baseConfigText: string | null = null;
  let baseConfig: Record<string, unknown> | null = null;
  const baseFile = files.get("base-config.yaml");
  if (baseFile !== undefined) {
    baseConfigText = limitedText("base-config.yaml", baseFile, MAX_CONFIG_FILE_BYTES);
    let parsed: unknown;
    try {
      parsed = YAML.parse(baseConfigText);
    } catch (err) {
      throw new BundleError("plugin_invalid", `base-config.yaml is not valid YAML: ${(err as Error).message}`);
    }
    parsed ??= {};
    if (typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new BundleError("plugin_invalid", "base-config.yaml must be a mapping.");
    }
    baseConfig = parsed as Record<string, unknown>;
  } else if (manifest.config) {
    throw new BundleError("plugin_invalid", "maubot.yaml says config: true but the bundle has no base-config.yaml.");
  }

  checkMainExport(mainFile.toString("utf8"), manifest.main, manifest.main_class);

  return {
    manifest,
    files,
    baseConfigText,
    baseConfig,
    configSchema,
    sha256: createHash("sha256").update(buffer).digest("hex"),
  };
}

/**
 * Compiles the bundle's config_schema and checks base-config.yaml against it. Apart from
 * readBundle because it is the step whose time a hostile schema controls (a backtracking
 * `pattern`): the check thread gives it its own, shorter, time limit.
 */
export function checkBundleConfig(bundle: Pick<Bundle, "configSchema" | "baseConfig">): void {
  if (!bundle.configSchema) return;
  let validate: ReturnType<typeof compileConfigSchema>;
  try {
    validate = compileConfigSchema(bundle.configSchema);
  } catch (err) {
    throw new BundleError("plugin_invalid", `config_schema is not a valid JSON Schema: ${(err as Error).message}`);
  }
  const problems = bundle.baseConfig ? configProblems(validate, bundle.baseConfig) : null;
  if (problems) throw new BundleError("plugin_invalid", `base-config.yaml does not satisfy config_schema ${problems}.`);
}

function resolveConfigSchema(manifest: BundleManifest, files: ReadonlyMap<string, Buffer>): ConfigSchema | null {
  const spec = manifest.config_schema;
  if (spec === null) return null;
  if (typeof spec === "object") return spec;
  const file = files.get(spec);
  if (file === undefined) {
    throw new BundleError("plugin_invalid", `maubot.yaml: config_schema file ${JSON.stringify(spec)} is not in the bundle.`);
  }
  const source = limitedText(`config_schema file ${spec}`, file, MAX_CONFIG_FILE_BYTES);
  let parsed: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both kinds of schema file; but JSON.parse
    // reads JSON in linear time, where the yaml library's duplicate-key check is quadratic.
    parsed = spec.endsWith(".json") ? JSON.parse(source) : YAML.parse(source);
  } catch (err) {
    throw new BundleError("plugin_invalid", `config_schema file ${spec} does not parse: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BundleError("plugin_invalid", `config_schema file ${spec} must hold a JSON Schema object.`);
  }
  return parsed as Record<string, unknown>;
}
