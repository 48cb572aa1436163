// The layout rules of docs/ARCHITECTURE.md, checked on the source so they stay true: imports run
// downward only (store/, config/ and logging/ know nothing of api/, instances/, matrix/ or
// bundles/; workers/ knows nothing of instances/), and no module grows past 400 lines.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = dirname(fileURLToPath(import.meta.url));

/** Folder → the folders it may not import anything of. */
const FORBIDDEN: Record<string, readonly string[]> = {
  store: ["api", "instances", "matrix", "bundles"],
  config: ["api", "instances", "matrix", "bundles"],
  logging: ["api", "instances", "matrix", "bundles"],
  workers: ["instances"],
};

const MAX_LINES = 400;

/** Every non-test module under src, as a path relative to it with "/" separators. */
function modules(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return modules(full);
    if (!entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts") || entry.name.endsWith(".d.ts")) return [];
    return [relative(SRC, full).split(sep).join("/")];
  });
}

// `import ... from "x"`, `export ... from "x"`, `import "x"` and `import("x")`: a regex over the
// text is enough for this codebase's one-statement-per-import style (multi-line braces included).
const SPECIFIER = /(?:\bimport\s*(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?|\bexport\s+(?:type\s+)?[\w*{}\s,$]+?\s+from\s+|\bimport\s*\(\s*)["']([^"']+)["']/g;

/** The relative specifiers of a module's imports and re-exports, resolved to paths under src. */
function importsOf(module: string): string[] {
  const text = readFileSync(join(SRC, module), "utf8");
  const found: string[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1]!;
    if (!specifier.startsWith(".")) continue;
    found.push(relative(SRC, resolve(SRC, dirname(module), specifier)).split(sep).join("/"));
  }
  return found;
}

/** Lines as `wc -l` counts them (a final newline ends the last line, it does not start another). */
const lineCount = (text: string): number => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);

const topFolder = (path: string): string => (path.includes("/") ? path.slice(0, path.indexOf("/")) : "");

describe("the host's module layout", () => {
  const all = modules();

  it("finds the modules and their imports", () => {
    // Guards the checks below against a regex or a walk that silently finds nothing.
    expect(all).toContain("host.ts");
    expect(importsOf("host.ts")).toContain("store/host-store.js");
    expect(importsOf("host.ts")).toContain("matrix/client-pool.js");
  });

  it("imports run downward only", () => {
    const violations: string[] = [];
    for (const module of all) {
      const forbidden = FORBIDDEN[topFolder(module)];
      if (!forbidden) continue;
      for (const target of importsOf(module)) {
        if (forbidden.includes(topFolder(target))) violations.push(`${module} imports ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("calls nothing that loads ICU's locale data (about 9 MB of RSS; code-unit-order.ts says why)", () => {
    const LOCALE_SENSITIVE = /\.localeCompare\(|\.toLocale(?:String|DateString|TimeString|LowerCase|UpperCase)\(|\bIntl\./;
    const callers = all.filter((module) => LOCALE_SENSITIVE.test(readFileSync(join(SRC, module), "utf8").replace(/^\s*\/\/.*$/gm, "")));
    expect(callers).toEqual([]);
  });

  it(`has no module over ${MAX_LINES} lines`, () => {
    const long = all
      .map((module) => ({ module, lines: lineCount(readFileSync(join(SRC, module), "utf8")) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ module, lines }) => `${module}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});
