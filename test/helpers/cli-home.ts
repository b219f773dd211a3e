/**
 * A daemon fixture driven only through the built CLI, as a user would: the CLI starts the
 * daemon. Cleaning up stops it with `stop-daemon` (which stops its sessions), then the fixture's
 * cleanup ends whatever that left (the daemon, the sessions' processes) and removes the home.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type CliResult, runCli } from "./cli.js";
import { DaemonFixture } from "./daemon-fixture.js";

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
  const fixture = new DaemonFixture({ prefix: "cse-" });
  const { home } = fixture;
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
        // Every session process seen, so none survives the test even if the daemon is killed.
        if (typeof pid === "number") fixture.reap(pid);
      }
      return value;
    },
    daemonPid,
    async cleanup() {
      await run(["stop-daemon", "--timeout", "1s"]).catch(() => undefined);
      await fixture.cleanup();
    },
  };
}
