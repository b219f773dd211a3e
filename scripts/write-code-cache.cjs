// Writes V8's code cache for the CLI bundle (see bin/claude-sessions.js): compiles the bundle,
// runs it a few times so that the functions commands use get compiled (--help sets up every
// command, clipanion and the protobuf registry; list and status go through the transport to a
// socket where nothing listens, and never start a daemon since --socket is given), then saves
// the code of every function compiled so far.
"use strict";
const { mkdtempSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const {
  readBundle,
  compileCli,
  runCli,
  codeCache,
  cacheFile,
} = require("../bin/claude-sessions.js");

const empty = mkdtempSync(join(tmpdir(), "claude-sessions-cache-"));
const nowhere = join(empty, "daemon.sock");
const { source } = readBundle();
const script = compileCli(source, undefined);
for (const args of [["--help"], ["list", "--socket", nowhere], ["status", "--socket", nowhere]]) {
  // The bundle reads its arguments when it starts.
  process.argv = [process.argv[0], "claude-sessions", ...args];
  runCli(script);
}
process.once("exit", () => {
  writeFileSync(cacheFile, codeCache(script, source));
  rmSync(empty, { recursive: true, force: true });
  // The runs fail on purpose (nothing listens); the cache is what counts.
  process.exitCode = 0;
});
