/**
 * git itself, run for the daemon: execFile (no shell), a timeout, no credential prompt, git's
 * messages in one language, and git's own reason on one line when it fails.
 */
import { execFile } from "node:child_process";
import { SessionError } from "./session-error.js";

const GIT_TIMEOUT_MS = 60_000;

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs git with `args` in `cwd` (and `env` added to the daemon's environment); resolves with its
 * exit code and output, whatever it is.
 */
export function git(
  cwd: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd,
        timeout: GIT_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
        // Never a prompt for credentials, and git's messages in one language.
        env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      },
      (error, stdout, stderr) => {
        if (error !== null && typeof (error as NodeJS.ErrnoException).code === "string") {
          const code = (error as NodeJS.ErrnoException).code;
          reject(
            code === "ENOENT"
              ? new SessionError(
                  "failed-precondition",
                  "git is not installed (or not on the daemon's PATH); worktrees, forks and snapshots need it",
                )
              : new Error(`git ${args[0]} failed: ${error.message}`),
          );
          return;
        }
        // Stopped by the timeout (a signal, no exit code).
        if (error?.killed) {
          reject(
            new SessionError(
              "failed-precondition",
              `git ${args[0]} did not finish within ${GIT_TIMEOUT_MS / 1000} s in ${cwd} and was stopped; try again once the repository is less busy (a git gc, a slow disk)`,
            ),
          );
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number) || 1, stdout, stderr });
      },
    );
  });
}

/** git's own reason, on one line: the last "fatal:" or "error:" line, else its last line. */
export function reason(result: GitResult): string {
  const lines = result.stderr.trim().split("\n").filter(Boolean);
  const told = lines.filter((line) => /^(fatal|error):/.test(line)).at(-1) ?? lines.at(-1) ?? "";
  return told.replace(/^(fatal|error):\s*/, "") || `exit code ${result.code}`;
}

/** Runs git and returns its stdout, or throws a FAILED_PRECONDITION saying `what` and git's reason. */
export async function gitOk(
  cwd: string,
  args: readonly string[],
  what: string,
  env: Readonly<Record<string, string>> = {},
): Promise<string> {
  const result = await git(cwd, args, env);
  if (result.code !== 0)
    throw new SessionError("failed-precondition", `${what}: ${reason(result)}`);
  return result.stdout;
}
