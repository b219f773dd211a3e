/**
 * A temporary state home driven only through the built CLI, as a user would. Cleaning up stops
 * the daemon with `stop-daemon` (which stops its sessions), kills it and the sessions' processes
 * if that failed, and removes the home.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type CliResult, runCli } from "./cli.js";
import { tempHome } from "./temp-home.js";
import { isAlive, waitFor } from "./wait.js";

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

export interface CliHome {
  path: string;
  /** Runs `claude-sessions args` on this home. */
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  /** Runs and expects exit 0; returns stdout. */
  ok(args: readonly string[], options?: RunOptions): Promise<string>;
  /** Runs `args` with `--json` (before any `--`) and parses stdout. */
  json<T>(args: readonly string[], options?: RunOptions): Promise<T>;
  /** The pid in daemon.pid, if there is one. */
  daemonPid(): number | undefined;
  cleanup(): Promise<void>;
}

/** No stack trace, no internal error dump: what the CLI must never print. */
export function assertNoStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at .+[:(]/, `stack trace in stderr: ${stderr}`);
  assert.doesNotMatch(stderr, /node:internal|file:\/\//, `internal path in stderr: ${stderr}`);
}

export function cliHome(): CliHome {
  const home = tempHome("cse-");
  /** Every session process seen, so none survives the test even if the daemon is killed. */
  const sessionPids = new Set<number>();
  const run = (args: readonly string[], options: RunOptions = {}) =>
    runCli(args, { ...options, home: home.path });
  const ok = async (args: readonly string[], options: RunOptions = {}) => {
    const result = await run(args, options);
    assert.equal(
      result.code,
      0,
      `claude-sessions ${args.join(" ")} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
    assertNoStackTrace(result.stderr);
    return result.stdout;
  };
  const daemonPid = () => {
    try {
      return Number(readFileSync(join(home.path, "daemon.pid"), "utf8").trim());
    } catch {
      return undefined;
    }
  };
  return {
    path: home.path,
    run,
    ok,
    async json<T>(args: readonly string[], options: RunOptions = {}): Promise<T> {
      const separator = args.indexOf("--");
      const withJson =
        separator < 0
          ? [...args, "--json"]
          : [...args.slice(0, separator), "--json", ...args.slice(separator)];
      const value = JSON.parse(await ok(withJson, options)) as T;
      for (const session of Array.isArray(value) ? value : [value]) {
        const pid = (session as { pid?: unknown }).pid;
        if (typeof pid === "number" && pid > 0) sessionPids.add(pid);
      }
      return value;
    },
    daemonPid,
    async cleanup() {
      const pid = daemonPid();
      await run(["stop-daemon", "--timeout", "1s"]).catch(() => undefined);
      if (pid !== undefined && isAlive(pid)) {
        // stop-daemon failed: kill the daemon, and the sessions it can no longer stop.
        process.kill(pid, "SIGKILL");
        await waitFor("the daemon to die", () => !isAlive(pid), 5000);
        for (const sessionPid of sessionPids) {
          try {
            process.kill(-sessionPid, "SIGKILL"); // its process group: the program and its children
          } catch {
            // Already gone.
          }
        }
      }
      home.remove();
    },
  };
}
