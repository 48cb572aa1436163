// The `maubot.yaml` of a botyard bundle: its JSON schema (compiled once) and its typed form.
import { Ajv2020 } from "ajv/dist/2020.js";

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

export const ID_PATTERN = "^[a-z0-9][a-z0-9._-]*$";

const manifestSchema = {
  type: "object",
  required: ["id", "version", "main"],
  properties: {
    id: { type: "string", pattern: ID_PATTERN, maxLength: 255 },
    version: { type: "string", minLength: 1, maxLength: 100 },
    main: { type: "string", pattern: "\\.(m?js)$" },
    main_class: { type: "string", pattern: "^[A-Za-z_$][A-Za-z0-9_$]*$" },
    config: { type: "boolean" },
    config_schema: { type: ["object", "string"] },
    database: { type: "boolean" },
    database_type: { type: "string" },
    webapp: { type: "boolean" },
    extra_files: { type: "array", items: { type: "string" } },
    license: { type: "string" },
    botyard: { type: "string" },
    replaces: { type: "array", maxItems: 16, items: { type: "string", pattern: ID_PATTERN, maxLength: 255 } },
  },
  // Unknown keys are tolerated so maubot's optional fields and newer botyard fields still load.
  additionalProperties: true,
} as const;

const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
export const validateManifestShape = ajv.compile(manifestSchema);
