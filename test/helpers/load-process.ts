/**
 * Runs the load generator against a running daemon in a process of its own, so that its work
 * does not share the caller's event loop, and returns its summary.
 */
import { fileURLToPath } from "node:url";
import { runProgram } from "./cli.js";
import type { LoadOptions, LoadResult } from "./load-generator.js";

const loadChild = fileURLToPath(new URL("./load-child.js", import.meta.url));

/** Loads the daemon on `socket` from another process; rejects if the generator fails. */
export async function loadFromProcess(socket: string, options: LoadOptions): Promise<LoadResult> {
  const flags = Object.entries({ socket, ...options }).flatMap(([name, value]) => [
    `--${name}`,
    String(value),
  ]);
  const result = await runProgram(process.execPath, [loadChild, ...flags], {
    cwd: process.cwd(),
    env: process.env,
    // The calls still in flight at the end get a minute to finish.
    timeoutMs: (options.seconds + 60) * 1000,
  });
  if (result.code !== 0) throw new Error(`load generator exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as LoadResult;
}
