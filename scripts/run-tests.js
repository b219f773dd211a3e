// Runs every compiled test file with Node's test runner. Integration tests wait on real
// processes more than they compute, so they run a few files at a time even on 2 cores.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "helpers" ? [] : find(path);
    return name.endsWith(".test.js") ? [path] : [];
  });
}

const filter = process.argv.slice(2);
const files = find("dist/test")
  .filter((file) => filter.length === 0 || filter.some((word) => file.includes(word)))
  .sort();
if (files.length === 0) {
  console.error("no test files found under dist/test");
  process.exit(1);
}
// CI runs the suite on more than one Node: say which one this is (the test files run on it too).
console.log(`run-tests: ${files.length} files on Node ${process.version} (${process.execPath})`);
// Every test asserts behaviour only (timings and memory ceilings are measured in bench/), so
// no file needs the machine to itself and all run in one pool.
const result = spawnSync(
  process.execPath,
  [
    "--test",
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? "3"}`,
    "--test-timeout=300000",
    ...files,
  ],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
