/**
 * Runs `bench/soak.ts` against a running daemon in a process of its own, so that the load
 * generator's work does not share the caller's event loop, and returns its summary.
 */
import { fileURLToPath } from "node:url";
import type { LoadResult } from "../../bench/soak.js";
import { runProgram } from "./cli.js";

const soakScript = fileURLToPath(new URL("../../bench/soak.js", import.meta.url));

export interface LoadOptions {
  /** Calls a second to aim for. */
  rate: number;
  seconds: number;
  /** Calls in flight at most; a call due beyond that is counted as skipped. */
  concurrency: number;
}

/** Loads the daemon on `socket` from another process; rejects if the generator fails. */
export async function loadFromProcess(socket: string, options: LoadOptions): Promise<LoadResult> {
  const flags = Object.entries({ socket, ...options }).flatMap(([name, value]) => [
    `--${name}`,
    String(value),
  ]);
  const result = await runProgram(process.execPath, [soakScript, ...flags], {
    cwd: process.cwd(),
    env: process.env,
    // The calls still in flight at the end get a minute to finish.
    timeoutMs: (options.seconds + 60) * 1000,
  });
  if (result.code !== 0) throw new Error(`load generator exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as LoadResult;
}
