// CodeMirror 6 with YAML highlighting, in its own chunk: loaded only when the YAML tab opens.
import { yaml } from "@codemirror/lang-yaml";
import { EditorView, basicSetup } from "codemirror";

export function createYamlEditor(parent: HTMLElement, text: string, label: string, onChange: (text: string) => void): EditorView {
  return new EditorView({
    doc: text,
    parent,
    extensions: [
      basicSetup,
      yaml(),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({ "aria-label": label }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    ],
  });
}
