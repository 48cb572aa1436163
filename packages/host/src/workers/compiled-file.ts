// Where a worker thread's entry file is. Workers run compiled JavaScript; the tests run the
// TypeScript sources, whose sibling .js does not exist, so the same path under dist/ is used.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** `relative` resolved against `base` (an import.meta.url), in src/ when compiled there, else in dist/. */
export function compiledFile(relative: string, base: string): string {
  const here = fileURLToPath(new URL(relative, base));
  if (existsSync(here)) return here;
  const compiled = here.replace(/([\\/])src([\\/])(?!.*[\\/]src[\\/])/, "$1dist$2");
  if (existsSync(compiled)) return compiled;
  throw new Error(`${relative} not found at ${here} or ${compiled}; build the host first (npx tsc -b packages/host)`);
}
