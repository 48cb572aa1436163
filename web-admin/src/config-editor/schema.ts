// The part of JSON Schema the form understands, and the helpers it needs: types, defaults,
// labels and JSON-pointer keys matching ajv's instancePath.

export interface Schema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
}

export type Path = (string | number)[];

/** ajv's instancePath for a path: "/a/b/0", with "~" and "/" escaped. */
export function pointer(path: Path): string {
  return path.map((p) => `/${String(p).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/** A DOM id for a path's control. */
export function fieldId(path: Path): string {
  return `cfg-${path.map((p) => String(p).replace(/[^A-Za-z0-9_-]/g, "_")).join("-") || "root"}`;
}

export function types(schema: Schema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  if (schema.properties || schema.additionalProperties) return ["object"];
  if (schema.items) return ["array"];
  return [];
}

/** The main type (the first that is not "null") and whether null is allowed. */
export function mainType(schema: Schema): { type: string | null; nullable: boolean } {
  const all = types(schema);
  return { type: all.find((t) => t !== "null") ?? null, nullable: all.includes("null") };
}

export function humanize(key: string): string {
  const words = key.replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value for a new array item or map entry: its default, else the least value its type allows. */
export function defaultFor(schema: Schema): unknown {
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  const { type, nullable } = mainType(schema);
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const key of schema.required ?? []) {
        const sub = schema.properties?.[key];
        if (sub) out[key] = defaultFor(sub);
      }
      return out;
    }
    case "array":
      return [];
    case "boolean":
      return false;
    case "integer":
    case "number":
      if (schema.exclusiveMinimum !== undefined) return schema.exclusiveMinimum + 1;
      return schema.minimum ?? 0;
    case "string":
      return "";
    default:
      return nullable ? null : "";
  }
}
