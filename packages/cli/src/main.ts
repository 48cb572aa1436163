#!/usr/bin/env node
// botyard-cli: the plugin developer tool (maubot's mbc): init, build, login, upload, logs.

import { parseArgs } from "node:util";
import { BuildError, buildPlugin } from "./build.js";
import { ManifestError } from "./manifest.js";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { CliConfigFile, normalizeServer } from "./cli-config.js";
import { initPlugin, type InitOptions } from "./init.js";
import { followLogs, formatRecord } from "./log-stream.js";
import { login, uploadPlugin } from "./management-api.js";

const USAGE = `Usage: botyard-cli <command> [options]

Commands:
  init [dir]             Start a new plugin in dir (default: .)
                         --id ID --class Name --version 0.1.0 --license SPDX
                         --config (add base-config.yaml + schema) --database (add a migration)
  build [dir] [-o out]   Bundle the plugin folder (default: .) into <id>-v<version>.mbp
                         -o, --output FILE|DIR   where to write it (default: current directory)
                         --sourcemap             add plugin.mjs.map to the bundle
                         -u, --upload            upload it too (to -s SERVER or the default server)
  login [-s URL] [-u user] [-p pass] [-a alias]
                         Log in to a botyard (default http://localhost:29316) and keep the
                         token in ~/.config/botyard-cli.json ($BOTYARD_CLI_CONFIG overrides);
                         the password is read from $BOTYARD_PASSWORD or asked for when not given
  upload FILE [-s URL|alias]
                         Upload an .mbp, replacing the loaded version of that plugin
  logs [URL|alias] [-t N] [--history]
                         Show the last N log records (default 10), then follow new ones;
                         --history stops after the last N
  help                   Show this text
`;

async function build(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      sourcemap: { type: "boolean" },
      upload: { type: "boolean", short: "u" },
      server: { type: "string", short: "s" },
    },
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
    if (values.upload) return upload([result.path, ...(values.server ? ["-s", values.server] : [])]);
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
    process.stdout.write(`Created ${result.files.join(", ")} in ${result.dir}\nNext: botyard-cli build ${positionals[0] ?? "."} (it bundles the @botyard/sdk that comes with botyard-cli; npm install only the packages you add)\n`);
    return 0;
  } catch (err) {
    if (err instanceof BuildError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function fail(err: unknown): number {
  // ApiCallError included: it is an Error.
  if (err instanceof Error) {
    process.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
  throw err;
}

async function ask(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new Error(`${question.replace(/: $/, "")} is needed (give it as a flag)`);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

async function loginCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      server: { type: "string", short: "s" },
      username: { type: "string", short: "u" },
      password: { type: "string", short: "p" },
      alias: { type: "string", short: "a" },
    },
  });
  try {
    const server = normalizeServer(values.server ?? "http://localhost:29316");
    const username = values.username ?? (await ask("Username: "));
    const password = values.password ?? process.env["BOTYARD_PASSWORD"] ?? (await ask("Password: "));
    const token = await login(server, username, password);
    const file = new CliConfigFile();
    file.saveLogin(server, token, values.alias);
    process.stdout.write(`Logged in to ${server} as ${username}; token kept in ${file.path}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}

async function upload(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { server: { type: "string", short: "s" } } });
  if (positionals.length !== 1) {
    process.stderr.write("upload takes one .mbp file\n");
    return 2;
  }
  try {
    const { server, token } = new CliConfigFile().resolve(values.server);
    const { plugin, created } = await uploadPlugin(server, token, readFileSync(positionals[0]!));
    process.stdout.write(`${created ? "Uploaded" : "Replaced"} ${plugin.id} v${plugin.version} on ${server}\n`);
    return 0;
  } catch (err) {
    return fail(err);
  }
}

async function logs(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { tail: { type: "string", short: "t" }, history: { type: "boolean" } },
  });
  const tail = values.tail === undefined ? 10 : Number(values.tail);
  if (!Number.isInteger(tail) || tail < 0) {
    process.stderr.write(`-t wants a count, got ${values.tail}\n`);
    return 2;
  }
  try {
    const { server, token } = new CliConfigFile().resolve(positionals[0]);
    const stop = new AbortController();
    process.once("SIGINT", () => stop.abort());
    await followLogs(server, token, {
      tail,
      historyOnly: values.history ?? false,
      signal: stop.signal,
      onRecord: (r) => process.stdout.write(`${formatRecord(r)}\n`),
    });
    return 0;
  } catch (err) {
    return fail(err);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "build":
      return build(rest);
    case "init":
      return init(rest);
    case "login":
      return loginCommand(rest);
    case "upload":
      return upload(rest);
    case "logs":
      return logs(rest);
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
    // A mistyped option (node:util parseArgs) is the user's, not a crash: say so with the usage.
    if (err instanceof Error && String((err as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS_")) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
