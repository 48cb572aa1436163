// Keeps secrets out of log output, in two layers:
//  1. by key: any field whose name looks secret (password, token, secret, authorization, ...) is
//     replaced at any depth of the logged object, including inside errors and their causes;
//  2. by value: every known secret (config secrets, bot access tokens) and the shapes of
//     credentials in secret-patterns.ts (Bearer headers, access_token= query parameters, Matrix
//     tokens, ...) are cut out of the finished line, which also catches secrets inside messages
//     and stack traces.
import pino from "pino";
import { CENSOR, scrubSecretText } from "./secret-patterns.js";

export { CENSOR } from "./secret-patterns.js";

const SECRET_KEY = /(pass(word|wd)?|secret|token|authori[sz]ation|cookie|api[-_]?key|credential|private[-_]?key)/i;
const MAX_DEPTH = 10;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy of `value` with secret-looking keys censored and errors turned into plain objects. */
export function redactDeep(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[Circular]";
  if (depth >= MAX_DEPTH) return "[Object]";
  if (value instanceof Date) return value;
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  seen.add(value);
  try {
    if (value instanceof Error) return redactDeep(pino.stdSerializers.err(value), depth, seen);
    if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
    if (value instanceof Map) return redactDeep(Object.fromEntries(value), depth, seen);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== undefined && typeof v !== "boolean" ? CENSOR : redactDeep(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** pino `formatters.log` / `formatters.bindings`: censor the whole merging object. */
export function redactObject(obj: Record<string, unknown>): Record<string, unknown> {
  return redactDeep(obj) as Record<string, unknown>;
}

/** pino serializer for `err`: the standard one, then censored. */
export function redactError(err: unknown): unknown {
  return redactDeep(err instanceof Error ? pino.stdSerializers.err(err) : err);
}

/** Cuts known secret values and credential shapes out of serialized log lines. */
export class SecretScrubber {
  private readonly values = new Set<string>();
  private forms: string[] = [];

  /** Secrets shorter than this are not scrubbed by value: they would mangle ordinary text. */
  static readonly MIN_LENGTH = 6;

  add(secret: string | null | undefined): void {
    if (!secret || secret.length < SecretScrubber.MIN_LENGTH || this.values.has(secret)) return;
    this.values.add(secret);
    // The line is JSON, so a secret with quotes or backslashes appears escaped.
    const escaped = JSON.stringify(secret).slice(1, -1);
    const forms = new Set([secret, escaped, JSON.stringify(escaped).slice(1, -1)]);
    this.forms.push(...forms);
    // Longest first, so a secret containing another is removed whole.
    this.forms.sort((a, b) => b.length - a.length);
  }

  scrub(line: string): string {
    let out = line;
    for (const form of this.forms) {
      if (out.includes(form)) out = out.split(form).join(CENSOR);
    }
    return scrubSecretText(out);
  }
}
