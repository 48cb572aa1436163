// JSON Schema of config.yaml as written by the operator (before secrets and paths are resolved).
// Every object is closed (additionalProperties: false) so a misspelt key is an error, not a
// silently ignored setting.

export const API_FEATURES = [
  "login",
  "plugin",
  "plugin_upload",
  "instance",
  "instance_database",
  "client",
  "client_proxy",
  "client_auth",
  "dev_open",
  "log",
] as const;
export type ApiFeature = (typeof API_FEATURES)[number];

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A secret given inline, as a file, or as a systemd credential name. */
const secretSchema = {
  description: "a string, {file: <path>} or {credential: <name>}",
  anyOf: [
    { type: "string" },
    {
      type: "object",
      properties: { file: { type: "string", minLength: 1 } },
      required: ["file"],
      additionalProperties: false,
    },
    {
      type: "object",
      properties: { credential: { type: "string", pattern: "^[^/]+$" } },
      required: ["credential"],
      additionalProperties: false,
    },
  ],
} as const;

const optionalSecretSchema = {
  description: "null, a string, {file: <path>} or {credential: <name>}",
  anyOf: [{ type: "null" }, ...secretSchema.anyOf],
} as const;

/** How long an idle /sync waits at the homeserver by default (matrix/long-poll.ts says why). */
export const DEFAULT_LONG_POLL_SECONDS = 55;

/** Python logging's dictConfig keys: a maubot config's `logging` section holds these. */
export const DICT_CONFIG_KEYS = ["version", "formatters", "filters", "handlers", "loggers", "root", "incremental", "disable_existing_loggers"] as const;

export const configSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    database: { type: "string", minLength: 1, default: "./botyard.db" },
    // maubot's settings botyard has no use for: accepted so a maubot config loads as it is, and
    // named once at start as ignored (config/maubot-keys.ts says why for each).
    crypto_database: { anyOf: [{ type: "null" }, { type: "string" }, { type: "object" }] },
    database_opts: { type: ["object", "null"] },
    plugin_directories: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        upload: { type: "string", minLength: 1, default: "./plugins" },
        load: { type: "array", items: { type: "string", minLength: 1 }, default: ["./plugins"] },
        trash: { type: "string", minLength: 1, default: "./trash" },
      },
    },
    plugin_databases: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        sqlite: { type: "string", minLength: 1, default: "./databases" },
        postgres: { type: ["string", "null"] },
        postgres_max_conns_per_plugin: { type: ["integer", "null"] },
        postgres_opts: { type: ["object", "null"] },
      },
    },
    server: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        hostname: { type: "string", minLength: 1, default: "127.0.0.1" },
        port: { type: "integer", minimum: 0, maximum: 65535, default: 29316 },
        public_url: { type: "string", pattern: "^https?://", default: "http://127.0.0.1:29316" },
        ui_base_path: { type: "string", pattern: "^/", default: "/_matrix/maubot" },
        plugin_base_path: { type: "string", pattern: "^/.*/$", default: "/_matrix/maubot/plugin/" },
        override_resource_path: { type: ["string", "boolean", "null"] },
        listen: { type: ["string", "null"] },
        unshared_secret: { ...secretSchema, default: "generate" },
        token_expiry: {
          description: "a number of seconds or a duration like 12h or 7d",
          anyOf: [
            { type: "integer", minimum: 1 },
            { type: "string", pattern: "^[0-9]+[smhd]?$" },
          ],
          default: "7d",
        },
        trusted_proxies: {
          description: "addresses or CIDR ranges (or loopback, linklocal, uniquelocal) whose X-Forwarded-For is believed",
          type: "array",
          items: { type: "string", minLength: 1, maxLength: 64 },
          maxItems: 100,
          default: [],
        },
      },
    },
    homeservers: {
      type: "object",
      default: {},
      additionalProperties: {
        type: "object",
        additionalProperties: false,
        required: ["url"],
        properties: {
          url: { type: "string", pattern: "^https?://" },
          secret: { ...optionalSecretSchema, default: null },
          registration_token: { ...optionalSecretSchema, default: null },
        },
      },
    },
    admins: {
      type: "object",
      default: {},
      propertyNames: { pattern: "^[^\\s]+$" },
      additionalProperties: secretSchema,
    },
    api_features: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: Object.fromEntries(API_FEATURES.map((f) => [f, { type: "boolean", default: true }])),
    },
    logging: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        level: { enum: [...LOG_LEVELS], default: "info" },
        console: { enum: ["pretty", "json", "off"], default: "pretty" },
        file: { type: ["string", "null"], minLength: 1, default: null },
        ...Object.fromEntries(DICT_CONFIG_KEYS.map((k) => [k, {}])),
      },
    },
    metrics: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: "boolean", default: false },
        path: { type: "string", pattern: "^/", default: "/metrics" },
        listen: {
          description: "null (the management API's address) or host:port of a listener of its own",
          anyOf: [{ type: "null" }, { type: "string", pattern: "^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):[0-9]{1,5}$" }],
          default: null,
        },
        secret: { ...optionalSecretSchema, default: null },
      },
    },
    workers: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        max_memory_mb: { type: "integer", minimum: 32, maximum: 1_048_576, default: 512 },
        max_web_response_mb: { type: "integer", minimum: 1, maximum: 4096, default: 16 },
      },
    },
    sync: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        long_poll_seconds: { type: "integer", minimum: 5, maximum: 300, default: DEFAULT_LONG_POLL_SECONDS },
      },
    },
    encryption: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        enabled: { type: "boolean", default: true },
        store: { type: "string", minLength: 1, default: "./crypto" },
      },
    },
    // maubot's setting, used: the key the crypto stores are encrypted with.
    crypto_db_pickle_key: { ...optionalSecretSchema, default: null },
    admin_room: {
      description: "null or {room_id: !room:server, client: @bot:server}",
      default: null,
      anyOf: [
        { type: "null" },
        {
          type: "object",
          additionalProperties: false,
          required: ["room_id", "client"],
          properties: {
            room_id: { type: "string", pattern: "^!.+:.+$" },
            client: { type: "string", pattern: "^@.+:.+$" },
          },
        },
      ],
    },
  },
} as const;
