// An instance's config: the form generated from the plugin's config_schema and the YAML tab edit
// the same text (the effective config the API answers with, comments kept), both checked against
// the schema as you type. Saving sends the text; nothing is sent while a check fails.
import { useMemo, useState } from "preact/hooks";
import YAML from "yaml";
import { api } from "../api/client.js";
import type { InstanceJson } from "../api/types.js";
import { useAction } from "../components/hooks.js";
import { Status } from "../components/ui.js";
import { SchemaForm } from "./schema-form.js";
import type { Path, Schema } from "./schema.js";
import { type ConfigProblem, compileValidator } from "./validate.js";
import { YamlEditor } from "./yaml-editor.js";

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

function parse(text: string): Parsed {
  try {
    const doc = YAML.parseDocument(text);
    if (doc.errors.length > 0) return { ok: false, error: doc.errors[0]!.message };
    const value: unknown = doc.toJS() ?? {};
    if (typeof value !== "object" || Array.isArray(value)) return { ok: false, error: "The config must be a YAML mapping (key: value lines)." };
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** Sets one value in the YAML text, keeping its comments and key order. */
function setIn(text: string, path: Path, value: unknown): string {
  const doc = YAML.parseDocument(text);
  if (path.length === 0) return YAML.stringify(value);
  doc.setIn(path, value);
  return doc.toString();
}

type Tab = "form" | "yaml";

export function ConfigEditor({ instance, schema, onSaved }: { instance: InstanceJson; schema: Schema | null; onSaved: (saved: InstanceJson) => void }) {
  const [saved, setSaved] = useState(instance.config);
  const [text, setText] = useState(instance.config);
  const [tab, setTab] = useState<Tab>(schema ? "form" : "yaml");
  const [state, run] = useAction();
  const validator = useMemo(() => (schema ? compileValidator(schema) : null), [schema]);
  const parsed = useMemo(() => parse(text), [text]);
  const problems: ConfigProblem[] = parsed.ok && validator ? validator(parsed.value) : [];
  const dirty = text !== saved;

  const save = (e: Event) => {
    e.preventDefault();
    void run("Saving the config", async () => {
      if (!parsed.ok) throw new Error(`Not saved: the YAML does not parse (${parsed.error}).`);
      if (problems.length > 0) throw new Error(`Not saved: ${problems.length} value${problems.length > 1 ? "s are" : " is"} not allowed; see the marked fields.`);
      const result = await api.putInstance(instance.id, { config: text });
      setSaved(result.config);
      setText(result.config);
      onSaved(result);
      return result.started ? "Saved; the instance restarted with the new config." : "Saved.";
    });
  };

  const tabButton = (which: Tab, label: string) => (
    <button
      type="button"
      role="tab"
      id={`config-tab-${which}`}
      aria-selected={tab === which}
      aria-controls={`config-panel-${which}`}
      tabIndex={tab === which ? 0 : -1}
      onClick={() => setTab(which)}
      onKeyDown={(e) => {
        if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
          const next: Tab = which === "form" ? "yaml" : "form";
          setTab(next);
          document.getElementById(`config-tab-${next}`)?.focus();
        }
      }}
    >
      {label}
    </button>
  );

  return (
    <form onSubmit={save} class="config-editor" noValidate>
      <div role="tablist" aria-label="Config view" class="tabs">
        {schema && tabButton("form", "Form")}
        {tabButton("yaml", "YAML")}
      </div>
      {tab === "form" && schema && (
        <div role="tabpanel" id="config-panel-form" aria-labelledby="config-tab-form">
          {parsed.ok ? (
            <SchemaForm schema={schema} value={parsed.value} problems={problems} onChange={(path, value) => setText((t) => setIn(t, path, value))} />
          ) : (
            <p class="status error" role="alert">
              The YAML does not parse ({parsed.error}); fix it in the YAML tab first.
            </p>
          )}
        </div>
      )}
      {tab === "yaml" && (
        <div role="tabpanel" id="config-panel-yaml" aria-labelledby="config-tab-yaml">
          <YamlEditor id="config-yaml" label="Config as YAML" value={text} onChange={setText} />
          {!parsed.ok && (
            <p class="field-error" role="alert">
              YAML error: {parsed.error}
            </p>
          )}
        </div>
      )}
      {problems.length > 0 && (
        <div class="problems" role="alert">
          <p>Not allowed by the plugin's schema:</p>
          <ul>
            {problems.map((p, i) => (
              <li key={i}>
                <code>{p.path || "/"}</code>: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="actions">
        <button type="submit" disabled={state.busy || !dirty}>
          Save config
        </button>{" "}
        <button type="button" class="secondary" disabled={state.busy || !dirty} onClick={() => setText(saved)}>
          Undo changes
        </button>
      </div>
      <Status state={state} />
    </form>
  );
}

