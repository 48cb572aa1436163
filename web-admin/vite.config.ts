import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// base "./": the host serves the page under any ui_base_path and puts a <base href> in
// index.html, so asset URLs stay right on client-side routes like /instances/x.
export default defineConfig({
  base: "./",
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Hashed names: the host serves assets/ with a year-long immutable cache.
    assetsDir: "assets",
  },
});
