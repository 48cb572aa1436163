// One instance: its state and last error (polled every 2 s), start/stop, enable, delete, and
// tabs for its config, its log and its database.
import { useState } from "preact/hooks";
import { api } from "../api/client.js";
import type { InstanceJson } from "../api/types.js";
import { ConfigEditor } from "../config-editor/config-editor.js";
import type { Schema } from "../config-editor/schema.js";
import { useAction, useLoad } from "../components/hooks.js";
import { LogView } from "../components/log-view.js";
import { Badge, ErrorText, Loading, Status, Switch } from "../components/ui.js";
import { Link, navigate, routeOf } from "../router.js";
import { DatabaseBrowser } from "./database.js";

type Tab = "config" | "log" | "database";

function Controls({ instance, onChange }: { instance: InstanceJson; onChange: (i: InstanceJson) => void }) {
  const [state, run] = useAction();
  const put = (what: string, settings: Parameters<typeof api.putInstance>[1], done: (i: InstanceJson) => string) =>
    void run(what, async () => {
      const updated = await api.putInstance(instance.id, settings);
      onChange(updated);
      return done(updated);
    });
  const running = instance.state === "running" || instance.state === "starting";
  const remove = () => {
    if (!confirm(`Delete the instance ${instance.id} and its database?`)) return;
    void run(`Deleting ${instance.id}`, async () => {
      await api.deleteInstance(instance.id);
      navigate("instances");
      return "Deleted.";
    });
  };
  return (
    <div class="card">
      <div class="actions">
        {running ? (
          <button type="button" disabled={state.busy} onClick={() => put("Stopping", { started: false }, (i) => `Stopped (${i.state}).`)}>
            Stop
          </button>
        ) : (
          <button
            type="button"
            disabled={state.busy || !instance.enabled}
            onClick={() => put("Starting", { started: true }, (i) => (i.state === "running" ? "Started." : `Not running: ${i.last_error ?? i.state}`))}
          >
            Start
          </button>
        )}{" "}
        <Switch
          id="instance-enabled"
          label="Enabled"
          checked={instance.enabled}
          disabled={state.busy}
          onChange={(enabled) => put(enabled ? "Enabling" : "Disabling", { enabled }, (i) => (i.enabled ? "Enabled." : "Disabled; it will not start."))}
        />{" "}
        <button type="button" class="danger" disabled={state.busy} onClick={remove}>
          Delete instance
        </button>
      </div>
      <Status state={state} />
    </div>
  );
}

export function InstancePage({ id }: { id: string }) {
  const live = useLoad(() => api.instance(id), [id], 2_000);
  const plugin = useLoad(async () => (live.data ? api.plugin(live.data.type) : null), [live.data?.type]);
  const [tab, setTab] = useState<Tab>("config");
  const instance = live.data;

  if (!instance) {
    return (
      <section>
        <h1 tabIndex={-1}>Instance {id}</h1>
        <ErrorText message={live.error} />
        {live.loading && <Loading what="the instance" />}
        <p>
          <Link to="instances">All instances</Link>
        </p>
      </section>
    );
  }
  const tabs: [Tab, string][] = [
    ["config", "Config"],
    ["log", "Log"],
    ...(instance.database ? ([["database", "Database"]] as [Tab, string][]) : []),
  ];
  return (
    <section>
      <p class="crumbs">
        <Link to="instances">Instances</Link> /
      </p>
      <h1 tabIndex={-1}>
        {instance.id} <Badge state={instance.state} />
      </h1>
      <p class="muted">
        {instance.type} as <Link to="clients">{instance.primary_user}</Link>
      </p>
      {live.error && <ErrorText message={`Could not refresh: ${live.error}`} />}
      {instance.last_error && (
        <p class="status error" role="alert">
          Last error: {instance.last_error}
        </p>
      )}
      <Controls instance={instance} onChange={live.reload} />
      <div role="tablist" aria-label="Instance views" class="tabs">
        {tabs.map(([t, label]) => (
          <button key={t} type="button" role="tab" id={`tab-${t}`} aria-selected={tab === t} aria-controls={`panel-${t}`} onClick={() => setTab(t)}>
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} class="card">
        {tab === "config" &&
          (plugin.data || plugin.error ? (
            <ConfigEditor
              key={instance.id}
              instance={instance}
              schema={(plugin.data?.config_schema as Schema | null) ?? null}
              onSaved={live.reload}
            />
          ) : (
            <Loading what="the plugin's schema" />
          ))}
        {tab === "log" && <LogView instance={instance.id} />}
        {tab === "database" && <DatabaseBrowser id={instance.id} />}
      </div>
      <p>
        <Link to={routeOf("instances")}>All instances</Link>
      </p>
    </section>
  );
}
