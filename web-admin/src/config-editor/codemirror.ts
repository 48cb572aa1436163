// CodeMirror 6 with YAML highlighting, in its own chunk: loaded only when the YAML tab opens.
import { yaml } from "@codemirror/lang-yaml";
import { EditorView, basicSetup } from "codemirror";

export function createYamlEditor(parent: HTMLElement, text: string, label: string, onChange: (text: string) => void): EditorView {
  const view = new EditorView({
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
  // A long config scrolls inside the editor; keyboard users must be able to reach that scroll box.
  view.scrollDOM.tabIndex = 0;
  view.scrollDOM.setAttribute("aria-label", `${label}, scrollable`);
  return view;
}
