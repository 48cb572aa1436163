// pino set up for the host: every record is censored (redact.ts), then written to the console
// (pretty or JSON), an optional JSON-lines file, and the in-memory LogRing.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";
import pino from "pino";
import type { BotyardConfig } from "../config/index.js";
import { formatPretty } from "./console-format.js";
import { LogRing, toLogEntry, type LogEntry } from "./log-ring.js";
import { CENSOR, redactError, redactObject, SecretScrubber } from "./redact.js";

export type LoggingConfig = BotyardConfig["logging"];

export interface LoggingOptions {
  /** Secret values that must never appear in output (config secrets, access tokens). */
  secrets?: Iterable<string>;
  /** Where console output goes (default process.stdout); tests pass a collector. */
  console?: { write(text: string): unknown; isTTY?: boolean };
  /** Ring size (default 2048, maubot's MAX_LINES). */
  ringCapacity?: number;
}

export interface Logging {
  logger: pino.Logger;
  ring: LogRing;
  /** Adds a value to scrub from every later line (e.g. a new bot's access token). */
  addSecret(secret: string | null | undefined): void;
  /** Flushes and closes the log file; the logger must not be used afterwards. */
  close(): void;
}

/** Paths pino itself censors (cheap, before our deep pass); the deep pass catches the rest. */
const PINO_REDACT_PATHS = [
  "password",
  "access_token",
  "secret",
  "token",
  "authorization",
  "headers.authorization",
  "req.headers.authorization",
  "req.headers.cookie",
  "res.headers['set-cookie']",
];

export function createLogging(config: LoggingConfig, options: LoggingOptions = {}): Logging {
  const scrubber = new SecretScrubber();
  for (const s of options.secrets ?? []) scrubber.add(s);
  const ring = new LogRing(options.ringCapacity ?? 2048);
  const consoleOut = config.console === "off" ? undefined : (options.console ?? process.stdout);
  const color = config.console === "pretty" && Boolean(consoleOut?.isTTY) && !process.env.NO_COLOR;

  let fileFd: number | undefined;
  if (config.file) {
    mkdirSync(path.dirname(config.file), { recursive: true });
    fileFd = openSync(config.file, "a", 0o600);
  }

  // pino writes each finished line here (synchronously).
  const sink = {
    write(line: string): void {
      const clean = scrubber.scrub(line);
      if (fileFd !== undefined) writeSync(fileFd, clean);
      let entry: LogEntry;
      try {
        entry = toLogEntry(JSON.parse(clean) as Record<string, unknown>);
      } catch {
        entry = toLogEntry({ level: 30, msg: clean.trim() });
      }
      ring.push(entry);
      if (consoleOut) consoleOut.write(config.console === "json" ? clean : formatPretty(entry, color));
    },
  };

  const logger = pino(
    {
      level: config.level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.epochTime,
      redact: { paths: PINO_REDACT_PATHS, censor: CENSOR },
      serializers: { err: redactError },
      formatters: { log: redactObject, bindings: redactObject },
    },
    sink,
  );

  return {
    logger,
    ring,
    addSecret: (s) => scrubber.add(s),
    close() {
      if (fileFd !== undefined) {
        closeSync(fileFd);
        fileFd = undefined;
      }
    },
  };
}

/** The logger for one instance: named like maubot's (`instance.<id>`) with a filterable id. */
export function instanceLogger(root: pino.Logger, instanceId: string): pino.Logger {
  return root.child({ name: `instance.${instanceId}`, instance_id: instanceId });
}

/** The logger for one bot account (`client.<mxid>`). */
export function clientLogger(root: pino.Logger, clientId: string): pino.Logger {
  return root.child({ name: `client.${clientId}`, client_id: clientId });
}

/** A named component logger (`loader`, `api`, `daemon`, ...). */
export function componentLogger(root: pino.Logger, name: string): pino.Logger {
  return root.child({ name });
}
