// The export names of a bundle's main ES module, read by lexing its text (es-module-lexer: a
// small, widely used lexer compiled to WebAssembly, no native code), never by loading it: no
// plugin code runs before an operator starts an instance. That the export really is a Plugin
// subclass can only be known by running the code, so the plugin worker checks it when the first
// instance starts and fails that instance with the reason.
import { initSync, parse } from "es-module-lexer";
import { BundleError } from "./bundle-error.js";

let lexerReady = false;

/** The names `source` exports, or a plugin_invalid BundleError when it is not parseable ESM. */
export function moduleExportNames(source: string, file: string): { names: string[]; reexportsAll: boolean } {
  if (!lexerReady) {
    // Compiles the lexer's small WebAssembly module, once, in the thread that lexes.
    initSync();
    lexerReady = true;
  }
  let lexed: ReturnType<typeof parse>;
  try {
    lexed = parse(source, file);
  } catch (err) {
    throw new BundleError("plugin_invalid", `${file} is not a parseable ES module (${(err as Error).message}); botyard-cli build bundles a plugin into one.`);
  }
  const [imports, exports] = lexed;
  // `export * from "x"`: statement text starts with "export"; its names are only known by loading x.
  const reexportsAll = imports.some((i) => i.ss >= 0 && /^export\s*\*\s*from/.test(source.slice(i.ss, i.se)));
  return { names: exports.map((e) => e.n), reexportsAll };
}

/** Refuses the bundle unless `mainClass` ("default" for the default export) is exported by the main module. */
export function checkMainExport(source: string, main: string, mainClass: string): void {
  const { names, reexportsAll } = moduleExportNames(source, main);
  if (names.includes(mainClass)) return;
  const what = mainClass === "default" ? "default export" : `export named ${JSON.stringify(mainClass)}`;
  const has = names.length > 0 ? `it exports ${names.slice(0, 20).join(", ")}` : "it exports nothing";
  const star = reexportsAll ? "; names re-exported with `export * from` cannot be checked without running the code, export the class directly" : "";
  throw new BundleError(
    "plugin_invalid",
    `${main} has no ${what} (maubot.yaml main_class; ${has}${star}). Export the Plugin subclass as default or name it in main_class.`,
  );
}
