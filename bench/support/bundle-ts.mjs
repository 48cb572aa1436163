// Bundles TypeScript test helpers (test/support/*.ts, a plugin's test server) into one ESM file
// plain Node can import, for the benches. Packages stay external, so `outfile` must be under the
// repository's node_modules/.cache where they resolve. Files that find things from their own
// location (synapse.ts finds ../shared/homeserver/synapse.sh) keep `import.meta.url` of `metaUrlOf`.
import { pathToFileURL } from "node:url";

export async function bundleTs(entry, outfile, metaUrlOf = entry) {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [entry],
    outfile,
    define: { "import.meta.url": JSON.stringify(pathToFileURL(metaUrlOf).href) },
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node22",
    logLevel: "error",
  });
  return import(pathToFileURL(outfile).href);
}
