import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SHIPPED_RECORD, syncShippedBundles } from "./shipped-bundles.js";

let dir: string;
let build: string;
let upload: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "botyard-shipped-"));
  build = path.join(dir, "build");
  upload = path.join(dir, "data", "plugins");
  mkdirSync(build);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Replaces build/ by these bundles (name → contents), as a rebuild does. */
function rebuild(bundles: Record<string, string>): void {
  rmSync(build, { recursive: true, force: true });
  mkdirSync(build);
  for (const [name, text] of Object.entries(bundles)) writeFileSync(path.join(build, name), text);
}
const uploaded = () => readdirSync(upload).filter((n) => n.endsWith(".mbp")).sort();
const contents = (name: string) => readFileSync(path.join(upload, name), "utf8");

describe("syncShippedBundles", () => {
  it("adds new shipped bundles, then updates them when the build changes them, and logs each change", () => {
    rebuild({ "echo-v0.1.0.mbp": "echo 1", "owncast-sentry-v1.0.0.mbp": "sentry 1" });
    expect(syncShippedBundles(build, upload)).toEqual([
      { file: "echo-v0.1.0.mbp", action: "added" },
      { file: "owncast-sentry-v1.0.0.mbp", action: "added" },
    ]);
    expect(syncShippedBundles(build, upload)).toEqual([]);

    // Same version, edited code.
    rebuild({ "echo-v0.1.0.mbp": "echo 1 edited", "owncast-sentry-v1.0.0.mbp": "sentry 1" });
    expect(syncShippedBundles(build, upload)).toEqual([{ file: "echo-v0.1.0.mbp", action: "updated" }]);
    expect(contents("echo-v0.1.0.mbp")).toBe("echo 1 edited");

    // A new version replaces the old file (two bundles of one plugin would fight at load).
    rebuild({ "echo-v0.2.0.mbp": "echo 2", "owncast-sentry-v1.0.0.mbp": "sentry 1" });
    expect(syncShippedBundles(build, upload)).toEqual([{ file: "echo-v0.2.0.mbp", action: "updated", replaced: "echo-v0.1.0.mbp" }]);
    expect(uploaded()).toEqual(["echo-v0.2.0.mbp", "owncast-sentry-v1.0.0.mbp"]);
    expect(existsSync(path.join(upload, SHIPPED_RECORD))).toBe(true);
  });

  it("never replaces a bundle the operator uploaded, edited or removed", () => {
    rebuild({ "echo-v0.1.0.mbp": "echo 1", "owncast-sentry-v1.0.0.mbp": "sentry 1" });
    syncShippedBundles(build, upload);
    // An upload of the plugin trashed the shipped file and stored its own under the plugin id.
    rmSync(path.join(upload, "echo-v0.1.0.mbp"));
    writeFileSync(path.join(upload, "org.botyard.echo-v0.3.0.mbp"), "operator's echo");
    // The operator put their own build over the shipped file.
    writeFileSync(path.join(upload, "owncast-sentry-v1.0.0.mbp"), "operator's sentry");

    rebuild({ "echo-v0.2.0.mbp": "echo 2", "owncast-sentry-v1.1.0.mbp": "sentry 2" });
    expect(syncShippedBundles(build, upload)).toEqual([]);
    expect(uploaded()).toEqual(["org.botyard.echo-v0.3.0.mbp", "owncast-sentry-v1.0.0.mbp"]);
    expect(contents("owncast-sentry-v1.0.0.mbp")).toBe("operator's sentry");
  });

  it("takes over the copies an older npm start made without a record", () => {
    mkdirSync(upload, { recursive: true });
    writeFileSync(path.join(upload, "echo-v0.1.0.mbp"), "echo 1 as first copied");
    writeFileSync(path.join(upload, "owncast-sentry-v1.0.0.mbp"), "sentry 1");
    rebuild({ "echo-v0.1.0.mbp": "echo 1 edited", "owncast-sentry-v1.0.1.mbp": "sentry 1.0.1" });
    expect(syncShippedBundles(build, upload)).toEqual([
      { file: "echo-v0.1.0.mbp", action: "updated" },
      { file: "owncast-sentry-v1.0.1.mbp", action: "updated", replaced: "owncast-sentry-v1.0.0.mbp" },
    ]);
    expect(contents("echo-v0.1.0.mbp")).toBe("echo 1 edited");
    expect(uploaded()).toEqual(["echo-v0.1.0.mbp", "owncast-sentry-v1.0.1.mbp"]);
    expect(syncShippedBundles(build, upload)).toEqual([]);
  });
});
