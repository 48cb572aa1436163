// The same checks the host runs on an instance config (bundles/bundle-reader.ts createConfigAjv):
// ajv with the schema's draft, all errors, formats, not strict. Errors are grouped by the path
// they belong to, so each form field shows its own.
import { Ajv, type ErrorObject } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { Schema } from "./schema.js";

export interface ConfigProblem {
  /** JSON pointer of the value at fault ("/http/port"). */
  path: string;
  message: string;
}

export type ConfigValidator = (value: unknown) => ConfigProblem[];

function problemOf(e: ErrorObject): ConfigProblem {
  let path = e.instancePath;
  // A missing or unknown key is the fault of that key, not of the object around it.
  if (e.keyword === "required") path += `/${(e.params as { missingProperty: string }).missingProperty}`;
  if (e.keyword === "additionalProperties") return { path, message: `unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"` };
  let message = e.message ?? e.keyword;
  if (e.keyword === "enum") message += `: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  return { path, message };
}

export function compileValidator(schema: Schema & { $schema?: string }): ConfigValidator {
  const options = { allErrors: true, strict: false } as const;
  const ajv = /2020-12|2019-09/.test(schema.$schema ?? "") ? new Ajv2020(options) : new Ajv(options);
  addFormats(ajv);
  const validate = ajv.compile(schema);
  return (value) => (validate(value) ? [] : (validate.errors ?? []).map(problemOf));
}
