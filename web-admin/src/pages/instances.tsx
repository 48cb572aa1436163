// Instances: the list with their state, and creating one (id, plugin, bot account).
import { useState } from "preact/hooks";
import { api } from "../api/client.js";
import { useAction, useLoad } from "../components/hooks.js";
import { Badge, ErrorText, Loading, Status } from "../components/ui.js";
import { Link, navigate, routeOf } from "../router.js";

function CreateForm() {
  const options = useLoad(async () => ({ plugins: await api.plugins(), clients: await api.clients() }), []);
  const [id, setId] = useState("");
  const [type, setType] = useState("");
  const [user, setUser] = useState("");
  const [state, run] = useAction();
  const plugins = options.data?.plugins ?? [];
  const clients = options.data?.clients ?? [];
  const chosenType = type || plugins[0]?.id || "";
  const chosenUser = user || clients[0]?.id || "";

  const submit = async (e: Event) => {
    e.preventDefault();
    let createdId = "";
    const ok = await run(`Creating ${id}`, async () => {
      const created = await api.putInstance(id.trim(), { type: chosenType, primary_user: chosenUser, enabled: true, started: true });
      createdId = created.id;
      return `Created ${created.id}.`;
    });
    if (ok) navigate(routeOf("instances", createdId));
  };

  return (
    <form class="card" onSubmit={submit}>
      <h2>New instance</h2>
      <ErrorText message={options.error} />
      {options.data && (plugins.length === 0 || clients.length === 0) && (
        <p>
          An instance needs a plugin and a bot account: {plugins.length === 0 && <Link to="plugins">upload a plugin</Link>}{" "}
          {clients.length === 0 && <Link to="clients">add a bot account</Link>}.
        </p>
      )}
      <div class="row">
        <div>
          <label for="new-id">Instance id</label>
          <input id="new-id" required value={id} onInput={(e) => setId(e.currentTarget.value)} aria-describedby="new-id-help" />
          <p id="new-id-help" class="help">
            Lower-cased; no slashes. It names the instance in URLs and its database file.
          </p>
        </div>
        <div>
          <label for="new-type">Plugin</label>
          <select id="new-type" required value={chosenType} onChange={(e) => setType(e.currentTarget.value)}>
            {plugins.map((p) => (
              <option key={p.id} value={p.id}>
                {p.id} {p.version}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="new-user">Bot account</label>
          <select id="new-user" required value={chosenUser} onChange={(e) => setUser(e.currentTarget.value)}>
            {clients.map((c) => (
              <option key={c.id} value={c.id}>
                {c.id}
              </option>
            ))}
          </select>
        </div>
      </div>
      <button type="submit" disabled={state.busy || !chosenType || !chosenUser}>
        Create and start
      </button>
      <Status state={state} />
    </form>
  );
}

export function InstancesPage() {
  const instances = useLoad(() => api.instances(), [], 5_000);
  return (
    <section>
      <h1 tabIndex={-1}>Instances</h1>
      <CreateForm />
      <h2>All instances</h2>
      <ErrorText message={instances.error} />
      {instances.loading && !instances.data && <Loading what="instances" />}
      {instances.data?.length === 0 && <p>No instances yet.</p>}
      <ul class="cards">
        {(instances.data ?? []).map((i) => (
          <li class="card" key={i.id}>
            <h3>
              <Link to={routeOf("instances", i.id)}>{i.id}</Link> <Badge state={i.state} />
            </h3>
            <p class="muted">
              {i.type} as {i.primary_user}
              {i.enabled ? "" : " (disabled)"}
            </p>
            {i.last_error && <p class="error-text">{i.last_error}</p>}
          </li>
        ))}
      </ul>
    </section>
  );
}
