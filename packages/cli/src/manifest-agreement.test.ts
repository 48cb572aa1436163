// botyard-cli and the host read maubot.yaml from one definition (@botyard/sdk/manifest): the same
// manifests go to both, and each is refused by both or by neither. `main` is "index.js"
// throughout, a name both sides accept (the CLI's source entry and the host's bundled file differ
// in what they allow, by design).
import { describe, expect, it } from "vitest";
import { manifestFromFields } from "../../host/src/bundles/manifest.js";
import { validateSourceManifest } from "./manifest.js";

const base = { id: "org.example.agree", version: "1.0.0", main: "index.js" };

const accepted: Array<[string, unknown]> = [
  ["the three required fields", base],
  [
    "every field botyard reads, and one it does not know",
    {
      ...base,
      main_class: "AgreePlugin",
      license: "MIT",
      config: true,
      config_schema: { type: "object" },
      database: true,
      database_type: "sqlite",
      webapp: true,
      extra_files: ["LICENSE", "assets/*.txt"],
      botyard: ">=0.1 <1",
      replaces: ["xyz.maubot.agree"],
      dependencies: [],
      maubot: "0.1.0",
    },
  ],
  ["a pre-release version with build metadata", { ...base, version: "1.0.0-beta.1+build.5" }],
  ["a config_schema file without config: true", { ...base, config_schema: "schema.json" }],
  ["main as .mjs", { ...base, main: "plugin.mjs" }],
];

const refused: Array<[string, unknown]> = [
  ["not a mapping (a list)", [base]],
  ["not a mapping (a string)", "id: x"],
  ["no id", { version: "1.0.0", main: "index.js" }],
  ["an id with capitals and a space", { ...base, id: "Org.Example Agree" }],
  ["an id of 256 characters", { ...base, id: `a${"b".repeat(255)}` }],
  ["no version", { id: base.id, main: "index.js" }],
  ["a two-part version", { ...base, version: "1.0" }],
  ["a version with a leading v", { ...base, version: "v1.0.0" }],
  ["a version with a trailing space", { ...base, version: "1.0.0 " }],
  ["a version semver cannot order (a number past 2^53)", { ...base, version: "99999999999999999999.0.0" }],
  ["a version as a number", { ...base, version: 1 }],
  ["no main", { id: base.id, version: "1.0.0" }],
  ["a Python main", { ...base, main: "plugin.py" }],
  ["a main of 5,000 characters", { ...base, main: `${"d/".repeat(2500)}index.js` }],
  ["a main_class that is not an identifier", { ...base, main_class: "1Plugin" }],
  ["database as a string", { ...base, database: "yes" }],
  ["config_schema as a list", { ...base, config_schema: [] }],
  ["extra_files with 1,001 entries", { ...base, extra_files: Array.from({ length: 1001 }, (_, i) => `f${i}`) }],
  ["an empty extra_files entry", { ...base, extra_files: [""] }],
  ["a botyard range that is not one", { ...base, botyard: "whenever" }],
  ["botyard as a number", { ...base, botyard: 1 }],
  ["replaces naming an invalid id", { ...base, replaces: ["Not An Id"] }],
  ["replaces with 17 ids", { ...base, replaces: Array.from({ length: 17 }, (_, i) => `org.old.p${i}`) }],
  ["a Python maubot manifest (modules)", { id: "xyz.maubot.echo", version: "1.4.0", modules: ["echo"], main_class: "EchoBot" }],
  ["modules next to a main", { ...base, modules: ["agree"] }],
];

function refusedBy(check: (raw: unknown) => unknown, raw: unknown): boolean {
  try {
    check(raw);
    return false;
  } catch {
    return true;
  }
}

describe("the CLI and the host agree on maubot.yaml", () => {
  it.each(accepted)("both accept %s", (_name, raw) => {
    expect({ host: refusedBy(manifestFromFields, raw), cli: refusedBy(validateSourceManifest, raw) }).toEqual({ host: false, cli: false });
  });

  it.each(refused)("both refuse %s", (_name, raw) => {
    expect({ host: refusedBy(manifestFromFields, raw), cli: refusedBy(validateSourceManifest, raw) }).toEqual({ host: true, cli: true });
  });
});
