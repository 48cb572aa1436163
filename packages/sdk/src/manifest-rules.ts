// The rules of maubot.yaml that botyard-cli (when it builds a bundle) and the host (when it loads
// one) must apply alike, as JSON Schema fragments both compile: one definition, so a bundle the
// CLI builds is never refused by the host for a field the two read differently. Imported through
// `@botyard/sdk/manifest`, which holds nothing else (no plugin runtime code).

/** A plugin id: lower-case reverse-DNS style. */
export const ID_PATTERN = "^[a-z0-9][a-z0-9._-]*$";

/** semver 2.0.0 exactly (semver.org's pattern): no leading "v", no spaces. */
export const SEMVER_PATTERN =
  "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$";

/** A JavaScript identifier: the export name of the plugin class. */
export const MAIN_CLASS_PATTERN = "^[A-Za-z_$][A-Za-z0-9_$]*$";

/** Items of any list in maubot.yaml. A bundle holds at most 1,000 entries, so no real list is longer. */
export const MAX_MANIFEST_LIST_ITEMS = 1000;

/** Schemas of the fields the CLI and the host check the same way (`main` differs: source vs bundled file). */
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
