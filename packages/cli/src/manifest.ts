// The source `maubot.yaml` of a plugin folder, checked before anything is built so an author
// sees every mistake with the field it concerns. The rules are @botyard/sdk/manifest's, the ones
// the host applies to the built bundle (packages/host/src/bundles/manifest.ts): what the CLI
// accepts, the host accepts. Only `main` differs, a source file here, the bundled file there.

import { isPythonManifest, manifestRuleBreak, manifestSchema } from "@botyard/sdk/manifest";
import { Ajv, type ErrorObject } from "ajv";

export { ID_PATTERN, SEMVER_PATTERN } from "@botyard/sdk/manifest";

export interface SourceManifest {
  id: string;
  version: string;
  /** Entry file in the plugin folder (TypeScript or JavaScript). */
  main: string;
  main_class?: string;
  license?: string;
  config?: boolean;
  config_schema?: Record<string, unknown> | string;
  database?: boolean;
  database_type?: string;
  webapp?: boolean;
  extra_files?: string[];
  botyard?: string;
  /** maubot plugin ids whose instances and databases this plugin takes over (botyard import-maubot). */
  replaces?: string[];
  [key: string]: unknown;
}

const KNOWN_FIELDS = new Set([
  "id", "version", "main", "main_class", "license", "config", "config_schema", "database", "database_type",
  "webapp", "extra_files", "botyard", "replaces", "maubot", "dependencies", "soft_dependencies",
]);

const validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile<SourceManifest>(manifestSchema("source"));

export class ManifestError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`maubot.yaml is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ManifestError";
    this.problems = problems;
  }
}

const HINTS: Record<string, string> = {
  id: "a lower-case reverse-DNS name such as org.example.myplugin",
  version: "a semantic version such as 1.0.0",
  main: "the entry file, e.g. src/index.ts",
  main_class: "the exported name of the Plugin subclass (leave it out for the default export)",
  botyard: 'a semver range of the host versions the plugin supports, such as ">=0.1 <1"',
};

function describe(err: ErrorObject): string {
  const field = err.instancePath.replace(/^\//, "").replace(/\//g, ".");
  if (err.keyword === "required") {
    const missing = (err.params as { missingProperty: string }).missingProperty;
    return `${missing} is missing${HINTS[missing] ? `: ${HINTS[missing]}` : ""}`;
  }
  if (err.keyword === "pattern" && HINTS[field]) return `${field} must be ${HINTS[field]}`;
  if (err.keyword === "type" && field === "") return "the file must be a mapping of fields (id, version, main, ...)";
  return `${field || "(root)"} ${err.message ?? "is invalid"}`;
}

/** Validates a parsed maubot.yaml; returns it typed and the warnings (unknown fields, a schema without config). */
export function validateSourceManifest(raw: unknown): { manifest: SourceManifest; warnings: string[] } {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw) && isPythonManifest(raw)) {
    throw new ManifestError([
      "this is a Python maubot plugin (it lists `modules`): botyard plugins are TypeScript/JavaScript with a `main` entry file",
    ]);
  }
  if (!validate(raw)) throw new ManifestError((validate.errors ?? []).map(describe));
  const manifest = raw;
  const broken = manifestRuleBreak(manifest);
  if (broken) {
    const field = broken.rule === "version" ? "version" : "botyard";
    throw new ManifestError([`${field} ${JSON.stringify(broken.value)} must be ${HINTS[field]}`]);
  }
  const warnings = Object.keys(manifest)
    .filter((k) => !KNOWN_FIELDS.has(k))
    .map((k) => `maubot.yaml: unknown field ${k} (kept as is)`);
  if (manifest.config && manifest.config_schema === undefined) {
    warnings.push("maubot.yaml: config is true but there is no config_schema; the host cannot validate instance configs");
  }
  if (!manifest.config && manifest.config_schema !== undefined) {
    // The host accepts it (and checks the schema): instances of the plugin just get no config.
    warnings.push("maubot.yaml: config_schema is set but config is not true; instances get no config");
  }
  return { manifest, warnings };
}
