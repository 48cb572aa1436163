// Reads config.yaml as a YAML Document, so the values botyard fills in (generated secret,
// hashed passwords) can be written back without losing the operator's comments.
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Document, isScalar, parseDocument, Scalar } from "yaml";
import { ConfigError } from "./types.js";

export class ConfigFile {
  private constructor(
    readonly path: string,
    readonly doc: Document,
    /** How messages name the file: the path as the operator gave it. */
    readonly label: string,
  ) {}

  /** `label`: the path as given (`-c ./data/config.yaml`); default the file's name. */
  static read(file: string, label = path.basename(file)): ConfigFile {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      throw new ConfigError(`cannot read config file ${file} (${code})`);
    }
    return ConfigFile.parse(file, text, label);
  }

  static parse(file: string, text: string, label = path.basename(file)): ConfigFile {
    const doc = parseDocument(text, { prettyErrors: true });
    if (doc.errors.length > 0) {
      // yaml's pretty message: what is wrong, "at line L, column C:", then the line and a caret.
      const first = doc.errors[0]!;
      throw new ConfigError(`${label}: not valid YAML: ${first.message.trimEnd()}`);
    }
    return new ConfigFile(file, doc, label);
  }

  /** The plain data (a fresh copy each call). */
  toJS(): unknown {
    return this.doc.toJS() ?? {};
  }

  /** Replaces the value at `keys`, keeping the node's comments and quoting when it was a scalar. */
  set(keys: string[], value: string): void {
    const node = this.doc.getIn(keys, true);
    if (isScalar(node)) {
      node.value = value;
      // A hash or generated secret next to a comment must stay one scalar; quoting is harmless.
      if (node.type === Scalar.PLAIN) node.type = Scalar.QUOTE_DOUBLE;
    } else {
      const scalar = this.doc.createNode(value) as Scalar;
      scalar.type = Scalar.QUOTE_DOUBLE;
      this.doc.setIn(keys, scalar);
    }
  }

  /** Replaces the value at `keys` by a mapping (e.g. a `{credential: name}` secret). */
  setMap(keys: string[], value: Readonly<Record<string, string | Readonly<Record<string, string>>>>): void {
    this.doc.setIn(keys, this.doc.createNode(value, { flow: true }));
  }

  toString(): string {
    return this.doc.toString({ lineWidth: 0 });
  }

  /** Writes the document back atomically (temp file + rename), keeping the file mode. */
  save(): void {
    const text = this.toString();
    const tmp = `${this.path}.tmp-${process.pid}`;
    let mode = 0o600;
    try {
      mode = statSync(this.path).mode & 0o777;
    } catch {
      // new file: private by default, it holds secrets
    }
    writeFileSync(tmp, text, { mode });
    renameSync(tmp, this.path);
  }
}
