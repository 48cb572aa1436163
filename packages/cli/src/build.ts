// `botyard-cli build`: a plugin folder → `<id>-v<version>.mbp`. The entry (TypeScript allowed)
// and every npm dependency, @botyard/sdk included, become ONE ESM file, so the host never
// resolves packages for a plugin; node builtins stay external.

import { existsSync, globSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import AdmZip from "adm-zip";
import { Ajv, type AnySchema } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import * as esbuild from "esbuild";
import YAML from "yaml";
import { validateSourceManifest, type SourceManifest } from "./manifest.js";

// ajv-formats is CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** Name of the bundled entry inside the .mbp. */
export const BUNDLED_MAIN = "plugin.mjs";

export interface BuildOptions {
  /** Output file, or an existing directory to put `<id>-v<version>.mbp` in. Default: the current directory. */
  output?: string;
  /** Also put a source map (`plugin.mjs.map`) in the bundle. */
  sourcemap?: boolean;
}

export interface BuildResult {
  path: string;
  manifest: SourceManifest;
  /** Bundle entries, in the order they were added. */
  entries: string[];
  bytes: number;
  warnings: string[];
}

export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}

/** Node's require for CommonJS dependencies bundled into ESM (`require("fs")` inside them). */
const REQUIRE_SHIM = [
  'import { createRequire as __botyardCreateRequire } from "node:module";',
  "const require = __botyardCreateRequire(import.meta.url);",
].join("\n");

/** Marks the resolve call the fallback makes itself, so it does not answer it again. */
const OWN_RESOLVE = Symbol("botyard-sdk-own-resolve");

/**
 * `@botyard/sdk` from the plugin folder's own node_modules when it has one; otherwise the SDK
 * this CLI was installed with. The SDK is not published to a registry, so a plugin written
 * outside this repository has no other way to get it; the host checks the contract version at load.
 */
const sdkFallback: esbuild.Plugin = {
  name: "botyard-sdk-fallback",
  setup(build) {
    build.onResolve({ filter: /^@botyard\/sdk(\/|$)/ }, async (args) => {
      if (args.pluginData === OWN_RESOLVE) return undefined;
      const own = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: OWN_RESOLVE });
      if (own.errors.length === 0) return own;
      let shipped: string;
      try {
        shipped = fileURLToPath(import.meta.resolve(args.path));
      } catch {
        return own;
      }
      return { path: shipped };
    });
  },
};

function inside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

function readYamlFile(path: string, what: string): unknown {
  try {
    return YAML.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new BuildError(`${what} is not valid YAML: ${(err as Error).message}`);
  }
}

function configAjv(schema: Record<string, unknown>): Ajv {
  const dialect = typeof schema["$schema"] === "string" ? schema["$schema"] : "";
  const options = { allErrors: true, strict: false } as const;
  const ajv = /2020-12|2019-09/.test(dialect) ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv as Ajv);
  return ajv as Ajv;
}

/** Reads base-config.yaml and the schema, and checks one against the other (as the host will). */
function checkConfig(dir: string, manifest: SourceManifest, files: Map<string, Buffer>): void {
  let base: unknown;
  if (manifest.config) {
    const basePath = join(dir, "base-config.yaml");
    if (!existsSync(basePath)) throw new BuildError("maubot.yaml says config: true but the folder has no base-config.yaml");
    base = readYamlFile(basePath, "base-config.yaml") ?? {};
    if (typeof base !== "object" || Array.isArray(base)) throw new BuildError("base-config.yaml must be a mapping");
    files.set("base-config.yaml", readFileSync(basePath));
  }

  let schema: unknown = manifest.config_schema;
  if (typeof schema === "string") {
    const schemaPath = resolve(dir, schema);
    if (!inside(dir, schemaPath)) throw new BuildError(`config_schema ${schema} is outside the plugin folder`);
    if (!existsSync(schemaPath)) throw new BuildError(`config_schema file ${schema} does not exist`);
    schema = readYamlFile(schemaPath, `config_schema file ${schema}`);
    files.set(relative(dir, schemaPath).split(sep).join("/"), readFileSync(schemaPath));
  }
  if (schema === undefined) return;
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) throw new BuildError("config_schema must be a JSON Schema object");
  let check;
  try {
    check = configAjv(schema as Record<string, unknown>).compile(schema as AnySchema);
  } catch (err) {
    throw new BuildError(`config_schema is not a valid JSON Schema: ${(err as Error).message}`);
  }
  if (base !== undefined && !check(base)) {
    const problems = (check.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}`);
    throw new BuildError(`base-config.yaml does not satisfy config_schema: ${problems.join("; ")}`);
  }
}

function addExtraFiles(dir: string, patterns: readonly string[], files: Map<string, Buffer>): void {
  for (const pattern of patterns) {
    if (isAbsolute(pattern) || pattern.split(/[\\/]/).includes("..")) throw new BuildError(`extra_files: ${pattern} must be a path inside the plugin folder`);
    const matches = globSync(pattern, { cwd: dir }).map((m) => resolve(dir, m));
    const regular = matches.filter((m) => statSync(m).isFile());
    if (regular.length === 0) throw new BuildError(`extra_files: ${pattern} matches no file`);
    for (const file of regular) {
      if (!inside(dir, file)) throw new BuildError(`extra_files: ${pattern} reaches outside the plugin folder`);
      const name = relative(dir, file).split(sep).join("/");
      if (name === "maubot.yaml" || name === BUNDLED_MAIN) throw new BuildError(`extra_files: ${name} would overwrite a generated entry`);
      files.set(name, readFileSync(file));
    }
  }
}

async function bundleMain(dir: string, manifest: SourceManifest, sourcemap: boolean): Promise<{ code: Buffer; map: Buffer | null; exports: string[]; warnings: string[] }> {
  const entry = resolve(dir, manifest.main);
  if (!inside(dir, entry)) throw new BuildError(`main ${manifest.main} is outside the plugin folder`);
  if (!existsSync(entry)) {
    throw new BuildError(`main ${manifest.main} does not exist (main is the entry source file, relative to the plugin folder, e.g. src/index.ts; the CLI bundles it)`);
  }
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [entry],
      absWorkingDir: dir,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node22",
      outfile: join(dir, ".botyard-build", BUNDLED_MAIN),
      write: false,
      metafile: true,
      sourcemap: sourcemap ? "external" : false,
      banner: { js: REQUIRE_SHIM },
      legalComments: "inline",
      logLevel: "silent",
      plugins: [sdkFallback],
      // Plugins are read in stack traces: keep names, do not minify.
      keepNames: true,
    });
  } catch (err) {
    const failure = err as esbuild.BuildFailure;
    if (Array.isArray(failure.errors)) {
      const text = await esbuild.formatMessages(failure.errors, { kind: "error", color: false });
      const native = failure.errors.some((e) => /\.node\b/.test(e.text));
      throw new BuildError(`bundling ${manifest.main} failed:\n${text.join("")}${native ? "\nNative addons (.node files) cannot be bundled into a plugin." : ""}`);
    }
    throw err;
  }
  const warnings = (await esbuild.formatMessages(result.warnings, { kind: "warning", color: false })).map((w) => w.trim());
  const js = result.outputFiles.find((f) => f.path.endsWith(BUNDLED_MAIN));
  const map = result.outputFiles.find((f) => f.path.endsWith(`${BUNDLED_MAIN}.map`));
  if (!js) throw new BuildError("esbuild produced no output");
  const meta = Object.entries(result.metafile.outputs).find(([path]) => path.endsWith(BUNDLED_MAIN));
  return { code: Buffer.from(js.contents), map: map ? Buffer.from(map.contents) : null, exports: meta?.[1].exports ?? [], warnings };
}

/**
 * One timestamp for every zip entry, so building the same sources twice gives the same bytes
 * (reproducible builds, e.g. for Nix): $SOURCE_DATE_EPOCH when set, else a fixed date.
 */
function entryTime(): Date {
  const epoch = Number(process.env["SOURCE_DATE_EPOCH"]);
  // DOS timestamps start in 1980.
  return Number.isFinite(epoch) && epoch >= 315532800 ? new Date(epoch * 1000) : new Date(Date.UTC(2000, 0, 1));
}

/** The .mbp file name of a manifest. */
export function bundleFileName(manifest: Pick<SourceManifest, "id" | "version">): string {
  return `${manifest.id}-v${manifest.version}.mbp`;
}

function outputPath(manifest: SourceManifest, output: string | undefined): string {
  const name = bundleFileName(manifest);
  if (output === undefined) return resolve(name);
  const target = resolve(output);
  // "out/" names a folder even before it exists; so does an existing folder.
  if (/[\\/]$/.test(output) || (existsSync(target) && statSync(target).isDirectory())) return join(target, name);
  return target;
}

/** Reads and validates `<dir>/maubot.yaml`. */
export function readSourceManifest(dir: string): { manifest: SourceManifest; warnings: string[] } {
  const path = join(dir, "maubot.yaml");
  if (!existsSync(path)) throw new BuildError(`${dir} has no maubot.yaml: it is not a plugin folder`);
  return validateSourceManifest(readYamlFile(path, "maubot.yaml"));
}

export async function buildPlugin(dirArg: string, options: BuildOptions = {}): Promise<BuildResult> {
  const dir = resolve(dirArg);
  const { manifest, warnings } = readSourceManifest(dir);

  const files = new Map<string, Buffer>();
  checkConfig(dir, manifest, files);
  addExtraFiles(dir, manifest.extra_files ?? [], files);

  const bundled = await bundleMain(dir, manifest, options.sourcemap ?? false);
  warnings.push(...bundled.warnings);
  const exportName = manifest.main_class ?? "default";
  if (!bundled.exports.includes(exportName)) {
    const available = bundled.exports.length > 0 ? bundled.exports.join(", ") : "nothing";
    throw new BuildError(
      manifest.main_class
        ? `main_class ${manifest.main_class} is not exported by ${manifest.main} (it exports ${available})`
        : `${manifest.main} has no default export; export the Plugin subclass as default or name it in main_class (it exports ${available})`,
    );
  }

  const built: SourceManifest = { ...manifest, main: BUNDLED_MAIN };
  const zip = new AdmZip();
  const entries: string[] = [];
  const mtime = entryTime();
  const add = (name: string, data: Buffer) => {
    zip.addFile(name, data);
    const entry = zip.getEntry(name);
    if (entry) entry.header.time = mtime;
    entries.push(name);
  };
  add("maubot.yaml", Buffer.from(YAML.stringify(built)));
  add(BUNDLED_MAIN, bundled.code);
  if (bundled.map) add(`${BUNDLED_MAIN}.map`, bundled.map);
  for (const [name, data] of files) add(name, data);

  const path = outputPath(manifest, options.output);
  mkdirSync(dirname(path), { recursive: true });
  const buffer = zip.toBuffer();
  writeFileSync(path, buffer);
  return { path, manifest, entries, bytes: buffer.byteLength, warnings };
}
