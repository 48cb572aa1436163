// Typed command arguments. Each builder returns a small parser object whose type carries the
// argument's name and value type, so `this.command({ args: [arg.word("name"), arg.integer("n")],
// handler(ctx, args) {...} })` gives `args: { name: string; n: number }` without decorators.

/** What an argument parser returns: the value and the text it did not consume. */
export type ArgParseResult<V> = { ok: true; value: V; rest: string } | { ok: false; reason: string };

export interface Arg<N extends string = string, V = unknown> {
  readonly name: N;
  /** Shown in usage: `<label>` when required, `[label]` when optional. */
  readonly label: string;
  readonly required: boolean;
  /** True for an argument that takes the rest of the line; it must be the last one. */
  readonly consumesRest: boolean;
  /** Parses from the start of `text` (already left-trimmed, never empty). */
  parse(text: string): ArgParseResult<V>;
}

/** `{ name: value }` for a list of arguments; optional ones may be undefined. */
export type ArgsOf<A extends readonly Arg[]> = {
  [K in A[number] as K["name"]]: K extends Arg<string, infer V> ? V : never;
};

interface ArgOptions {
  /** Shown in the usage instead of the name. */
  label?: string;
}
interface OptionalArg {
  optional: true;
}

type Parser<V> = (text: string) => ArgParseResult<V>;

function makeArg<N extends string, V>(
  name: N,
  options: (ArgOptions & Partial<OptionalArg>) | undefined,
  parse: Parser<V>,
  consumesRest = false,
): Arg<N, V> {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new Error(`invalid argument name ${JSON.stringify(name)}`);
  return {
    name,
    label: options?.label ?? name,
    required: options?.optional !== true,
    consumesRest,
    parse,
  };
}

/** Splits one whitespace-delimited token off the front. */
export function takeWord(text: string): { token: string; rest: string } {
  const match = /^(\S+)\s*/.exec(text);
  if (!match) return { token: "", rest: text };
  return { token: match[1]!, rest: text.slice(match[0].length) };
}

/** One token, or a "double" / 'single' quoted string with backslash escapes. */
function takeString(text: string): ArgParseResult<string> {
  const quote = text[0];
  if (quote !== '"' && quote !== "'") {
    const { token, rest } = takeWord(text);
    return { ok: true, value: token, rest };
  }
  let value = "";
  for (let i = 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\\" && i + 1 < text.length) {
      value += text[++i];
    } else if (ch === quote) {
      const after = text.slice(i + 1);
      if (after !== "" && !/^\s/.test(after)) return { ok: false, reason: "text right after a closing quote" };
      return { ok: true, value, rest: after.trimStart() };
    } else {
      value += ch;
    }
  }
  return { ok: false, reason: "unterminated quote" };
}

function word<N extends string>(name: N, options?: ArgOptions): Arg<N, string>;
function word<N extends string>(name: N, options: ArgOptions & OptionalArg): Arg<N, string | undefined>;
function word<N extends string>(name: N, options?: ArgOptions & Partial<OptionalArg>): Arg<N, string | undefined> {
  return makeArg(name, options, (text) => {
    const { token, rest } = takeWord(text);
    return { ok: true, value: token, rest };
  });
}

function string<N extends string>(name: N, options?: ArgOptions): Arg<N, string>;
function string<N extends string>(name: N, options: ArgOptions & OptionalArg): Arg<N, string | undefined>;
function string<N extends string>(name: N, options?: ArgOptions & Partial<OptionalArg>): Arg<N, string | undefined> {
  return makeArg(name, options, takeString);
}

interface RangeOptions extends ArgOptions {
  min?: number;
  max?: number;
}

function numeric(kind: "integer" | "number", options: RangeOptions | undefined): Parser<number> {
  const pattern = kind === "integer" ? /^[-+]?\d+$/ : /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  return (text) => {
    const { token, rest } = takeWord(text);
    if (!pattern.test(token)) return { ok: false, reason: `${JSON.stringify(token)} is not ${kind === "integer" ? "an integer" : "a number"}` };
    const value = Number(token);
    if (kind === "integer" && !Number.isSafeInteger(value)) return { ok: false, reason: `${token} is too large` };
    if (options?.min !== undefined && value < options.min) return { ok: false, reason: `${token} is below ${options.min}` };
    if (options?.max !== undefined && value > options.max) return { ok: false, reason: `${token} is above ${options.max}` };
    return { ok: true, value, rest };
  };
}

function integer<N extends string>(name: N, options?: RangeOptions): Arg<N, number>;
function integer<N extends string>(name: N, options: RangeOptions & OptionalArg): Arg<N, number | undefined>;
function integer<N extends string>(name: N, options?: RangeOptions & Partial<OptionalArg>): Arg<N, number | undefined> {
  return makeArg(name, options, numeric("integer", options));
}

function number<N extends string>(name: N, options?: RangeOptions): Arg<N, number>;
function number<N extends string>(name: N, options: RangeOptions & OptionalArg): Arg<N, number | undefined>;
function number<N extends string>(name: N, options?: RangeOptions & Partial<OptionalArg>): Arg<N, number | undefined> {
  return makeArg(name, options, numeric("number", options));
}

/** The rest of the line, trimmed (may contain spaces and newlines). Must be the last argument. */
function rest<N extends string>(name: N, options?: ArgOptions): Arg<N, string>;
function rest<N extends string>(name: N, options: ArgOptions & OptionalArg): Arg<N, string | undefined>;
function rest<N extends string>(name: N, options?: ArgOptions & Partial<OptionalArg>): Arg<N, string | undefined> {
  return makeArg(name, options, (text) => ({ ok: true, value: text.trim(), rest: "" }), true);
}

/**
 * Text matching `pattern` at the start of the remaining input; the value is the match (groups
 * included). The match must end at a word boundary (end of input or whitespace).
 */
function regex<N extends string>(name: N, pattern: RegExp, options?: ArgOptions): Arg<N, RegExpExecArray>;
function regex<N extends string>(name: N, pattern: RegExp, options: ArgOptions & OptionalArg): Arg<N, RegExpExecArray | undefined>;
function regex<N extends string>(name: N, pattern: RegExp, options?: ArgOptions & Partial<OptionalArg>): Arg<N, RegExpExecArray | undefined> {
  // Sticky so the match is anchored where parsing stands, whatever the author wrote.
  const flags = pattern.flags.replace(/[gy]/g, "") + "y";
  const sticky = new RegExp(pattern.source, flags);
  return makeArg(name, options, (text) => {
    sticky.lastIndex = 0;
    const match = sticky.exec(text);
    if (!match) return { ok: false, reason: `does not match ${pattern.source}` };
    const after = text.slice(match[0].length);
    if (after !== "" && !/^\s/.test(after)) return { ok: false, reason: `does not match ${pattern.source}` };
    return { ok: true, value: match, rest: after.trimStart() };
  });
}

/** One of a fixed set of words (compared case-insensitively; the value is the listed spelling). */
function choice<N extends string, C extends string>(name: N, choices: readonly C[], options?: ArgOptions): Arg<N, C>;
function choice<N extends string, C extends string>(name: N, choices: readonly C[], options: ArgOptions & OptionalArg): Arg<N, C | undefined>;
function choice<N extends string, C extends string>(name: N, choices: readonly C[], options?: ArgOptions & Partial<OptionalArg>): Arg<N, C | undefined> {
  const label = options?.label ?? choices.join("|");
  return makeArg(name, { ...options, label }, (text) => {
    const { token, rest: after } = takeWord(text);
    const found = choices.find((c) => c.toLowerCase() === token.toLowerCase());
    if (found === undefined) return { ok: false, reason: `${JSON.stringify(token)} is not one of ${choices.join(", ")}` };
    return { ok: true, value: found, rest: after };
  });
}

/** An absolute http(s) URL (one token; `<...>` around it, as some clients add, is removed). */
function url<N extends string>(name: N, options?: ArgOptions): Arg<N, URL>;
function url<N extends string>(name: N, options: ArgOptions & OptionalArg): Arg<N, URL | undefined>;
function url<N extends string>(name: N, options?: ArgOptions & Partial<OptionalArg>): Arg<N, URL | undefined> {
  return makeArg(name, options, (text) => {
    const { token, rest: after } = takeWord(text);
    const raw = token.startsWith("<") && token.endsWith(">") ? token.slice(1, -1) : token;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return { ok: false, reason: `${JSON.stringify(raw)} is not a URL` };
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return { ok: false, reason: `${JSON.stringify(raw)} is not an http(s) URL` };
    return { ok: true, value: parsed, rest: after };
  });
}

/** Argument builders for `command({ args: [...] })`. */
export const arg = { word, string, integer, number, rest, regex, choice, url };

/** Parses `text` against `args`; the leftover text must be empty. */
export function parseArgs(
  args: readonly Arg[],
  text: string,
): { ok: true; values: Record<string, unknown> } | { ok: false; reason: string } {
  const values: Record<string, unknown> = {};
  let remaining = text.trim();
  for (const a of args) {
    if (remaining === "") {
      if (a.required) return { ok: false, reason: `missing <${a.label}>` };
      values[a.name] = undefined;
      continue;
    }
    const result = a.parse(remaining);
    if (!result.ok) return { ok: false, reason: `<${a.label}>: ${result.reason}` };
    values[a.name] = result.value;
    remaining = result.rest.trimStart();
  }
  if (remaining !== "") return { ok: false, reason: `unexpected ${JSON.stringify(remaining.length > 40 ? remaining.slice(0, 40) + "…" : remaining)}` };
  return { ok: true, values };
}

/** `<a> [b]` */
export function argsUsage(args: readonly Arg[]): string {
  return args.map((a) => (a.required ? `<${a.label}>` : `[${a.label}]`)).join(" ");
}

/** Checked at registration: a rest argument is last, names are unique, no required after optional. */
export function checkArgList(args: readonly Arg[], where: string): void {
  const seen = new Set<string>();
  let optionalSeen = false;
  args.forEach((a, i) => {
    if (seen.has(a.name)) throw new Error(`${where}: argument ${a.name} appears twice`);
    seen.add(a.name);
    if (a.consumesRest && i !== args.length - 1) throw new Error(`${where}: rest argument ${a.name} must be the last`);
    if (a.required && optionalSeen) throw new Error(`${where}: required argument ${a.name} after an optional one`);
    if (!a.required) optionalSeen = true;
  });
}
