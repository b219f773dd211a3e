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
// Tests that compare timings (`*.serial.test.js`) run afterwards, alone, so that other test
// files do not load the machine while they measure.
const serial = files.filter((file) => file.endsWith(".serial.test.js"));
const parallel = files.filter((file) => !serial.includes(file));
const phases = [
  [parallel, process.env.TEST_CONCURRENCY ?? "3"],
  [serial, "1"],
];
let status = 0;
for (const [group, concurrency] of phases) {
  if (group.length === 0) continue;
  const result = spawnSync(
    process.execPath,
    ["--test", `--test-concurrency=${concurrency}`, "--test-timeout=300000", ...group],
    { stdio: "inherit" },
  );
  if (result.status !== 0) status = result.status ?? 1;
}
process.exit(status);
