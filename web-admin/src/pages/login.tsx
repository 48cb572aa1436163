// Log in with an admin name and password from the config's `admins`.
import { useState } from "preact/hooks";
import { api } from "../api/client.js";
import { saveToken } from "../api/session.js";
import { useAction } from "../components/hooks.js";
import { Status } from "../components/ui.js";

export function Login({ notice, onLoggedIn }: { notice: string | null; onLoggedIn: () => void }) {
  const [username, setUsername] = useState("root");
  const [password, setPassword] = useState("");
  const [state, run] = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const ok = await run("Logging in", async () => {
      const { token } = await api.login(username, password);
      saveToken(token);
      return "Logged in.";
    });
    if (ok) onLoggedIn();
  };
  return (
    <section class="card login">
      <h1 tabIndex={-1}>botyard</h1>
      <p>Log in with an admin account from the daemon's config (<code>admins</code>).</p>
      {notice && (
        <p class="status notice" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label for="login-user">User name</label>
        <input id="login-user" name="username" autoComplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <button type="submit" disabled={state.busy}>
          Log in
        </button>
        <Status state={state} />
      </form>
    </section>
  );
}
