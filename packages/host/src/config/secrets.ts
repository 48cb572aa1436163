// Secrets may be written inline or read from a file: `{file: <path>}` (relative to the config's
// folder) or `{credential: <name>}` (systemd LoadCredential, `$CREDENTIALS_DIRECTORY/<name>`).
import { readFileSync } from "node:fs";
import path from "node:path";
import { ConfigError } from "./types.js";

export type SecretSpec = string | { file: string } | { credential: string };

export interface SecretSource {
  /** Folder relative `file:` paths resolve against. */
  configDir: string;
  /** Usually process.env.CREDENTIALS_DIRECTORY. */
  credentialsDirectory: string | undefined;
  /** For messages, e.g. "config.yaml". */
  fileLabel: string;
}

export interface ResolvedSecret {
  value: string;
  /** True when the value came from a file, so it cannot be rewritten in config.yaml. */
  external: boolean;
}

export function resolveSecret(spec: SecretSpec, keyPath: string, source: SecretSource): ResolvedSecret {
  if (typeof spec === "string") return { value: spec, external: false };
  let file: string;
  if ("file" in spec) {
    file = path.resolve(source.configDir, spec.file);
  } else {
    if (!source.credentialsDirectory) {
      throw new ConfigError(
        `${source.fileLabel}: ${keyPath} names the credential "${spec.credential}" but $CREDENTIALS_DIRECTORY is not set ` +
          `(it is set by systemd's LoadCredential=)`,
      );
    }
    file = path.join(source.credentialsDirectory, spec.credential);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(`${source.fileLabel}: ${keyPath}: cannot read secret file ${file} (${code})`);
  }
  // Files written by `echo` or editors end in a newline that is not part of the secret.
  return { value: text.replace(/\r?\n$/, ""), external: true };
}
