// The YAML tab's editor: a plain textarea until CodeMirror has loaded, then CodeMirror.
import { useEffect, useRef, useState } from "preact/hooks";
import type { EditorView } from "@codemirror/view";

export function YamlEditor({ id, label, value, onChange }: { id: string; label: string; value: string; onChange: (text: string) => void }) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;
  const [ready, setReady] = useState(false);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let cancelled = false;
    import("./codemirror.js").then(
      (m) => {
        if (cancelled || !host.current) return;
        view.current = m.createYamlEditor(host.current, value, label, (text) => onChangeRef.current(text));
        setReady(true);
      },
      () => setFailed(true),
    );
    return () => {
      cancelled = true;
      view.current?.destroy();
      view.current = null;
    };
  }, []);

  // The form tab may have changed the text; keep the editor in step without losing its history.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
  }, [value]);

  return (
    <>
      <div ref={host} class="code-editor" id={id} hidden={!ready} />
      {!ready && (
        <>
          <textarea class="code" aria-label={label} value={value} rows={20} spellcheck={false} onInput={(e) => onChange(e.currentTarget.value)} />
          {!failed && <p class="hint">Loading the editor…</p>}
        </>
      )}
    </>
  );
}
