#!/usr/bin/env node
// The CLI's entry. CommonJS (see package.json beside it): Node 20 starts a CommonJS entry
// sooner than an ES module one.
//
// The CLI is one bundle, dist/cli.cjs, run here with V8's code cache for it: the functions a
// command runs then need no parsing or compiling at start-up, as with Node 22's
// module.enableCompileCache(). A code cache fits one bundle and one V8, so there is one per
// Node version and architecture (dist/code-cache/node-v20.20.2-x64.cache), each starting with
// the id of the bundle it was made from; the bundle's last line carries its id, a hash of its
// content written by the build (V8 itself compares only the length of the source).
//
// The build writes the cache for the Node that built the CLI (scripts/write-code-cache.cjs).
// Run by another Node, or by one whose V8 rejects the cache, the CLI compiles the bundle as
// usual and, on its way out, saves a cache for the Node that ran it: beside the bundle if it
// may, or else in the user's own cache directory. Never in a place others can write: a code
// cache is code.
//
// Code restored from a code cache cannot import() on Node 20, so the bundle never does (the
// build checks it); what must, does it from a script of its own (cli/daemon-foreground.ts).
"use strict";
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

const bundle = join(__dirname, "..", "dist", "cli.cjs");
const cacheName = `node-${process.version}-${process.arch}.cache`;
/** Where the build puts its cache, and where any other is saved when it may be. */
const builtCacheDir = join(__dirname, "..", "dist", "code-cache");
const ID_BYTES = 40;
const ID_LINE = /\/\/# buildId=([0-9a-f]{40})\s*$/;

/** The user's own cache directory for the CLI, if the environment names a home. */
function userCacheDir() {
  const base =
    process.env.XDG_CACHE_HOME || (process.env.HOME ? join(process.env.HOME, ".cache") : "");
  return base ? join(base, "claude-sessions") : undefined;
}

/** The bundle's source, its id, and the code cache made from it for this Node, if there is one. */
function readBundle() {
  const source = readFileSync(bundle, "utf8");
  const id = ID_LINE.exec(source.slice(-64))?.[1];
  if (id === undefined) return { source, id, cachedData: undefined };
  for (const dir of [builtCacheDir, userCacheDir()]) {
    if (dir === undefined) continue;
    let cache;
    try {
      cache = readFileSync(join(dir, cacheName));
    } catch {
      continue;
    }
    if (cache.toString("latin1", 0, ID_BYTES) === id) {
      return { source, id, cachedData: cache.subarray(ID_BYTES) };
    }
  }
  return { source, id, cachedData: undefined };
}

/** Compiles the bundle as a CommonJS module, with `cachedData` if given. */
function compileCli(source, cachedData) {
  return new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    { filename: bundle, cachedData },
  );
}

/** Runs a compiled bundle. */
function runCli(script) {
  const cli = { exports: {} };
  script.runInThisContext()(cli.exports, createRequire(bundle), cli, bundle, dirname(bundle));
}

/**
 * Saves the code cache of `script` (with every function it has run so far) for this Node,
 * in the first of `dirs` it can write; returns where, or undefined. Written whole, then
 * renamed, so a CLI starting meanwhile never reads half of one.
 */
function saveCodeCache(script, id, dirs) {
  const data = Buffer.concat([Buffer.from(id, "latin1"), script.createCachedData()]);
  for (const dir of dirs) {
    if (dir === undefined) continue;
    const file = join(dir, cacheName);
    const temp = `${file}.${process.pid}.tmp`;
    try {
      // The one beside the bundle serves every user; the user's own is theirs alone.
      mkdirSync(dir, { recursive: true, mode: dir === builtCacheDir ? 0o755 : 0o700 });
      writeFileSync(temp, data, { mode: 0o644 });
      renameSync(temp, file);
      return file;
    } catch {
      // Not writable here (a package installed by another user): try the next place.
    }
  }
  return undefined;
}

if (require.main !== module) {
  module.exports = { readBundle, compileCli, runCli, saveCodeCache, builtCacheDir };
} else {
  const { source, id, cachedData } = readBundle();
  const script = compileCli(source, cachedData);
  // Flags change what V8 accepts (a profiler, another heap size): a run with any gets no cache
  // of its own, so that it does not replace the one plain runs use.
  const plain = process.execArgv.length === 0 && !process.env.NODE_OPTIONS;
  if (id !== undefined && plain && (cachedData === undefined || script.cachedDataRejected)) {
    process.once("exit", () => saveCodeCache(script, id, [builtCacheDir, userCacheDir()]));
  }
  runCli(script);
}
