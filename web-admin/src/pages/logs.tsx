import { LogView } from "../components/log-view.js";

export function LogsPage() {
  return (
    <section>
      <h1 tabIndex={-1}>Logs</h1>
      <div class="card">
        <LogView />
      </div>
    </section>
  );
}
