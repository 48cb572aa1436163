// `botyard-cli init`: a new plugin folder (maubot's `mbc init`), ready for `botyard-cli build`.
// Non-interactive: everything comes from flags with sensible defaults.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import YAML from "yaml";
import { BuildError } from "./build.js";
import { ID_PATTERN, SEMVER_PATTERN } from "./manifest.js";

export interface InitOptions {
  /** Reverse-DNS plugin id; default `org.example.<folder name>`. */
  id?: string;
  /** Class name of the plugin; default from the folder name (`my-bot` → `MyBotPlugin`). */
  className?: string;
  version?: string;
  license?: string;
  /** Add base-config.yaml and a config schema. */
  config?: boolean;
  /** Add `database: true` and a first migration. */
  database?: boolean;
}

export interface InitResult {
  dir: string;
  files: string[];
}

function className(folder: string): string {
  const words = folder.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const name = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("") || "My";
  return /^[0-9]/.test(name) ? `P${name}Plugin` : `${name}Plugin`;
}

function source(cls: string, config: boolean, database: boolean): string {
  const imports = ["Plugin", "arg", ...(database ? ["UpgradeTable"] : [])].join(", ");
  const configType = config ? `\nexport interface Config {\n  greeting: string;\n}\n` : "";
  const generic = config ? "<Config>" : "";
  const greeting = config ? "${this.config.greeting}" : "Hello";
  const migrations = database
    ? `
  override dbMigrations(): UpgradeTable {
    return new UpgradeTable().register("create greeted", (db) => {
      db.exec("CREATE TABLE greeted (user_id TEXT PRIMARY KEY, times INTEGER NOT NULL)");
    });
  }
`
    : "";
  const count = database
    ? `
        this.db
          .prepare("INSERT INTO greeted (user_id, times) VALUES (?, 1) ON CONFLICT (user_id) DO UPDATE SET times = times + 1")
          .run(ctx.sender);`
    : "";
  return `import { ${imports} } from "@botyard/sdk";
${configType}
export class ${cls} extends Plugin${generic} {${migrations}
  override setup(): void {
    this.command({
      name: "hello",
      help: "Say hello",
      args: [arg.word("name", { optional: true })],
      handler: async (ctx, args) => {${count}
        await ctx.reply(\`${greeting}, \${args.name ?? ctx.sender}!\`);
      },
    });
  }
}
`;
}

export function initPlugin(dirArg: string, options: InitOptions = {}): InitResult {
  const dir = resolve(dirArg);
  if (existsSync(join(dir, "maubot.yaml"))) throw new BuildError(`${dir} already has a maubot.yaml`);
  if (existsSync(dir) && readdirSync(dir).some((f) => ["src", "package.json"].includes(f))) {
    throw new BuildError(`${dir} already has a src/ or package.json; init writes a new plugin into an empty folder`);
  }
  const folder = basename(dir).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+/, "") || "plugin";
  const id = options.id ?? `org.example.${folder}`;
  const version = options.version ?? "0.1.0";
  const cls = options.className ?? className(folder);
  if (!new RegExp(ID_PATTERN).test(id)) throw new BuildError(`id ${id} must be lower-case reverse-DNS, e.g. org.example.${folder}`);
  if (!new RegExp(SEMVER_PATTERN).test(version)) throw new BuildError(`version ${version} must be a semantic version such as 0.1.0`);
  if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(cls)) throw new BuildError(`class name ${cls} is not a JavaScript identifier`);
  const config = options.config ?? false;
  const database = options.database ?? false;

  const manifest: Record<string, unknown> = {
    id,
    version,
    license: options.license ?? "AGPL-3.0-or-later",
    main: "src/index.ts",
    main_class: cls,
    config,
    ...(config ? { config_schema: "config-schema.json" } : {}),
    database,
    webapp: false,
  };
  const files: Record<string, string> = {
    "maubot.yaml": YAML.stringify(manifest),
    "package.json": `${JSON.stringify(
      {
        name: folder,
        version,
        private: true,
        type: "module",
        license: manifest["license"],
        // botyard-cli bundles the @botyard/sdk it comes with (the SDK is not on a registry),
        // so nothing here needs installing; npm dependencies the plugin adds are bundled too.
        scripts: { build: "botyard-cli build ." },
      },
      null,
      2,
    )}\n`,
    "tsconfig.json": `${JSON.stringify(
      { compilerOptions: { target: "ES2023", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true }, include: ["src"] },
      null,
      2,
    )}\n`,
    "src/index.ts": source(cls, config, database),
  };
  if (config) {
    files["base-config.yaml"] = '# How the bot greets.\ngreeting: "Hello"\n';
    files["config-schema.json"] = `${JSON.stringify(
      { type: "object", properties: { greeting: { type: "string", minLength: 1 } }, required: ["greeting"], additionalProperties: false },
      null,
      2,
    )}\n`;
  }
  mkdirSync(join(dir, "src"), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, files: Object.keys(files) };
}
