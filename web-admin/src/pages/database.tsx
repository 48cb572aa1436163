// An instance's database: its tables, the first rows of one, and a read-only SQL box whose
// result shows as a table.
import { useState } from "preact/hooks";
import { api } from "../api/client.js";
import type { QueryResult } from "../api/types.js";
import { useAction, useLoad } from "../components/hooks.js";
import { DataTable, ErrorText, Loading, Status } from "../components/ui.js";

function Result({ result, caption }: { result: QueryResult; caption: string }) {
  // The API (as maubot's) sends no columns with an answer of no rows, so an empty table lands here too.
  if (!result.columns || !result.rows) return <p>{result.rowcount !== undefined ? `${result.rowcount} rows changed.` : "No rows."}</p>;
  return (
    <>
      <DataTable caption={caption} columns={result.columns} rows={result.rows as unknown[][]} />
      <p class="muted">
        {result.rows.length} row{result.rows.length === 1 ? "" : "s"}
        {result.truncated ? " (more exist; the answer was cut)" : ""}.
      </p>
    </>
  );
}

export function DatabaseBrowser({ id }: { id: string }) {
  const tables = useLoad(() => api.databaseTables(id), [id]);
  const [table, setTable] = useState<string | null>(null);
  const [rows, setRows] = useState<QueryResult | null>(null);
  const [sql, setSql] = useState("");
  const [answer, setAnswer] = useState<QueryResult | null>(null);
  const [tableState, runTable] = useAction();
  const [queryState, runQuery] = useAction();

  const open = (name: string) => {
    setTable(name);
    setRows(null);
    void runTable(`Reading ${name}`, async () => {
      const result = await api.databaseTable(id, name);
      setRows(result);
      return `First rows of ${name}.`;
    });
  };
  const query = (e: Event) => {
    e.preventDefault();
    setAnswer(null);
    void runQuery("Running the query", async () => {
      const result = await api.databaseQuery(id, sql);
      setAnswer(result);
      return "Query done.";
    });
  };

  const names = Object.keys(tables.data ?? {});
  return (
    <div>
      <h3>Tables</h3>
      <ErrorText message={tables.error} />
      {tables.loading && <Loading what="tables" />}
      {tables.data && names.length === 0 && <p>No tables yet (the database is made when the instance first starts).</p>}
      <ul class="chips">
        {names.map((n) => (
          <li key={n}>
            <button type="button" class="secondary small" aria-pressed={table === n} onClick={() => open(n)}>
              {n}
            </button>
          </li>
        ))}
      </ul>
      <Status state={tableState} />
      {table && rows && <Result result={rows} caption={`First rows of ${table}`} />}
      <h3>Query</h3>
      <form onSubmit={query}>
        <label for={`sql-${id}`}>SQL (read-only)</label>
        <textarea id={`sql-${id}`} class="code" rows={3} value={sql} spellcheck={false} onInput={(e) => setSql(e.currentTarget.value)} placeholder="SELECT * FROM sqlite_master" />
        <button type="submit" disabled={queryState.busy || !sql.trim()}>
          Run
        </button>
        <Status state={queryState} />
      </form>
      {answer && <Result result={answer} caption="Query result" />}
    </div>
  );
}
