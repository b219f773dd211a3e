#!/usr/bin/env node
// The CLI's entry. CommonJS (see package.json beside it): Node 20 starts a CommonJS entry
// sooner than an ES module one.
//
// The CLI is one bundle, dist/cli.cjs, run here with V8's code cache for it, dist/cli.cjs.cache,
// which the build writes (scripts/write-code-cache.cjs): the functions a command runs then need
// no parsing or compiling at start-up, as with Node 22's module.enableCompileCache(). The cache
// starts with the SHA-1 of the bundle it was made from and is used only with that bundle (V8
// itself compares only the length of the source); V8 also checks its own version and flags and
// ignores a cache that does not fit. Without a usable cache the bundle is compiled as usual.
// Code restored from a code cache cannot import() on Node 20, so the bundle never does (the
// build checks it); what must, does it from a script of its own (cli/daemon-foreground.ts).
"use strict";
const { createHash } = require("node:crypto");
const { readFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

const bundle = join(__dirname, "..", "dist", "cli.cjs");
const cacheFile = `${bundle}.cache`;
const DIGEST_BYTES = 20;

function digest(source) {
  return createHash("sha1").update(source).digest();
}

/** The bundle's source and, if there is one for it, its code cache. */
function readBundle() {
  const source = readFileSync(bundle, "utf8");
  let cache;
  try {
    cache = readFileSync(cacheFile);
  } catch {
    return { source, cachedData: undefined };
  }
  const fits = digest(source).equals(cache.subarray(0, DIGEST_BYTES));
  return { source, cachedData: fits ? cache.subarray(DIGEST_BYTES) : undefined };
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

/** The cache file for `script`, compiled from `source`, with what it has run so far. */
function codeCache(script, source) {
  return Buffer.concat([digest(source), script.createCachedData()]);
}

if (require.main !== module) {
  module.exports = { readBundle, compileCli, runCli, codeCache, cacheFile };
} else {
  const { source, cachedData } = readBundle();
  runCli(compileCli(source, cachedData));
}
