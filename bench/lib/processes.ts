/** Child processes for benchmarks: timed runs, helper scripts that answer in JSON, clean-up checks. */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { isAlive, waitFor } from "../../test/helpers/wait.js";
import { BenchFailure } from "./figure.js";
import { msSince } from "./stats.js";

export interface TimedRun {
  /** Wall time from spawn to the child's exit with its output closed, in ms. */
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` and times it from spawn to close, as a shell user would time it. Output is
 * collected, so a command that prints a lot pays for writing it to a pipe, like under `| less`.
 * `input`, if given, is written to its stdin (else it has none).
 */
export function timedRun(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string; input?: string } = {},
): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      ...(options.cwd !== undefined && { cwd: options.cwd }),
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (options.input !== undefined && child.stdin !== null) {
      // A program that exits before reading its stdin closes the pipe under the write.
      child.stdin.on("error", () => {});
      child.stdin.end(options.input);
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // Both are pipes (stdio above); only stdin's kind depends on the options.
    (child.stdout as Readable).on("data", (chunk: Buffer) => out.push(chunk));
    (child.stderr as Readable).on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new BenchFailure(`${command} ${args.join(" ")} did not finish in time`));
    }, options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = msSince(start);
      clearTimeout(timer);
      resolve({
        ms,
        code,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

/** The compiled path of a helper script under `bench/child/` (`ping-client` -> its .js). */
export function childScript(name: string): string {
  return fileURLToPath(new URL(`../child/${name}.js`, import.meta.url));
}

/** Runs a helper script with Node; it prints one JSON value on stdout, which is returned. */
export async function runJsonChild<T>(
  name: string,
  args: readonly string[],
  timeoutMs = 120_000,
): Promise<T> {
  const run = await timedRun(process.execPath, [childScript(name), ...args], { timeoutMs });
  if (run.code !== 0) {
    throw new BenchFailure(`${name} exited with ${run.code}: ${run.stderr.trim() || run.stdout}`);
  }
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new BenchFailure(`${name} printed no JSON: ${run.stdout.slice(0, 200)}`);
  }
}

/** Fails unless every pid in `pids` is gone within `timeoutMs`. */
export async function assertGone(pids: readonly number[], what: string, timeoutMs = 10_000) {
  const alive = () => pids.filter((pid) => pid > 0 && isAlive(pid));
  await waitFor(`${what} to exit`, () => alive().length === 0, timeoutMs, 50).catch(() => {
    throw new BenchFailure(`${what} left running: pid ${alive().join(", ")}`);
  });
}
