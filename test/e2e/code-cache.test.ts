/**
 * The CLI's V8 code cache fits the Node that runs it: the build's cache is taken by the Node
 * that built it, and another Node (or a cache made from another bundle) is not silently left
 * compiling from scratch on every run: the first run saves a cache of its own, beside the
 * bundle when it may, else in the user's cache directory, and later runs take it.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runProgram } from "../helpers/cli.js";
import { repoRoot } from "../helpers/paths.js";
import { tempDir } from "../helpers/temp-home.js";

const cacheName = `node-${process.version}-${process.arch}.cache`;

interface BinModule {
  readBundle(): { source: string; id: string | undefined; cachedData: Buffer | undefined };
  compileCli(source: string, cachedData: Buffer | undefined): { cachedDataRejected?: boolean };
}

/** The entry of the CLI installed under `root`, loaded as a module (it then only exports). */
function binAt(root: string): BinModule {
  return createRequire(join(root, "bin", "x.js"))("./claude-sessions.js") as BinModule;
}

describe("the CLI's code cache", () => {
  const scratch = tempDir("csc-");
  after(() => scratch.remove());

  it("the build's cache is taken by this Node, for this bundle", () => {
    const { source, id, cachedData } = binAt(repoRoot).readBundle();
    assert.match(id ?? "", /^[0-9a-f]{40}$/, "the bundle ends with its build id");
    assert.ok(cachedData, `dist/code-cache/${cacheName} exists and names this bundle`);
    assert.equal(binAt(repoRoot).compileCli(source, cachedData).cachedDataRejected, false);
  });

  it("where nothing can be saved beside the bundle, the first run saves one in the user's cache, which later runs take", async () => {
    // A copy of the installed CLI whose dist/code-cache cannot be a directory (even root
    // cannot create one there), so the cache must go to XDG_CACHE_HOME.
    const root = join(scratch.path, "install");
    mkdirSync(join(root, "bin"), { recursive: true });
    mkdirSync(join(root, "dist"));
    for (const file of ["bin/claude-sessions.js", "bin/package.json", "dist/cli.cjs"]) {
      copyFileSync(join(repoRoot, file), join(root, file));
    }
    writeFileSync(join(root, "dist", "code-cache"), "not a directory\n");
    const cacheHome = join(scratch.path, "cache");
    const userCache = join(cacheHome, "claude-sessions", cacheName);
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", XDG_CACHE_HOME: cacheHome };
    const version = () =>
      runProgram(process.execPath, [join(root, "bin", "claude-sessions.js"), "--version"], {
        cwd: scratch.path,
        env,
        timeoutMs: 30_000,
      });

    const first = await version();
    assert.equal(first.code, 0, first.stderr);
    // The entry reads the user's cache directory from the environment, as the CLI run did.
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cacheHome;
    after(() => {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
    });
    const { id, source, cachedData } = binAt(root).readBundle();
    assert.ok(cachedData, `the first run saved ${userCache}`);
    assert.equal(readFileSync(userCache).toString("latin1", 0, 40), id);
    assert.equal(statSync(join(cacheHome, "claude-sessions")).mode & 0o777, 0o700);
    assert.equal(binAt(root).compileCli(source, cachedData).cachedDataRejected, false);

    // A cache made from another bundle is not used, and the next run replaces it.
    writeFileSync(userCache, Buffer.concat([Buffer.from("0".repeat(40)), cachedData]));
    assert.equal(binAt(root).readBundle().cachedData, undefined);
    const second = await version();
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.equal(readFileSync(userCache).toString("latin1", 0, 40), id);
  });
});
