// A form generated from a plugin's config_schema: nested objects as fieldsets, arrays and maps
// as lists with add/remove, enums as selects, numbers with their bounds, booleans as checkboxes,
// descriptions as help text. Every change goes up as (path, value); problems show at their field.
import type { ConfigProblem } from "./validate.js";
import { type Path, type Schema, defaultFor, fieldId, humanize, isRecord, mainType, pointer } from "./schema.js";

export type Change = (path: Path, value: unknown) => void;

interface FieldProps {
  schema: Schema;
  path: Path;
  label: string;
  value: unknown;
  problems: ConfigProblem[];
  onChange: Change;
}

function Help({ id, schema, problems }: { id: string; schema: Schema; problems: ConfigProblem[] }) {
  return (
    <>
      {schema.description && (
        <p class="help" id={`${id}-help`}>
          {schema.description}
        </p>
      )}
      {problems.length > 0 && (
        <p class="field-error" id={`${id}-error`}>
          {problems.map((p) => p.message).join("; ")}
        </p>
      )}
    </>
  );
}

function describedBy(id: string, schema: Schema, problems: ConfigProblem[]): string | undefined {
  const ids = [schema.description ? `${id}-help` : "", problems.length ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

function bounds(schema: Schema): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`at least ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) parts.push(`more than ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) parts.push(`at most ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) parts.push(`less than ${schema.exclusiveMaximum}`);
  return parts.join(", ");
}

function own(problems: ConfigProblem[], path: Path): ConfigProblem[] {
  const p = pointer(path);
  return problems.filter((x) => x.path === p);
}

function ScalarField({ schema, path, label, value, problems, onChange }: FieldProps) {
  const id = fieldId(path);
  const mine = own(problems, path);
  const { type, nullable } = mainType(schema);
  const common = { id, "aria-describedby": describedBy(id, schema, mine), "aria-invalid": mine.length > 0 ? true : undefined };

  if (schema.enum) {
    const options = schema.enum;
    const index = options.findIndex((o) => o === value);
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <select {...common} value={index < 0 ? "" : String(index)} onChange={(e) => onChange(path, options[Number(e.currentTarget.value)])}>
          {index < 0 && <option value="">{value === undefined ? "(not set)" : `${JSON.stringify(value)} (not allowed)`}</option>}
          {options.map((o, i) => (
            <option key={i} value={String(i)}>
              {o === null ? "(none)" : String(o)}
            </option>
          ))}
        </select>
        <Help id={id} schema={schema} problems={mine} />
      </div>
    );
  }
  if (type === "boolean") {
    return (
      <div class="field checkbox">
        <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(path, e.currentTarget.checked)} />
        <label for={id}>{label}</label>
        <Help id={id} schema={schema} problems={mine} />
      </div>
    );
  }
  if (type === "number" || type === "integer") {
    const hint = [type === "integer" ? "a whole number" : "a number", bounds(schema), nullable ? "empty for none" : ""].filter(Boolean).join(", ");
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <input
          {...common}
          type="number"
          inputMode={type === "integer" ? "numeric" : "decimal"}
          step={type === "integer" ? 1 : "any"}
          min={schema.minimum}
          max={schema.maximum}
          value={typeof value === "number" ? String(value) : typeof value === "string" ? value : ""}
          placeholder={nullable ? "none" : undefined}
          onInput={(e) => {
            const raw = e.currentTarget.value.trim();
            // Text that is not a number stays text, so the check names the problem instead of dropping it.
            if (raw === "") onChange(path, nullable ? null : "");
            else onChange(path, Number.isNaN(Number(raw)) ? raw : Number(raw));
          }}
        />
        <p class="hint">{hint}</p>
        <Help id={id} schema={schema} problems={mine} />
      </div>
    );
  }
  if (type === "string" || type === null) {
    if (type === null && value !== undefined && typeof value !== "string") return <OpaqueField {...{ schema, path, label, value, problems, onChange }} />;
    return (
      <div class="field">
        <label for={id}>{label}</label>
        <input
          {...common}
          type="text"
          value={typeof value === "string" ? value : ""}
          placeholder={nullable ? "none" : undefined}
          onInput={(e) => {
            const raw = e.currentTarget.value;
            onChange(path, raw === "" && nullable ? null : raw);
          }}
        />
        <Help id={id} schema={schema} problems={mine} />
      </div>
    );
  }
  return <OpaqueField {...{ schema, path, label, value, problems, onChange }} />;
}

/** A value the form has no control for: shown, and edited in the YAML tab. */
function OpaqueField({ schema, path, label, value, problems }: FieldProps) {
  const id = fieldId(path);
  return (
    <div class="field">
      <span class="label" id={id}>
        {label}
      </span>
      <pre aria-labelledby={id}>{JSON.stringify(value, null, 2) ?? "(not set)"}</pre>
      <p class="hint">Edit this one in the YAML tab.</p>
      <Help id={id} schema={schema} problems={own(problems, path)} />
    </div>
  );
}

function ObjectField({ schema, path, label, value, problems, onChange }: FieldProps) {
  const object = isRecord(value) ? value : {};
  const id = fieldId(path);
  const mine = own(problems, path);
  const body = (
    <>
      <Help id={id} schema={schema} problems={mine} />
      {Object.entries(schema.properties ?? {}).map(([key, sub]) => (
        <Field key={key} schema={sub} path={[...path, key]} label={sub.title ?? humanize(key)} value={object[key]} problems={problems} onChange={onChange} />
      ))}
      {typeof schema.additionalProperties === "object" && (
        <MapEntries schema={schema} path={path} object={object} label={label} problems={problems} onChange={onChange} />
      )}
    </>
  );
  if (path.length === 0) return body;
  return (
    <fieldset id={id}>
      <legend>{label}</legend>
      {body}
    </fieldset>
  );
}

/** Keys not named in `properties`, each with a value of the additionalProperties schema. */
function MapEntries({ schema, path, object, label, problems, onChange }: { schema: Schema; path: Path; object: Record<string, unknown>; label: string; problems: ConfigProblem[]; onChange: Change }) {
  const valueSchema = schema.additionalProperties as Schema;
  const named = new Set(Object.keys(schema.properties ?? {}));
  const entries = Object.entries(object).filter(([k]) => !named.has(k));
  const rebuild = (next: [string, unknown][]) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(object)) if (named.has(k)) out[k] = v;
    for (const [k, v] of next) out[k] = v;
    onChange(path, out);
  };
  const base = fieldId(path);
  return (
    <div class="map">
      {entries.length === 0 && <p class="hint">No entries.</p>}
      {entries.map(([key, v], i) => (
        <div class="map-entry" key={i}>
          <div class="field">
            <label for={`${base}-key-${i}`}>Key {i + 1}</label>
            <input
              id={`${base}-key-${i}`}
              value={key}
              onChange={(e) => {
                const k = e.currentTarget.value;
                rebuild(entries.map(([ek, ev], j) => (j === i ? [k, ev] : [ek, ev])));
              }}
            />
          </div>
          <Field schema={valueSchema} path={[...path, key]} label={`Value of ${key || `key ${i + 1}`}`} value={v} problems={problems} onChange={onChange} />
          <button type="button" class="secondary small" onClick={() => rebuild(entries.filter((_, j) => j !== i))} aria-label={`Remove ${key || `entry ${i + 1}`} from ${label}`}>
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        class="secondary small"
        onClick={() => {
          let n = entries.length + 1;
          while (Object.hasOwn(object, `key${n}`)) n++;
          rebuild([...entries, [`key${n}`, defaultFor(valueSchema)]]);
        }}
      >
        Add to {label}
      </button>
    </div>
  );
}

function ArrayField({ schema, path, label, value, problems, onChange }: FieldProps) {
  const items = Array.isArray(value) ? value : [];
  const itemSchema = schema.items ?? {};
  const id = fieldId(path);
  return (
    <fieldset id={id}>
      <legend>{label}</legend>
      <Help id={id} schema={schema} problems={own(problems, path)} />
      <ol class="array">
        {items.map((item, i) => (
          <li key={i}>
            <Field schema={itemSchema} path={[...path, i]} label={`${label} ${i + 1}`} value={item} problems={problems} onChange={onChange} />
            <button type="button" class="secondary small" onClick={() => onChange(path, items.filter((_, j) => j !== i))} aria-label={`Remove ${label} ${i + 1}`}>
              Remove
            </button>
          </li>
        ))}
      </ol>
      <button type="button" class="secondary small" onClick={() => onChange(path, [...items, defaultFor(itemSchema)])}>
        Add to {label}
      </button>
    </fieldset>
  );
}

export function Field(props: FieldProps) {
  const { type } = mainType(props.schema);
  if (!props.schema.enum && type === "object") return <ObjectField {...props} />;
  if (!props.schema.enum && type === "array") return <ArrayField {...props} />;
  return <ScalarField {...props} />;
}

export function SchemaForm({ schema, value, problems, onChange }: { schema: Schema; value: unknown; problems: ConfigProblem[]; onChange: Change }) {
  return <Field schema={schema} path={[]} label="Config" value={value} problems={problems} onChange={onChange} />;
}
