// The `maubot.yaml` of a botyard bundle: its JSON schema (compiled once) and its typed form. The
// field rules botyard-cli applies too come from @botyard/sdk/manifest (one definition for both).
import { SHARED_MANIFEST_FIELDS } from "@botyard/sdk/manifest";
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

/**
 * Bytes of maubot.yaml. A real one is under 6 KiB even with an inline config_schema (Owncast
 * Sentry's is 5.3 KiB); YAML parsing is superlinear in the number of keys, so the cap bounds it.
 */
export const MAX_MANIFEST_BYTES = 64 * 1024;

const manifestSchema = {
  type: "object",
  required: ["id", "version", "main"],
  properties: {
    ...SHARED_MANIFEST_FIELDS,
    main: { type: "string", pattern: "\\.(m?js)$", maxLength: 4096 },
  },
  // Unknown keys are tolerated so maubot's optional fields and newer botyard fields still load.
  additionalProperties: true,
} as const;

const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
export const validateManifestShape = ajv.compile(manifestSchema);
