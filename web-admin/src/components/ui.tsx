// Small pieces every page uses: the action status line, a labelled switch, a state badge, a table.
import type { ComponentChildren } from "preact";
import type { ActionState } from "./hooks.js";

/** Live region: screen readers hear the progress and the result. */
export function Status({ state }: { state: ActionState }) {
  return (
    <p class={`status${state.failed ? " error" : ""}${state.busy ? " busy" : ""}`} role={state.failed ? "alert" : "status"} aria-live="polite">
      {state.message ?? ""}
    </p>
  );
}

export function ErrorText({ message }: { message: string | null }) {
  return message ? (
    <p class="status error" role="alert">
      {message}
    </p>
  ) : null;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="status busy" role="status">
      Loading {what}…
    </p>
  );
}

interface SwitchProps {
  id: string;
  label: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (checked: boolean) => void;
}

export function Switch({ id, label, checked, disabled, onChange }: SwitchProps) {
  return (
    <label class="switch" for={id}>
      <input id={id} type="checkbox" role="switch" checked={checked} disabled={disabled} onChange={(e) => onChange(e.currentTarget.checked)} />
      <span>{label}</span>
    </label>
  );
}

const STATE_CLASS: Record<string, string> = { running: "ok", failed: "bad", starting: "warn", stopping: "warn", stopped: "off" };

export function Badge({ state, children }: { state: string; children?: ComponentChildren }) {
  return <span class={`badge ${STATE_CLASS[state] ?? "off"}`}>{children ?? state}</span>;
}

/** Rows of cells as a table that scrolls sideways on a phone. */
export function DataTable({ columns, rows, caption }: { columns: string[]; rows: unknown[][]; caption: string }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label={caption}>
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (
                <td key={j}>{cell === null ? <em>null</em> : typeof cell === "object" ? JSON.stringify(cell) : String(cell)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  return `${m} min ${seconds % 60} s`;
}
