// The rules of maubot.yaml, one definition for botyard-cli (when it builds a bundle) and the host
// (when it loads one): the JSON Schema both compile and the rules a schema cannot state (a
// version semver can order, a valid host version range, a Python plugin), so the CLI refuses
// exactly the manifests the host refuses. Only `main` differs: a source file for the CLI, the
// bundled ESM file for the host. Imported through `@botyard/sdk/manifest`, which holds nothing
// else (no plugin runtime code).
import semver from "semver";

/** A plugin id: lower-case reverse-DNS style. */
export const ID_PATTERN = "^[a-z0-9][a-z0-9._-]*$";

/** semver 2.0.0 exactly (semver.org's pattern): no leading "v", no spaces. */
export const SEMVER_PATTERN =
  "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$";

/** A JavaScript identifier: the export name of the plugin class. */
export const MAIN_CLASS_PATTERN = "^[A-Za-z_$][A-Za-z0-9_$]*$";

/** Items of any list in maubot.yaml. A bundle holds at most 1,000 entries, so no real list is longer. */
export const MAX_MANIFEST_LIST_ITEMS = 1000;

/** `main` of a plugin folder: the entry source file the CLI bundles. */
export const SOURCE_MAIN_PATTERN = "\\.(ts|mts|tsx|js|mjs|jsx)$";
/** `main` of a bundle: the ESM file the host's worker imports. */
export const BUNDLE_MAIN_PATTERN = "\\.(m?js)$";

/** Schemas of the fields the CLI and the host check the same way. */
export const SHARED_MANIFEST_FIELDS = {
  id: { type: "string", pattern: ID_PATTERN, maxLength: 255 },
  version: { type: "string", pattern: SEMVER_PATTERN, maxLength: 100 },
  main_class: { type: "string", pattern: MAIN_CLASS_PATTERN, maxLength: 255 },
  license: { type: "string", maxLength: 255 },
  config: { type: "boolean" },
  config_schema: { type: ["object", "string"] },
  database: { type: "boolean" },
  database_type: { type: "string", maxLength: 100 },
  webapp: { type: "boolean" },
  extra_files: { type: "array", maxItems: MAX_MANIFEST_LIST_ITEMS, items: { type: "string", minLength: 1, maxLength: 4096 } },
  dependencies: { type: "array", maxItems: MAX_MANIFEST_LIST_ITEMS },
  soft_dependencies: { type: "array", maxItems: MAX_MANIFEST_LIST_ITEMS },
  botyard: { type: "string", maxLength: 255 },
  /** maubot plugin ids this plugin takes over (botyard import-maubot). */
  replaces: { type: "array", maxItems: 16, items: { type: "string", pattern: ID_PATTERN, maxLength: 255 } },
} as const;

/** The JSON Schema of maubot.yaml, with `main` a source entry (CLI) or a bundled file (host). */
export function manifestSchema(main: "source" | "bundle") {
  return {
    type: "object",
    required: ["id", "version", "main"],
    properties: {
      ...SHARED_MANIFEST_FIELDS,
      main: { type: "string", pattern: main === "source" ? SOURCE_MAIN_PATTERN : BUNDLE_MAIN_PATTERN, maxLength: 4096 },
    },
    // Unknown keys are tolerated so maubot's optional fields and newer botyard fields still load.
    additionalProperties: true,
  } as const;
}

/** A maubot (Python) plugin's manifest: it lists Python `modules`. Checked before the schema, whose complaint (no `main`) would mislead. */
export function isPythonManifest(fields: object): boolean {
  return "modules" in fields;
}

/** A rule beyond the schema that a manifest breaks; each side words it for its reader. */
export type ManifestRuleBreak =
  /** `version` matches the pattern, but semver cannot read it (a number past 2^53). */
  | { rule: "version"; value: string }
  /** `botyard` is not a semver range of host versions. */
  | { rule: "botyard_range"; value: string };

/** The first rule beyond the schema that `fields` (already accepted by manifestSchema) breaks, or null. */
export function manifestRuleBreak(fields: { version: string; botyard?: string }): ManifestRuleBreak | null {
  // The host orders versions with semver (which is newer, which to keep): it must read them.
  if (semver.valid(fields.version) === null) return { rule: "version", value: fields.version };
  if (fields.botyard !== undefined && !semver.validRange(fields.botyard)) return { rule: "botyard_range", value: fields.botyard };
  return null;
}
