// Builds the web UI (`claude-sessions web`): its server, dist/web-server.cjs, which the CLI
// loads only for `web` (the CLI bundle must not load grpc-js), and its page, dist/web/: one
// script, one style sheet and the HTML, with xterm.js and the generated API in them. Nothing is
// fetched at run time.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

await build({
  entryPoints: ["cli/web/web-server.ts"],
  outfile: "dist/web-server.cjs",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // Its packages load from node_modules as they are (grpc-js, Connect, ws).
  packages: "external",
  sourcemap: true,
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
});

rmSync("dist/web", { recursive: true, force: true });
mkdirSync("dist/web", { recursive: true });
await build({
  entryPoints: { app: "cli/web/page/app.ts", "app-style": "cli/web/page/app.css" },
  outdir: "dist/web",
  entryNames: "[name]",
  bundle: true,
  platform: "browser",
  target: ["chrome110", "firefox110", "safari16"],
  format: "esm",
  minify: true,
  logLevel: "warning",
});
// esbuild names a CSS entry's output after its entry; the page asks for app.css.
copyFileSync("dist/web/app-style.css", "dist/web/app.css");
rmSync("dist/web/app-style.css");
copyFileSync("cli/web/page/index.html", "dist/web/index.html");
