// The `maubot.yaml` of a botyard bundle: its typed form and manifestFromFields, which applies the
// rules of @botyard/sdk/manifest (the definition botyard-cli applies too, so the CLI refuses
// exactly what the host refuses) and fills in the defaults.
import { isPythonManifest, manifestRuleBreak, manifestSchema } from "@botyard/sdk/manifest";
import { Ajv2020 } from "ajv/dist/2020.js";
import { BundleError } from "./bundle-error.js";
import { describeAjvErrors } from "./config-schema.js";

/** A validated manifest with defaults filled in. */
export interface BundleManifest {
  id: string;
  version: string;
  /** Path of the ESM entry file inside the bundle. */
  main: string;
  /** Export name of the plugin class; "default" for the default export. */
  main_class: string;
  config: boolean;
  /** Inline schema, or the path of a JSON/YAML file in the bundle; null without one. */
  config_schema: Record<string, unknown> | string | null;
  database: boolean;
  webapp: boolean;
  extra_files: string[];
  license: string;
  /** Semver range of host versions the bundle supports; null for any. */
  botyard: string | null;
  /**
   * maubot plugin ids this plugin takes over: `botyard import-maubot` gives it their instances
   * and databases (the plugin's migrations carry the database on).
   */
  replaces: string[];
}

/** maubot.yaml's fields as the schema accepts them (the optional ones may be absent). */
type ManifestFields = Pick<BundleManifest, "id" | "version" | "main"> &
  Partial<Omit<BundleManifest, "id" | "version" | "main" | "config_schema" | "botyard">> & {
    config_schema?: Record<string, unknown> | string;
    botyard?: string;
  };

/**
 * Bytes of maubot.yaml. A real one is under 6 KiB even with an inline config_schema (Owncast
 * Sentry's is 5.3 KiB); YAML parsing is superlinear in the number of keys, so the cap bounds it.
 */
export const MAX_MANIFEST_BYTES = 64 * 1024;

const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
const validateManifestShape = ajv.compile<ManifestFields>(manifestSchema("bundle"));

/**
 * The parsed maubot.yaml of a bundle, checked and with defaults filled in, or a BundleError saying
 * what is wrong. `hasPythonFiles`: the bundle holds .py files (a maubot plugin without `modules`).
 */
export function manifestFromFields(raw: unknown, hasPythonFiles = false): BundleManifest {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new BundleError("plugin_invalid", "maubot.yaml must be a mapping of fields (id, version, main, ...).");
  }
  if (isPythonManifest(raw) || (hasPythonFiles && !("main" in raw))) throw pythonBundle();
  if (!validateManifestShape(raw)) {
    const versionError = validateManifestShape.errors?.find((e) => e.instancePath === "/version" && e.keyword === "pattern");
    if (versionError) throw notSemver((raw as { version?: unknown }).version);
    throw new BundleError("plugin_invalid", `maubot.yaml is invalid ${describeAjvErrors(validateManifestShape.errors)}.`);
  }
  const broken = manifestRuleBreak(raw);
  if (broken?.rule === "version") throw notSemver(broken.value);
  if (broken?.rule === "botyard_range") {
    throw new BundleError("plugin_invalid", `maubot.yaml: botyard ${JSON.stringify(broken.value)} is not a semver range (like ">=0.1 <1").`);
  }
  return {
    id: raw.id,
    version: raw.version,
    main: raw.main,
    main_class: raw.main_class ?? "default",
    config: raw.config ?? false,
    config_schema: raw.config_schema ?? null,
    database: raw.database ?? false,
    webapp: raw.webapp ?? false,
    extra_files: raw.extra_files ?? [],
    license: raw.license ?? "",
    botyard: raw.botyard ?? null,
    replaces: raw.replaces ?? [],
  };
}

function notSemver(version: unknown): BundleError {
  return new BundleError("plugin_invalid", `maubot.yaml: version ${JSON.stringify(version)} is not a semantic version (like 1.2.3, without a leading "v" or spaces).`);
}

export function pythonBundle(): BundleError {
  return new BundleError(
    "plugin_invalid",
    "This is a Python maubot plugin (it lists Python modules); botyard runs only JavaScript plugins built with botyard-cli and cannot run it.",
  );
}
