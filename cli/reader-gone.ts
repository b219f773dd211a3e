/**
 * Noticing that the reader of a pipe on stdout has gone while nothing is written to it
 * (`claude-sessions attach api </dev/null | head -c1` on a quiet session).
 *
 * A write to such a pipe fails with EPIPE, and the CLI's entry then exits 141 as cat and git do;
 * but a stream that has nothing to write would wait forever. The kernel flags the pipe's write
 * end (POLLERR) as soon as its last reader closes, and Node has no way to poll for it, so this
 * asks GNU tail, which does (coreutils' own check, since 8.28, is how `tail -f | head` ends):
 * `tail -f /dev/null` shares our stdout and exits as soon as its reader has gone. `--pid` ends
 * it with us, so it never holds the pipe open after we are gone. Where tail cannot do this (not
 * GNU, not found), the next write's EPIPE still ends the stream.
 */
import { spawn } from "node:child_process";
import { fstatSync } from "node:fs";

/**
 * Calls `onGone` once the reader of the pipe on stdout (fd 1) has gone. Does nothing when stdout
 * is not a pipe. Returns what stops watching.
 */
export function watchReaderGone(onGone: () => void): () => void {
  let isPipe = false;
  try {
    isPipe = fstatSync(1).isFIFO();
  } catch {
    // No stdout to watch.
  }
  if (!isPipe) return () => undefined;
  const tail = spawn("tail", ["-f", `--pid=${process.pid}`, "/dev/null"], {
    stdio: ["ignore", 1, "ignore"],
  });
  let watching = true;
  tail.on("error", () => {
    watching = false;
  });
  // GNU tail exits with SIGPIPE's status, or is killed by it, when its output has no reader.
  tail.on("exit", (code, signal) => {
    if (watching && (code === 141 || signal === "SIGPIPE")) onGone();
    watching = false;
  });
  tail.unref();
  return () => {
    if (!watching) return;
    watching = false;
    tail.kill();
  };
}
