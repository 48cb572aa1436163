// Settings of maubot's config.yaml that botyard accepts so a maubot config loads as it is
// (reference/maubot-survey.md §6), and what becomes of each: used where botyard has the
// setting, otherwise named once at start as ignored, with the reason.
import { DICT_CONFIG_KEYS, type LogLevel } from "./schema.js";
import type { ConfigNote } from "./types.js";

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

interface IgnoredKey {
  path: string[];
  /** Only a value that would change something is worth a note (maubot writes these defaults). */
  matters(value: unknown): boolean;
  why: string;
}

const IGNORED: readonly IgnoredKey[] = [
  {
    path: ["crypto_database"],
    matters: (v) => v !== null && v !== undefined && v !== "default",
    why: "botyard keeps no separate crypto database",
  },
  { path: ["database_opts"], matters: (v) => v !== null && v !== undefined, why: "botyard opens its SQLite database itself (no connection pool)" },
  {
    path: ["plugin_databases", "postgres"],
    matters: (v) => v !== null && v !== undefined && v !== "",
    why: "plugin databases are always SQLite files under plugin_databases.sqlite",
  },
  { path: ["plugin_databases", "postgres_max_conns_per_plugin"], matters: () => false, why: "plugin databases are SQLite" },
  { path: ["plugin_databases", "postgres_opts"], matters: () => false, why: "plugin databases are SQLite" },
  {
    path: ["server", "override_resource_path"],
    matters: (v) => v !== null && v !== undefined && v !== false,
    why: "botyard serves its own web admin page",
  },
  { path: ["server", "listen"], matters: (v) => v !== null && v !== undefined, why: "maubot never used it; botyard listens on server.hostname and server.port" },
];

const PYTHON_LEVELS: Record<string, LogLevel> = {
  NOTSET: "trace",
  DEBUG: "debug",
  INFO: "info",
  WARN: "warn",
  WARNING: "warn",
  ERROR: "error",
  CRITICAL: "fatal",
  FATAL: "fatal",
};

function valueAt(data: Mapping, path: string[]): unknown {
  let node: unknown = data;
  for (const key of path) {
    if (!isMapping(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Notes for the maubot-only settings in `data` (the config as written, defaults not yet applied). */
export function maubotKeyNotes(data: unknown): ConfigNote[] {
  if (!isMapping(data)) return [];
  const notes: ConfigNote[] = [];
  for (const key of IGNORED) {
    const value = valueAt(data, key.path);
    if (key.matters(value)) notes.push({ level: "info", message: `ignoring maubot setting ${key.path.join(".")}: ${key.why}` });
  }
  if (/^sqlite:/.test(String(data.database ?? ""))) {
    notes.push({ level: "info", message: `database: reading maubot's "${String(data.database)}" as the SQLite file path` });
  }
  const logging = data.logging;
  if (isMapping(logging) && DICT_CONFIG_KEYS.some((k) => Object.hasOwn(logging, k))) {
    const level = dictConfigLevel(logging);
    notes.push({
      level: "info",
      message:
        `logging: maubot's Python logging setup is not used${level ? `; its root level becomes logging.level ${level}` : ""}. ` +
        "botyard logs to the console (logging.console) and optionally a JSON-lines file (logging.file)",
    });
  }
  return notes;
}

/** The botyard level of a dictConfig's root logger, or null when it names none botyard knows. */
export function dictConfigLevel(logging: Mapping): LogLevel | null {
  const root = logging.root;
  if (!isMapping(root) || typeof root.level !== "string") return null;
  return PYTHON_LEVELS[root.level.toUpperCase()] ?? null;
}
