/**
 * `daemon --foreground`: the daemon, run in this process.
 *
 * Built as its own small script, dist/daemon-foreground.cjs, that the CLI bundle loads with
 * require(): the bundle runs from V8's code cache (bin/claude-sessions.js), and on Node 20 code
 * restored from a code cache cannot import(), which loading the daemon's ES module entry needs.
 */
import { pathToFileURL } from "node:url";
import { daemonEntry } from "./daemon-entry.js";

/** Runs the daemon until it is told to stop; resolves with its exit code. */
export async function runDaemonInForeground(argv: readonly string[]): Promise<number> {
  const daemon = (await import(
    pathToFileURL(daemonEntry).href
  )) as typeof import("../daemon/main.js");
  return daemon.runDaemon(argv);
}
