// The live log: the websocket's history and new records, filtered by level, instance and text,
// with pause (records keep arriving and show on resume). Keeps the newest 2000.
import { useEffect, useMemo, useState } from "preact/hooks";
import { openLogSocket } from "../api/log-socket.js";
import type { LogEntry } from "../api/types.js";

const KEEP = 2000;
const SHOWN = 500;
const LEVELS: [number, string][] = [
  [5, "TRACE"],
  [10, "DEBUG"],
  [20, "INFO"],
  [30, "WARNING"],
  [40, "ERROR"],
  [50, "CRITICAL"],
];

export function LogView({ instance }: { instance?: string }) {
  const [records, setRecords] = useState<LogEntry[]>([]);
  const [status, setStatus] = useState("connecting");
  const [paused, setPaused] = useState(false);
  const [frozen, setFrozen] = useState<LogEntry[] | null>(null);
  const [level, setLevel] = useState(20);
  const [only, setOnly] = useState(instance ?? "");
  const [text, setText] = useState("");

  useEffect(
    () =>
      openLogSocket({
        onRecords: (batch) => setRecords((prev) => [...prev, ...batch].slice(-KEEP)),
        onStatus: (s, detail) => setStatus(detail ? `${s}: ${detail}` : s),
      }),
    [],
  );

  const source = paused && frozen ? frozen : records;
  const instances = useMemo(() => [...new Set(records.map((r) => r.instance_id).filter((x): x is string => Boolean(x)))].sort(), [records]);
  const needle = text.trim().toLowerCase();
  const shown = source
    .filter((r) => r.levelno >= level && (!only || r.instance_id === only) && (!needle || `${r.name} ${r.msg}`.toLowerCase().includes(needle)))
    .slice(-SHOWN)
    .reverse();

  const togglePause = () => {
    if (paused) {
      setPaused(false);
      setFrozen(null);
    } else {
      setFrozen(records);
      setPaused(true);
    }
  };

  const idBase = instance ? `log-${instance}` : "log";
  return (
    <div class="log-view">
      <div class="row filters">
        <div>
          <label for={`${idBase}-level`}>Level</label>
          <select id={`${idBase}-level`} value={String(level)} onChange={(e) => setLevel(Number(e.currentTarget.value))}>
            {LEVELS.map(([n, name]) => (
              <option key={n} value={String(n)}>
                {name} and above
              </option>
            ))}
          </select>
        </div>
        {!instance && (
          <div>
            <label for={`${idBase}-instance`}>Instance</label>
            <select id={`${idBase}-instance`} value={only} onChange={(e) => setOnly(e.currentTarget.value)}>
              <option value="">All</option>
              {instances.map((i) => (
                <option key={i} value={i}>
                  {i}
                </option>
              ))}
            </select>
          </div>
        )}
        <div>
          <label for={`${idBase}-text`}>Text</label>
          <input id={`${idBase}-text`} type="search" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        <div class="pause">
          <button type="button" class="secondary" onClick={togglePause} aria-pressed={paused}>
            {paused ? "Resume" : "Pause"}
          </button>
        </div>
      </div>
      <p class="muted" role="status">
        Stream {status}
        {paused ? `, paused (${records.length - (frozen?.length ?? 0)} new records waiting)` : ""}; showing {shown.length} of {source.length} records, newest first.
      </p>
      <ol class="log" aria-label="Log records" tabIndex={0}>
        {shown.map((r) => (
          <li key={r.id} class={`lvl-${r.levelname.toLowerCase()}`}>
            <time dateTime={r.time}>{r.time.slice(11, 19)}</time> <span class="lvl">{r.levelname}</span> <span class="muted">{r.name}</span> {r.msg}
            {r.exc_info && <pre>{r.exc_info}</pre>}
          </li>
        ))}
      </ol>
    </div>
  );
}
