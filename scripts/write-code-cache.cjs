// Writes V8's code cache for the CLI bundle and the Node that runs this (see
// bin/claude-sessions.js): compiles the bundle, runs it a few times so that the functions
// commands use get compiled (--help sets up every command, clipanion and the protobuf
// registry; list and status go through the transport to a socket where nothing listens, and
// never start a daemon since --socket is given), then saves the code of every function
// compiled so far into dist/code-cache/.
"use strict";
const { mkdtempSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const {
  readBundle,
  compileCli,
  runCli,
  saveCodeCache,
  builtCacheDir,
} = require("../bin/claude-sessions.js");

const empty = mkdtempSync(join(tmpdir(), "claude-sessions-cache-"));
const nowhere = join(empty, "daemon.sock");
const { source, id } = readBundle();
if (id === undefined) {
  console.error("dist/cli.cjs has no buildId line: build it with scripts/bundle-cli.js");
  process.exit(1);
}
const script = compileCli(source, undefined);
for (const args of [["--help"], ["list", "--socket", nowhere], ["status", "--socket", nowhere]]) {
  // The bundle reads its arguments when it starts.
  process.argv = [process.argv[0], "claude-sessions", ...args];
  runCli(script);
}
process.once("exit", () => {
  rmSync(empty, { recursive: true, force: true });
  // The runs fail on purpose (nothing listens); the cache is what counts.
  process.exitCode = saveCodeCache(script, id, [builtCacheDir]) === undefined ? 1 : 0;
});
