// readBundle: a .mbp buffer → a validated Bundle, or a BundleError saying what is wrong.
// Everything here is static (no plugin code runs); that `main_class` really is a plugin class is
// checked later by loading it in a short-lived worker (see instances/module-probe.ts).
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import semver from "semver";
import YAML from "yaml";
import { BundleError } from "./bundle-error.js";
import { type BundleManifest, validateManifestShape } from "./manifest.js";
import { readZipEntries } from "./zip-entries.js";

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => void;

export interface Bundle {
  manifest: BundleManifest;
  /** Every file in the bundle by its (checked) path. */
  files: ReadonlyMap<string, Buffer>;
  /** base-config.yaml as text and parsed (a mapping), or null when the bundle has none. */
  baseConfigText: string | null;
  baseConfig: Record<string, unknown> | null;
  /** The resolved config schema (inline or from its file), or null. */
  configSchema: Record<string, unknown> | null;
  /** Compiled `configSchema`, or null when the bundle has none. */
  validateConfig: ValidateFunction | null;
  sha256: string;
}

/** What a loaded plugin keeps of its bundle: everything but the file contents (they are on disk). */
export type BundleInfo = Omit<Bundle, "files"> & { fileNames: readonly string[] };

export function bundleInfo(bundle: Bundle): BundleInfo {
  const { files, ...rest } = bundle;
  return { ...rest, fileNames: [...files.keys()] };
}

export interface ReadBundleOptions {
  /** The running host's version, checked against the manifest's `botyard` range. */
  hostVersion?: string;
}

const require = createRequire(import.meta.url);
const HOST_VERSION: string = (require("../../package.json") as { version: string }).version;

/** Formats ajv errors as "at /a/b: must be integer", naming the path an operator must fix. */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return "invalid";
  return errors
    .slice(0, 5)
    .map((e) => {
      let path = e.instancePath || "";
      if (e.keyword === "required") path += `/${(e.params as { missingProperty: string }).missingProperty}`;
      if (e.keyword === "additionalProperties") path += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
      return `at ${path || "/"}: ${e.message ?? e.keyword}`;
    })
    .join("; ");
}

/**
 * An ajv for a plugin's config schema: draft 2020-12 when the schema says so, else draft-07
 * (what most authors write). Not strict: unknown keywords are the author's business.
 */
export function createConfigAjv(schema: Record<string, unknown>): Ajv {
  const dialect = typeof schema.$schema === "string" ? schema.$schema : "";
  const options = { allErrors: true, strict: false } as const;
  const ajv = /2020-12|2019-09/.test(dialect) ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  return ajv;
}

export function readBundle(buffer: Buffer, options: ReadBundleOptions = {}): Bundle {
  const files = readZipEntries(buffer);

  const manifestText = files.get("maubot.yaml");
  if (manifestText === undefined) {
    if ([...files.keys()].some((n) => n.endsWith(".py"))) throw pythonBundle();
    throw new BundleError("plugin_invalid", "The bundle has no maubot.yaml at its root; it is not a plugin bundle.");
  }
  let raw: unknown;
  try {
    raw = YAML.parse(manifestText.toString("utf8"));
  } catch (err) {
    throw new BundleError("plugin_invalid", `maubot.yaml is not valid YAML: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new BundleError("plugin_invalid", "maubot.yaml must be a mapping of fields (id, version, main, ...).");
  }
  const fields = raw as Record<string, unknown>;
  if ("modules" in fields || ([...files.keys()].some((n) => n.endsWith(".py")) && !("main" in fields))) {
    throw pythonBundle();
  }
  if (!validateManifestShape(fields)) {
    throw new BundleError("plugin_invalid", `maubot.yaml is invalid ${describeAjvErrors(validateManifestShape.errors)}.`);
  }
  const version = fields.version as string;
  if (!semver.valid(version)) {
    throw new BundleError("plugin_invalid", `maubot.yaml: version ${JSON.stringify(version)} is not a semantic version (like 1.2.3).`);
  }
  const manifest: BundleManifest = {
    id: fields.id as string,
    version,
    main: fields.main as string,
    main_class: (fields.main_class as string | undefined) ?? "default",
    config: (fields.config as boolean | undefined) ?? false,
    config_schema: (fields.config_schema as BundleManifest["config_schema"] | undefined) ?? null,
    database: (fields.database as boolean | undefined) ?? false,
    webapp: (fields.webapp as boolean | undefined) ?? false,
    extra_files: (fields.extra_files as string[] | undefined) ?? [],
    license: (fields.license as string | undefined) ?? "",
    botyard: (fields.botyard as string | undefined) ?? null,
    replaces: (fields.replaces as string[] | undefined) ?? [],
  };

  if (!files.has(manifest.main)) {
    throw new BundleError("plugin_invalid", `maubot.yaml: main ${JSON.stringify(manifest.main)} is not a file in the bundle.`);
  }
  if (manifest.botyard !== null) {
    if (!semver.validRange(manifest.botyard)) {
      throw new BundleError("plugin_invalid", `maubot.yaml: botyard ${JSON.stringify(manifest.botyard)} is not a semver range (like ">=0.1 <1").`);
    }
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
  let validateConfig: ValidateFunction | null = null;
  if (configSchema) {
    try {
      validateConfig = createConfigAjv(configSchema).compile(configSchema);
    } catch (err) {
      throw new BundleError("plugin_invalid", `config_schema is not a valid JSON Schema: ${(err as Error).message}`);
    }
  }

  let baseConfigText: string | null = null;
  let baseConfig: Record<string, unknown> | null = null;
  const baseFile = files.get("base-config.yaml");
  if (baseFile !== undefined) {
    baseConfigText = baseFile.toString("utf8");
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
    if (validateConfig && !validateConfig(baseConfig)) {
      throw new BundleError("plugin_invalid", `base-config.yaml does not satisfy config_schema ${describeAjvErrors(validateConfig.errors)}.`);
    }
  } else if (manifest.config) {
    throw new BundleError("plugin_invalid", "maubot.yaml says config: true but the bundle has no base-config.yaml.");
  }

  return {
    manifest,
    files,
    baseConfigText,
    baseConfig,
    configSchema,
    validateConfig,
    sha256: createHash("sha256").update(buffer).digest("hex"),
  };
}

function resolveConfigSchema(manifest: BundleManifest, files: ReadonlyMap<string, Buffer>): Record<string, unknown> | null {
  const spec = manifest.config_schema;
  if (spec === null) return null;
  if (typeof spec === "object") return spec;
  const file = files.get(spec);
  if (file === undefined) {
    throw new BundleError("plugin_invalid", `maubot.yaml: config_schema file ${JSON.stringify(spec)} is not in the bundle.`);
  }
  let parsed: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both kinds of schema file.
    parsed = YAML.parse(file.toString("utf8"));
  } catch (err) {
    throw new BundleError("plugin_invalid", `config_schema file ${spec} does not parse: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BundleError("plugin_invalid", `config_schema file ${spec} must hold a JSON Schema object.`);
  }
  return parsed as Record<string, unknown>;
}

function pythonBundle(): BundleError {
  return new BundleError(
    "plugin_invalid",
    "This is a Python maubot plugin (it lists Python modules); botyard runs only JavaScript plugins built with botyard-cli and cannot run it.",
  );
}
