// Plugins: upload a bundle (drop or pick, with a progress bar), replace a loaded version after
// saying which instances restart, delete one no instance uses, and read each plugin's manifest,
// config schema and instances.
import { useRef, useState } from "preact/hooks";
import { ApiCallError, api } from "../api/client.js";
import type { PluginJson } from "../api/types.js";
import { useAction, useLoad } from "../components/hooks.js";
import { Badge, ErrorText, Loading, Status } from "../components/ui.js";
import { Link, routeOf } from "../router.js";

interface PendingReplace {
  file: File;
  pluginId: string;
  loadedVersion: string;
  version: string;
  instances: string[];
}

function UploadBox({ plugins, onUploaded }: { plugins: PluginJson[]; onUploaded: () => void }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [dragging, setDragging] = useState(false);
  const [pending, setPending] = useState<PendingReplace | null>(null);
  const [state, run] = useAction();
  const input = useRef<HTMLInputElement>(null);

  const upload = async (file: File, allowOverride: boolean) => {
    setPending(null);
    setProgress(0);
    await run(`Uploading ${file.name}`, async () => {
      try {
        const plugin = await api.uploadBundle(file, { allowOverride, onProgress: setProgress });
        onUploaded();
        const restarted = plugin.instances.filter((i) => i.started).map((i) => i.id);
        return `Loaded ${plugin.id} ${plugin.version}.${restarted.length ? ` Restarted: ${restarted.join(", ")}.` : ""}`;
      } catch (err) {
        if (err instanceof ApiCallError && err.errcode === "plugin_exists" && err.body) {
          const pluginId = String(err.body.plugin_id ?? "");
          // A replace restarts the instances that run; stopped ones just use the new code next time.
          const using = plugins.find((p) => p.id === pluginId)?.instances.filter((i) => i.started).map((i) => i.id) ?? [];
          setPending({ file, pluginId, loadedVersion: String(err.body.loaded_version ?? "?"), version: String(err.body.version ?? "?"), instances: using });
          return `${pluginId} is already loaded; confirm below to replace it.`;
        }
        throw err;
      } finally {
        setProgress(null);
      }
    });
    if (input.current) input.current.value = "";
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer?.files[0];
    if (file) void upload(file, false);
  };

  return (
    <div class="card">
      <h2>Upload a plugin</h2>
      <div
        class={`dropzone${dragging ? " dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>Drop a plugin bundle (.mbp) here, or</p>
        <label class="button" for="bundle-file">
          Choose a file…
        </label>
        <input
          id="bundle-file"
          class="file-input"
          type="file"
          accept=".mbp,.zip,application/zip"
          disabled={state.busy}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void upload(file, false);
          }}
        />
      </div>
      {progress !== null && (
        <progress max={1} value={progress} aria-label="Upload progress">
          {Math.round(progress * 100)}%
        </progress>
      )}
      <Status state={state} />
      {pending && (
        <div class="confirm" role="group" aria-labelledby="replace-title">
          <p id="replace-title">
            Replace <strong>{pending.pluginId}</strong> {pending.loadedVersion} with {pending.version}?{" "}
            {pending.instances.length > 0
              ? `Its running instances restart: ${pending.instances.join(", ")}.`
              : "No running instance uses it."}
          </p>
          <button type="button" onClick={() => void upload(pending.file, true)}>
            Replace
          </button>{" "}
          <button type="button" class="secondary" onClick={() => setPending(null)}>
            Cancel
          </button>
        </div>
      )}
    </div>
  );
}

function PluginCard({ plugin, onChanged }: { plugin: PluginJson; onChanged: () => void }) {
  const [state, run] = useAction();
  const m = plugin.manifest;
  const remove = () => {
    if (plugin.instances.length > 0) {
      void run("Deleting", () =>
        Promise.reject(new Error(`${plugin.id} is used by ${plugin.instances.map((i) => i.id).join(", ")}; delete those instances first.`)),
      );
      return;
    }
    if (!confirm(`Delete the plugin ${plugin.id}?`)) return;
    void run(`Deleting ${plugin.id}`, async () => {
      await api.deletePlugin(plugin.id);
      onChanged();
      return `Deleted ${plugin.id}.`;
    });
  };
  return (
    <li class="card">
      <h3>
        {plugin.id} <span class="muted">{plugin.version}</span>
      </h3>
      <dl class="facts">
        <dt>Instances</dt>
        <dd>
          {plugin.instances.length === 0
            ? "none"
            : plugin.instances.map((i) => (
                <span key={i.id} class="inline-item">
                  <Link to={routeOf("instances", i.id)}>{i.id}</Link> <Badge state={i.state} />
                </span>
              ))}
        </dd>
        <dt>Features</dt>
        <dd>{[m.database && "database", m.webapp && "web app", m.config && "config"].filter(Boolean).join(", ") || "none"}</dd>
        <dt>License</dt>
        <dd>{m.license || "not given"}</dd>
      </dl>
      <details>
        <summary>Manifest</summary>
        <pre>{JSON.stringify(m, null, 2)}</pre>
      </details>
      <details>
        <summary>Config schema</summary>
        <pre>{plugin.config_schema ? JSON.stringify(plugin.config_schema, null, 2) : "This plugin has no config schema."}</pre>
      </details>
      <button type="button" class="danger" onClick={remove} disabled={state.busy} aria-label={`Delete plugin ${plugin.id}`}>
        Delete
      </button>
      <Status state={state} />
    </li>
  );
}

export function PluginsPage() {
  const plugins = useLoad(() => api.plugins(), []);
  return (
    <section>
      <h1 tabIndex={-1}>Plugins</h1>
      <UploadBox plugins={plugins.data ?? []} onUploaded={plugins.reload} />
      <h2>Loaded plugins</h2>
      <ErrorText message={plugins.error} />
      {plugins.loading && !plugins.data && <Loading what="plugins" />}
      {plugins.data?.length === 0 && <p>No plugins yet: upload a bundle above.</p>}
      <ul class="cards">
        {(plugins.data ?? []).map((p) => (
          <PluginCard key={p.id} plugin={p} onChanged={plugins.reload} />
        ))}
      </ul>
    </section>
  );
}
