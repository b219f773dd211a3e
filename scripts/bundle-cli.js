// Bundles the CLI into one file (dist/cli.js): one module to load instead of hundreds keeps
// start-up close to bare Node. The daemon is not bundled: it runs from dist/daemon/.
import { build } from "esbuild";

await build({
  entryPoints: ["cli/entry.ts"],
  outfile: "dist/cli.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  // Loaded lazily by grpc-js for features the CLI never uses.
  external: ["@grpc/proto-loader", "node-pty", "@xterm/*"],
  banner: {
    // grpc-js is CommonJS and calls require(); give the ES module bundle one.
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  logLevel: "warning",
});
