#!/usr/bin/env node
// The `botyard` command: start the daemon, hash an admin password, create a first config.
import { parseArgs } from "node:util";
import { ConfigError, createFirstRunConfig, hashPassword, prepareServiceConfig } from "./config/index.js";
import { checkHealth, DEFAULT_HEALTH_URL } from "./health-check.js";
import { relaunchWithRuntimeFlags } from "./runtime-flags.js";
import { StartRefused } from "./startup-guard.js";
import { hostVersion } from "./version.js";

const HELP = `botyard: a daemon hosting Matrix bots as plugins (maubot-compatible management API)

Usage:
  botyard start [-c config.yaml]      run the daemon (default config: ./config.yaml)
  botyard init [-c config.yaml]       write a new config from config.example.yaml with a generated
                                      secret and admin password (printed once, stored hashed)
  botyard init --service -c config.yaml
                                      for a systemd unit's ExecStartPre: when missing, write the
                                      config with its secrets read from systemd credentials
                                      (admin-password, server-secret) and JSON logs, and on the
                                      first start copy the shipped plugin bundles into the upload
                                      folder; prints nothing secret
  botyard health [--url URL] [--attempts N] [--interval SECONDS]
                                      exit 0 when GET URL answers {"status":"ok"}; tries N times
                                      (default 3), SECONDS apart (default 10); URL defaults to
                                      ${DEFAULT_HEALTH_URL}
  botyard backup <folder> [-c ...]    copy the host database and every instance database into a
                                      new folder (consistent while the daemon runs)
  botyard restore <folder> [-c ...]   put a backup's databases in place (the daemon must be stopped)
  botyard hash-password [password]    print the bcrypt hash of a password for config.yaml's
                                      admins section (reads the password from stdin when not given)
  botyard import-maubot <maubot folder or config.yaml> [-c config.yaml] [--dry-run] [--force]
                                      move maubot's bot accounts, instances (configs and databases),
                                      homeservers and admins into botyard; maubot's files are only
                                      read; safe to run again; --dry-run writes nothing; --force
                                      writes maubot's settings into an existing botyard config
  botyard --help                      this text
  botyard --version                   the version

SIGINT or SIGTERM stops the daemon: instances, bot accounts and the API stop, databases close.
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`botyard: ${message}\n`);
  process.exit(code);
}

async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  }
  // Interactive: read one line without echoing it.
  process.stderr.write("Password: ");
  stdin.setRawMode(true);
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") {
          done();
          resolve(text);
          return;
        }
        if (ch === "\u0003") {
          done();
          reject(new Error("cancelled"));
          return;
        }
        if (ch === "\u007f") text = text.slice(0, -1);
        else text += ch;
      }
    };
    const done = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
    };
    stdin.on("data", onData);
  });
}

async function hashPasswordCommand(args: string[]): Promise<void> {
  if (args.length > 1) fail("hash-password takes at most one argument");
  const password = args[0] ?? (await readPassword());
  if (!password) fail("empty password");
  process.stdout.write(`${await hashPassword(password)}\n`);
}

async function initCommand(configPath: string): Promise<void> {
  const result = await createFirstRunConfig(configPath);
  process.stdout.write(
    `Created ${result.path}\n` +
      `Admin login: ${result.adminName} / ${result.adminPassword}\n` +
      `(shown only now; config.yaml stores its bcrypt hash)\n`,
  );
}

async function importMaubotCommand(source: string, configPath: string, flags: { dryRun: boolean; force: boolean }): Promise<void> {
  const { importMaubot, MaubotImportError } = await import("./maubot-import/maubot-import.js");
  const { formatReport } = await import("./maubot-import/report.js");
  try {
    const lines = await importMaubot({ source, configPath, ...flags });
    process.stdout.write(formatReport(lines, flags));
    if (lines.some((l) => l.outcome === "attention")) process.exitCode = 3;
  } catch (err) {
    if (err instanceof MaubotImportError || err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function initServiceCommand(configPath: string): Promise<void> {
  const result = await prepareServiceConfig(configPath);
  process.stdout.write(
    `${result.configCreated ? "Created" : "Kept"} ${result.configPath}\n` +
      (result.copiedBundles.length ? `Copied the shipped plugins: ${result.copiedBundles.join(", ")}\n` : ""),
  );
}

/** A count or duration option: a number of at least `min`. */
function numberOption(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number of at least ${min} (got ${JSON.stringify(value)})`);
  return n;
}

async function healthCommand(values: { url?: string; attempts?: string; interval?: string }): Promise<void> {
  const url = values.url ?? DEFAULT_HEALTH_URL;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) fail(`--url must be an http(s) URL (got ${JSON.stringify(url)})`);
  const result = await checkHealth({
    url,
    attempts: Math.floor(numberOption("attempts", values.attempts, 3, 1)),
    intervalMs: numberOption("interval", values.interval, 10, 0) * 1000,
    timeoutMs: 10_000,
  });
  if (result.healthy) {
    process.stdout.write(`botyard: healthy (${url}: ${result.detail})\n`);
    return;
  }
  process.stderr.write(`botyard: unhealthy after ${result.attemptsMade} attempt(s): ${url}: ${result.detail}\n`);
  process.exitCode = 1;
}

async function startCommand(configPath: string): Promise<void> {
  // The daemon's memory settings (runtime-flags.ts): relaunch with them, same pid, if missing.
  try {
    relaunchWithRuntimeFlags();
  } catch (err) {
    fail((err as Error).message); // BOTYARD_NODE_FLAGS holds a word that is not a flag
  }
  // Loaded here so `--help` and `hash-password` do not load the whole host.
  const { Daemon } = await import("./daemon.js");
  const { DamagedDatabaseError } = await import("./store/integrity.js");
  const daemon = new Daemon({ configPath });
  let stoppingSince = 0;
  const shutdown = (signal: string) => {
    if (stoppingSince) {
      // `npm start` passes signals on, so the terminal's Ctrl-C may arrive twice at once;
      // only a deliberate second signal means "exit now".
      if (Date.now() - stoppingSince < 2_000) return;
      process.stderr.write(`botyard: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stoppingSince = Date.now();
    // Daemon.stop() bounds every step; this is the last resort if something still hangs.
    setTimeout(() => {
      process.stderr.write("botyard: shutdown took longer than 5 s, exiting\n");
      process.exit(1);
    }, 5_000).unref();
    daemon.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`botyard: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // A stray rejection in library code (a Matrix request nobody awaited) is logged, not fatal:
  // plugins run in workers, and one lost promise must not take every bot down.
  process.on("unhandledRejection", (reason) => {
    const log = daemon.logging?.logger;
    if (log) log.error({ err: reason }, "unhandled promise rejection");
    else process.stderr.write(`botyard: unhandled promise rejection: ${String(reason)}\n`);
  });
  // An exception that unwound the stack leaves the host in an unknown state: stop and exit 1.
  process.on("uncaughtException", (err) => {
    const log = daemon.logging?.logger;
    if (log) log.fatal({ err }, "uncaught exception; stopping");
    else process.stderr.write(`botyard: uncaught exception: ${err.stack ?? err.message}\n`);
    setTimeout(() => process.exit(1), 5_000).unref();
    daemon.stop().finally(() => process.exit(1));
  });
  try {
    await daemon.start();
  } catch (err) {
    await daemon.stop().catch(() => undefined);
    if (err instanceof ConfigError) fail(err.message);
    if (err instanceof StartRefused) fail(err.message, 1);
    if (err instanceof DamagedDatabaseError) fail(err.message, 1);
    fail(`could not start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1);
  }
}

async function main(argv: string[]): Promise<void> {
  // better-sqlite3 13 and matrix-js-sdk need Node 22; on older versions the native module
  // crashes with a segfault instead of an error, so say it first.
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 22) fail(`botyard needs Node.js 22 or newer; this is ${process.version}`, 1);
  // Every file botyard makes (databases with the bots' access tokens and their -wal/-shm, bundles,
  // trash, logs, backups, a first config) is the user's alone, whoever creates it: SQLite, a
  // plugin worker or the host. Folders come out 0700 and files 0600.
  process.umask(0o077);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: "string", short: "c" },
        service: { type: "boolean" },
        url: { type: "string" },
        attempts: { type: "string" },
        interval: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
        "dry-run": { type: "boolean" },
        force: { type: "boolean" },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${HELP}`);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`botyard ${hostVersion()}\n`);
    return;
  }
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") {
    process.stdout.write(HELP);
    if (command === undefined && !values.help) process.exitCode = 2;
    return;
  }
  const configPath = values.config ?? "config.yaml";
  switch (command) {
    case "start":
      if (rest.length) fail(`start takes no arguments (got ${rest.join(" ")})`);
      await startCommand(configPath);
      return;
    case "init":
      if (values.service) {
        await initServiceCommand(configPath).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
        return;
      }
      await initCommand(configPath).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
      return;
    case "health":
      if (rest.length) fail(`health takes no arguments (got ${rest.join(" ")})`);
      await healthCommand(values);
      return;
    case "backup":
    case "restore": {
      if (rest.length !== 1) fail(`${command} takes one argument, the backup folder`);
      // Loaded here, as the daemon: `--help` does not load the database modules.
      const { backupCommand, restoreCommand } = await import("./backup-commands.js");
      const run = command === "backup" ? backupCommand : restoreCommand;
      const message = await run(configPath, rest[0]!).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err), 1));
      process.stdout.write(`${message}\n`);
      return;
    }
    case "hash-password":
      await hashPasswordCommand(rest);
      return;
    case "import-maubot":
      if (rest.length !== 1) fail("import-maubot takes one argument: maubot's data folder or its config.yaml");
      await importMaubotCommand(rest[0]!, configPath, { dryRun: values["dry-run"] ?? false, force: values.force ?? false });
      return;
    default:
      fail(`unknown command "${command}"\n\n${HELP}`);
  }
}

await main(process.argv.slice(2));
