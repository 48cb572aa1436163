#!/usr/bin/env node
// botyard-cli: the plugin developer tool (maubot's mbc): init and build so far.

import { parseArgs } from "node:util";
import { BuildError, ManifestError, buildPlugin } from "./build.js";
import { initPlugin, type InitOptions } from "./init.js";

const USAGE = `Usage: botyard-cli <command> [options]

Commands:
  init [dir]             Start a new plugin in dir (default: .)
                         --id ID --class Name --version 0.1.0 --license SPDX
                         --config (add base-config.yaml + schema) --database (add a migration)
  build [dir] [-o out]   Bundle the plugin folder (default: .) into <id>-v<version>.mbp
                         -o, --output FILE|DIR   where to write it (default: current directory)
                         --sourcemap             add plugin.mjs.map to the bundle
  help                   Show this text
`;

async function build(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { output: { type: "string", short: "o" }, sourcemap: { type: "boolean" } },
  });
  if (positionals.length > 1) {
    process.stderr.write(`build takes one folder, got ${positionals.length}\n`);
    return 2;
  }
  try {
    const options: { output?: string; sourcemap?: boolean } = {};
    if (values.output !== undefined) options.output = values.output;
    if (values.sourcemap) options.sourcemap = true;
    const result = await buildPlugin(positionals[0] ?? ".", options);
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`Built ${result.manifest.id} v${result.manifest.version} → ${result.path} (${(result.bytes / 1024).toFixed(1)} KiB)\n`);
    return 0;
  } catch (err) {
    if (err instanceof BuildError || err instanceof ManifestError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function init(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      id: { type: "string" },
      class: { type: "string" },
      version: { type: "string" },
      license: { type: "string" },
      config: { type: "boolean" },
      database: { type: "boolean" },
    },
  });
  const options: InitOptions = { config: values.config ?? false, database: values.database ?? false };
  if (values.id !== undefined) options.id = values.id;
  if (values.class !== undefined) options.className = values.class;
  if (values.version !== undefined) options.version = values.version;
  if (values.license !== undefined) options.license = values.license;
  try {
    const result = initPlugin(positionals[0] ?? ".", options);
    process.stdout.write(`Created ${result.files.join(", ")} in ${result.dir}\nNext: npm install, then botyard-cli build ${positionals[0] ?? "."}\n`);
    return 0;
  } catch (err) {
    if (err instanceof BuildError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "build":
      return build(rest);
    case "init":
      return init(rest);
    case undefined:
    case "help":
    case "-h":
    case "--help":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
