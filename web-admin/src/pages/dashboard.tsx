// What needs attention first: instances by state, bot accounts and their sync, the latest
// errors (failed instances, ERROR records of the log), the daemon's version and uptime.
import { api } from "../api/client.js";
import { logHistory } from "../api/recent-logs.js";
import type { InstanceJson, InstanceState } from "../api/types.js";
import { useLoad } from "../components/hooks.js";
import { Badge, ErrorText, Loading, formatDuration } from "../components/ui.js";
import { Link, routeOf } from "../router.js";

const STATES: InstanceState[] = ["running", "failed", "starting", "stopping", "stopped"];

export function Dashboard() {
  const health = useLoad(() => api.health(), [], 5_000);
  const instances = useLoad(() => api.instances(), [], 5_000);
  const errors = useLoad(async () => (await logHistory()).filter((r) => r.levelno >= 40).slice(-8).reverse(), []);
  const failed: InstanceJson[] = (instances.data ?? []).filter((i) => i.state === "failed" || i.last_error);

  return (
    <section>
      <h1 tabIndex={-1}>Dashboard</h1>
      <ErrorText message={health.error ?? instances.error} />
      {health.data ? (
        <p class="meta">
          botyard {health.data.version}, up {formatDuration(health.data.uptime_seconds)} (since {new Date(health.data.started_at).toLocaleString()})
        </p>
      ) : (
        health.loading && <Loading what="the daemon's health" />
      )}
      <div class="grid">
        <div class="card">
          <h2>Instances</h2>
          {health.data && (
            <ul class="counts">
              {STATES.map((s) => (
                <li key={s}>
                  <Badge state={s} /> <strong>{health.data!.instances[s]}</strong>
                </li>
              ))}
            </ul>
          )}
          <ul class="plain">
            {(instances.data ?? []).map((i) => (
              <li key={i.id}>
                <Link to={routeOf("instances", i.id)}>{i.id}</Link> <Badge state={i.state} /> <span class="muted">{i.type}</span>
              </li>
            ))}
          </ul>
          {instances.data?.length === 0 && (
            <p>
              No instances yet. <Link to="plugins">Upload a plugin</Link>, <Link to="clients">add a bot account</Link>, then{" "}
              <Link to="instances">create an instance</Link>.
            </p>
          )}
        </div>
        <div class="card">
          <h2>Bot accounts</h2>
          <ul class="plain">
            {(health.data?.clients ?? []).map((c) => (
              <li key={c.id}>
                <Link to="clients">{c.id}</Link>{" "}
                {!c.enabled ? <Badge state="stopped">disabled</Badge> : c.sync_ok ? <Badge state="running">syncing</Badge> : <Badge state="failed">not syncing</Badge>}
                {c.last_error && <p class="error-text">{c.last_error}</p>}
              </li>
            ))}
          </ul>
          {health.data?.clients.length === 0 && (
            <p>
              No bot accounts yet. <Link to="clients">Add one</Link>.
            </p>
          )}
        </div>
        <div class="card wide">
          <h2>Latest errors</h2>
          {failed.map((i) => (
            <p key={i.id} class="error-text">
              <Link to={routeOf("instances", i.id)}>{i.id}</Link>: {i.last_error ?? "failed"}
            </p>
          ))}
          <ErrorText message={errors.error} />
          {errors.loading && <Loading what="the log" />}
          {errors.data && errors.data.length > 0 ? (
            <ul class="plain log-list">
              {errors.data.map((r) => (
                <li key={r.id}>
                  <time dateTime={r.time}>{new Date(r.time).toLocaleString()}</time> <span class="muted">{r.name}</span> {r.msg}
                </li>
              ))}
            </ul>
          ) : (
            errors.data && failed.length === 0 && <p>No errors in the recent log.</p>
          )}
          <p>
            <Link to="logs">Open the live log</Link>
          </p>
        </div>
      </div>
    </section>
  );
}
