// Bundles the CLI into one file (dist/cli.cjs): one script to load instead of hundreds of
// modules keeps start-up close to bare Node. The daemon is not bundled: it runs from dist/daemon/.
//
// CommonJS, not ESM: esbuild can then initialise a lazily imported module (the daemon launcher
// and its child_process, the interactive attach) only when a command needs it, where an ESM
// bundle would hoist every `import` of a Node module to the top and load them all at start.
//
// The build fails if anything a command that only talks to the daemon must never load (grpc-js,
// node-pty, xterm, the daemon's internals) finds its way into the bundle.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { build } from "esbuild";

// The code caches of the previous bundle go first (they would not fit it anyway: each names
// the bundle it was made from).
rmSync("dist/code-cache", { recursive: true, force: true });
rmSync("dist/cli.cjs.cache", { force: true });

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  // clipanion and typanion ship ES modules (.mjs) beside CommonJS; these let esbuild drop unused parts.
  resolveExtensions: [".ts", ".mjs", ".js", ".json"],
  minify: true,
  sourcemap: true,
  // The sources are ES modules; in the bundle `import.meta.url` is the bundle's own URL.
  define: { "import.meta.url": "__bundleUrl" },
  banner: { js: 'const __bundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
};

/**
 * protobuf-es's `fileDesc` boots descriptor.proto's whole registry before it can read the
 * descriptors embedded in gen/; the CLI reads them itself (cli/rpc/file-descriptor.ts).
 */
const descriptorReader = {
  name: "descriptor-reader",
  setup(esbuild) {
    const reader = resolve("cli/rpc/file-descriptor.ts");
    esbuild.onLoad(
      { filter: /@bufbuild[\\/]protobuf[\\/]dist[\\/]\w+[\\/]codegenv2[\\/]file\.js$/ },
      () => ({
        contents: `export { fileDesc } from ${JSON.stringify(reader)};`,
        loader: "js",
      }),
    );
  },
};

const result = await build({
  ...common,
  entryPoints: ["cli/entry.ts"],
  outfile: "dist/cli.cjs",
  metafile: true,
  plugins: [descriptorReader],
});

// `daemon --foreground` imports the daemon's entry from a script of its own (see
// cli/daemon-foreground.ts): code restored from V8's code cache cannot import() on Node 20.
await build({
  ...common,
  entryPoints: ["cli/daemon-foreground.ts"],
  outfile: "dist/daemon-foreground.cjs",
});
// `logs --plain` renders the log with xterm from a script of its own (see cli/log-render.ts).
await build({
  ...common,
  entryPoints: ["cli/log-render.ts"],
  outfile: "dist/log-render.cjs",
});
// The session host: one small process per session, so one file with only what it uses (see
// daemon/host/host-wire.ts for why it carries no protobuf runtime). node-pty is native.
const host = await build({
  ...common,
  entryPoints: ["daemon/host/host-main.ts"],
  outfile: "dist/session-host.cjs",
  external: ["node-pty"],
  metafile: true,
});
writeFileSync("dist/session-host.meta.json", JSON.stringify(host.metafile));
if (/\bimport\(/.test(readFileSync("dist/cli.cjs", "utf8"))) {
  console.error("the CLI bundle must not import() at run time; see cli/daemon-foreground.ts");
  process.exit(1);
}

writeFileSync("dist/cli.meta.json", JSON.stringify(result.metafile));

/** What may only be loaded by the daemon process (`daemon --foreground` imports it at run time). */
const forbidden = [
  /node_modules\/@grpc\//,
  /node_modules\/node-pty\//,
  /node_modules\/@xterm\//,
  // Loading it builds descriptor.proto's registry at start-up; see descriptorReader above.
  /node_modules\/@bufbuild\/protobuf\/.*\/descriptor_pb\.js$/,
  // Of the daemon, only what it shares with its clients (daemon/common/).
  /^daemon\/(?!common\/)/,
];
// What the bundle holds: the metafile's inputs also list modules that were read but shaken out.
const inputs = Object.entries(result.metafile.outputs["dist/cli.cjs"].inputs)
  .filter(([, input]) => input.bytesInOutput > 0)
  .map(([path]) => path);
const leaks = inputs.filter((input) => forbidden.some((pattern) => pattern.test(input)));
if (leaks.length > 0) {
  console.error(`the CLI bundle must not include:\n  ${leaks.join("\n  ")}`);
  process.exit(1);
}

// The bundle's id, which a code cache must carry to be used with it (bin/claude-sessions.js).
const id = createHash("sha1").update(readFileSync("dist/cli.cjs")).digest("hex");
appendFileSync("dist/cli.cjs", `//# buildId=${id}\n`);

// V8's code cache for the bundle and this Node, made by running it (scripts/write-code-cache.cjs).
const cache = spawnSync(process.execPath, ["scripts/write-code-cache.cjs"], { stdio: "ignore" });
if (cache.status !== 0) {
  console.error("writing the CLI's code cache failed: run node scripts/write-code-cache.cjs");
  process.exit(1);
}
