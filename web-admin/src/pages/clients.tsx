// Bot accounts: add one by access token, or register / log in through a homeserver from the
// config; then its display name and avatar, the enabled/sync/autojoin/online switches, its
// connection status and last error, and delete (refused while instances use it).
import { useState } from "preact/hooks";
import { api } from "../api/client.js";
import type { ClientJson, ClientSettings, TrustState } from "../api/types.js";
import { useAction, useLoad } from "../components/hooks.js";
import { Badge, ErrorText, Loading, Status, Switch } from "../components/ui.js";
import { Link, routeOf } from "../router.js";

function AddByToken({ onAdded }: { onAdded: () => void }) {
  const [homeserver, setHomeserver] = useState("");
  const [token, setToken] = useState("");
  const [device, setDevice] = useState("");
  const [state, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run("Checking the token with the homeserver", async () => {
      const client = await api.newClient({ homeserver, access_token: token, ...(device ? { device_id: device } : {}) });
      setToken("");
      onAdded();
      return `Added ${client.id}.`;
    });
  };
  return (
    <form class="card" onSubmit={submit}>
      <h2>Add with an access token</h2>
      <label for="tok-hs">Homeserver URL</label>
      <input id="tok-hs" type="url" required placeholder="https://matrix.example.org" value={homeserver} onInput={(e) => setHomeserver(e.currentTarget.value)} />
      <label for="tok-token">Access token</label>
      <input id="tok-token" type="password" required autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
      <label for="tok-device">Device id (optional)</label>
      <input id="tok-device" value={device} onInput={(e) => setDevice(e.currentTarget.value)} />
      <button type="submit" disabled={state.busy}>
        Add account
      </button>
      <Status state={state} />
    </form>
  );
}

function AddOnHomeserver({ onAdded }: { onAdded: () => void }) {
  const servers = useLoad(() => api.homeservers(), []);
  const [server, setServer] = useState("");
  const [mode, setMode] = useState<"register" | "login">("register");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [state, run] = useAction();
  const names = Object.keys(servers.data ?? {});
  const chosen = server || names[0] || "";
  const submit = (e: Event) => {
    e.preventDefault();
    void run(mode === "register" ? `Registering ${username} on ${chosen}` : `Logging in as ${username} on ${chosen}`, async () => {
      const answer = await api.accountOnHomeserver(chosen, mode, username, password);
      setPassword("");
      onAdded();
      return `${mode === "register" ? "Registered" : "Logged in"} ${"id" in answer ? answer.id : answer.user_id} and added it as a bot account.`;
    });
  };
  return (
    <form class="card" onSubmit={submit}>
      <h2>Register or log in on a homeserver</h2>
      <ErrorText message={servers.error} />
      {servers.data && names.length === 0 ? (
        <p>
          No homeservers are configured. Add one under <code>homeservers</code> in the daemon's config (with its registration shared secret to register accounts).
        </p>
      ) : (
        <>
          <label for="hs-server">Homeserver</label>
          <select id="hs-server" value={chosen} onChange={(e) => setServer(e.currentTarget.value)}>
            {names.map((n) => (
              <option key={n} value={n}>
                {n} ({servers.data![n]})
              </option>
            ))}
          </select>
          <fieldset class="inline">
            <legend>Account</legend>
            <label>
              <input type="radio" name="hs-mode" checked={mode === "register"} onChange={() => setMode("register")} /> Register a new one
            </label>
            <label>
              <input type="radio" name="hs-mode" checked={mode === "login"} onChange={() => setMode("login")} /> Log in to an existing one
            </label>
          </fieldset>
          <label for="hs-user">User name</label>
          <input id="hs-user" required autoComplete="off" value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          <label for="hs-password">Password</label>
          <input id="hs-password" type="password" required autoComplete="new-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
          <button type="submit" disabled={state.busy || !chosen}>
            {mode === "register" ? "Register" : "Log in"}
          </button>
        </>
      )}
      <Status state={state} />
    </form>
  );
}

function ClientCard({ client, onChanged }: { client: ClientJson; onChanged: () => void }) {
  const [state, run] = useAction();
  const [name, setName] = useState(client.displayname === "disable" ? "" : client.displayname);
  const safe = client.id.replace(/[^A-Za-z0-9]/g, "_");
  const put = (what: string, settings: ClientSettings) =>
    void run(what, async () => {
      await api.putClient(client.id, settings);
      onChanged();
      return "Saved.";
    });
  const onAvatar = (file: File | undefined) => {
    if (!file) return;
    void run("Uploading the avatar", async () => {
      const uri = await api.uploadMedia(client.id, file);
      await api.putClient(client.id, { avatar_url: uri });
      onChanged();
      return "Avatar set.";
    });
  };
  const remove = () => {
    if (client.instances.length > 0) {
      void run("Deleting", () => Promise.reject(new Error(`${client.id} is used by ${client.instances.map((i) => i.id).join(", ")}; delete those instances first.`)));
      return;
    }
    if (!confirm(`Remove the bot account ${client.id} from botyard? (The account stays on its homeserver.)`)) return;
    void run(`Deleting ${client.id}`, async () => {
      await api.deleteClient(client.id);
      onChanged();
      return "Deleted.";
    });
  };
  const status = !client.enabled ? (
    <Badge state="stopped">disabled</Badge>
  ) : client.sync_ok ? (
    <Badge state="running">connected</Badge>
  ) : client.started ? (
    <Badge state="starting">connecting</Badge>
  ) : (
    <Badge state="failed">not connected</Badge>
  );
  return (
    <li class="card">
      <h3>
        {client.id} {status}
      </h3>
      <p class="muted">
        {client.homeserver}
        {client.remote_displayname ? `, shown as ${client.remote_displayname}` : ""}
      </p>
      <p class="muted">
        Device {client.device_id || "unknown"} · {encryptionText(client.trust_state)}
      </p>
      {client.last_error && <p class="error-text">Last error: {client.last_error}</p>}
      <div class="switches">
        <Switch id={`${safe}-enabled`} label="Enabled" checked={client.enabled} disabled={state.busy} onChange={(v) => put(v ? "Enabling" : "Disabling", { enabled: v })} />
        <Switch id={`${safe}-sync`} label="Sync" checked={client.sync} disabled={state.busy} onChange={(v) => put("Saving", { sync: v })} />
        <Switch id={`${safe}-autojoin`} label="Autojoin" checked={client.autojoin} disabled={state.busy} onChange={(v) => put("Saving", { autojoin: v })} />
        <Switch id={`${safe}-online`} label="Online" checked={client.online} disabled={state.busy} onChange={(v) => put("Saving", { online: v })} />
      </div>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          put("Setting the display name", { displayname: name || "disable" });
        }}
      >
        <div>
          <label for={`${safe}-name`}>Display name</label>
          <input id={`${safe}-name`} value={name} placeholder="(leave as on the homeserver)" onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <div class="pause">
          <button type="submit" class="secondary" disabled={state.busy}>
            Set name
          </button>
        </div>
        <div>
          <label for={`${safe}-avatar`}>Avatar picture</label>
          <input id={`${safe}-avatar`} type="file" accept="image/*" disabled={state.busy} onChange={(e) => onAvatar(e.currentTarget.files?.[0])} />
        </div>
      </form>
      <p>
        Instances:{" "}
        {client.instances.length === 0
          ? "none"
          : client.instances.map((i) => (
              <span key={i.id} class="inline-item">
                <Link to={routeOf("instances", i.id)}>{i.id}</Link>
              </span>
            ))}
      </p>
      <button type="button" class="danger" disabled={state.busy} onClick={remove} aria-label={`Delete bot account ${client.id}`}>
        Delete
      </button>
      <Status state={state} />
    </li>
  );
}

/** The account's encryption as the client object tells it (trust_state is null when it is off). */
function encryptionText(trust: TrustState | null): string {
  if (trust === null) return "encryption off";
  if (trust === "cross-signed-trusted") return "encryption on, verified";
  if (trust === "cross-signed-untrusted") return "encryption on, cross-signed by an untrusted key";
  return "encryption on, not verified";
}

export function ClientsPage() {
  const clients = useLoad(() => api.clients(), [], 5_000);
  return (
    <section>
      <h1 tabIndex={-1}>Bot accounts</h1>
      <div class="grid">
        <AddOnHomeserver onAdded={clients.reload} />
        <AddByToken onAdded={clients.reload} />
      </div>
      <h2>Accounts</h2>
      <ErrorText message={clients.error} />
      {clients.loading && !clients.data && <Loading what="bot accounts" />}
      {clients.data?.length === 0 && <p>No bot accounts yet.</p>}
      <ul class="cards">
        {(clients.data ?? []).map((c) => (
          <ClientCard key={c.id} client={c} onChanged={clients.reload} />
        ))}
      </ul>
    </section>
  );
}
