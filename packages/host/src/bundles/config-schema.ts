// A plugin's config_schema: bounded statically at upload (size, depth, node count), then compiled
// and run with ajv. Compiling and validating are synchronous and may take unbounded time on a
// hostile schema (a backtracking `pattern`, thousands of properties), so the host calls them only
// inside the check thread (workers/check-thread.ts), never on its main thread.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => void;

/** Keys and list items of a schema, all levels counted. The largest shipped schema has 157. */
export const MAX_SCHEMA_NODES = 1000;
/** Nesting of a schema. The shipped ones reach 6. */
export const MAX_SCHEMA_DEPTH = 32;

export type ConfigSchema = Record<string, unknown>;

/** Formats ajv errors as "at /a/b: must be integer", naming the path an operator must fix. */
export function describeAjvErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return "invalid";
  return errors
    .slice(0, 5)
    .map((e) => {
      let path = e.instancePath || "";
      if (e.keyword === "required") path += `/${(e.params as { missingProperty: string }).missingProperty}`;
      if (e.keyword === "additionalProperties") path += `/${(e.params as { additionalProperty: string }).additionalProperty}`;
      return `at ${path || "/"}: ${e.message ?? e.keyword}`;
    })
    .join("; ");
}

/**
 * Why `schema` is too big to compile, or null. An iterative walk (no recursion to overflow) that
 * stops at the first bound passed, so its own cost is at most MAX_SCHEMA_NODES steps.
 */
export function schemaBoundsProblem(schema: ConfigSchema): string | null {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: schema, depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (value === null || typeof value !== "object") continue;
    if (depth > MAX_SCHEMA_DEPTH) return `it nests deeper than ${MAX_SCHEMA_DEPTH} levels`;
    const children = Array.isArray(value) ? value : Object.values(value);
    nodes += children.length;
    if (nodes > MAX_SCHEMA_NODES) return `it has more than ${MAX_SCHEMA_NODES} keys and list items (real plugin schemas have a few hundred at most)`;
    for (const child of children) stack.push({ value: child, depth: depth + 1 });
  }
  return null;
}

/**
 * An ajv for a plugin's config schema: draft 2020-12 when the schema says so, else draft-07
 * (what most authors write). Not strict: unknown keywords are the author's business.
 */
function createConfigAjv(schema: ConfigSchema): Ajv {
  const dialect = typeof schema.$schema === "string" ? schema.$schema : "";
  const options = { allErrors: true, strict: false } as const;
  const ajv = /2020-12|2019-09/.test(dialect) ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  return ajv;
}

/** Compiles `schema`; throws with ajv's reason when it is not a valid JSON Schema. */
export function compileConfigSchema(schema: ConfigSchema): ValidateFunction {
  return createConfigAjv(schema).compile(schema);
}

/** Null when `config` satisfies the compiled schema, else the errors as describeAjvErrors words them. */
export function configProblems(validate: ValidateFunction, config: unknown): string | null {
  return validate(config) ? null : describeAjvErrors(validate.errors);
}
