/**
 * Host memory baseline: a bare Node holding one idle program in a pseudo-terminal through
 * node-pty, reading its output, and doing nothing else: the least a process that holds a
 * terminal in Node can weigh. `node pty-idle.js <program> [args...]` prints `{"pid": N}` (the
 * program's pid) once it runs; when its stdin closes it kills the program and exits.
 */
import { tmpdir } from "node:os";
import { spawnRawPty } from "../lib/raw-pty.js";

const argv = process.argv.slice(2);
if (argv.length === 0) {
  process.stderr.write("usage: pty-idle.js <program> [args...]\n");
  process.exit(2);
}
const child = spawnRawPty(argv, {
  cwd: tmpdir(),
  env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
});
// Read the terminal as a host does, so its output cannot fill it.
child.onData(() => undefined);
process.stdout.write(`${JSON.stringify({ pid: child.pid })}\n`);
// The bench closes stdin to end it, and so does the bench's own end, however it ends.
process.stdin.resume();
process.stdin.on("end", () => child.kill());
await child.exited;
process.exit(0);
