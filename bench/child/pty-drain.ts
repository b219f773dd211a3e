/**
 * Throughput baseline: runs the generator in a pseudo-terminal straight from node-pty, in this
 * one process, and counts its output until it exits. Prints `{"bytes": N, "ms": T}`.
 */
import { tmpdir } from "node:os";
import { GENERATOR_BYTES, generatorCommand, READY_MARK } from "../lib/generator.js";
import { spawnRawPty } from "../lib/raw-pty.js";
import { msSince } from "../lib/stats.js";

const child = spawnRawPty(generatorCommand, {
  cwd: tmpdir(),
  env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
});
let head = "";
let start: bigint | undefined;
let bytes = 0;
child.onData((data) => {
  if (start !== undefined) {
    bytes += data.length;
    return;
  }
  head += data.toString("latin1");
  const mark = head.indexOf(READY_MARK);
  if (mark < 0) return;
  start = process.hrtime.bigint();
  child.write("\n");
  bytes += head.length - mark - READY_MARK.length;
});
const timer = setTimeout(() => {
  child.kill();
  process.stderr.write(`the generator did not finish; ${bytes} bytes so far\n`);
  process.exit(1);
}, 120_000);
await child.exited;
clearTimeout(timer);
if (start === undefined) {
  process.stderr.write(`the generator never got ready; output: ${JSON.stringify(head)}\n`);
  process.exit(1);
}
process.stdout.write(
  JSON.stringify({ bytes, ms: msSince(start), generatorBytes: GENERATOR_BYTES }),
);
