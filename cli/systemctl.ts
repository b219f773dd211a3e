/**
 * `systemctl --user`, for `service install` and `uninstall`: whether the user's service manager
 * can be reached from here (`systemctl` installed, a user bus: not so over `su`, in a container,
 * on a machine without systemd), and running its commands.
 */
import { spawnSync } from "node:child_process";

/** How long one systemctl command may take (a `--now` start or stop waits for the unit). */
const SYSTEMCTL_TIMEOUT_MS = 120_000;

export interface SystemctlResult {
  ok: boolean;
  /** What went wrong, on one line, when not ok. */
  problem: string;
}

/** Runs `systemctl --user args`; its output is kept, and only its first error line reported. */
export function systemctl(args: readonly string[]): SystemctlResult {
  const result = spawnSync("systemctl", ["--user", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: SYSTEMCTL_TIMEOUT_MS,
  });
  if (result.error !== undefined) {
    const code = (result.error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      problem: code === "ENOENT" ? "systemctl is not installed" : result.error.message,
    };
  }
  if (result.status === 0) return { ok: true, problem: "" };
  const line = result.stderr
    .split("\n")
    .map((each) => each.trim())
    .find((each) => each !== "");
  const how = result.status === null ? `killed by ${result.signal}` : `exit code ${result.status}`;
  return { ok: false, problem: `systemctl --user ${args.join(" ")}: ${line ?? how}` };
}

/**
 * Whether the user's service manager answers: the reason it does not, or undefined when it
 * does. Asking it for its environment changes nothing.
 */
export function userManagerProblem(): string | undefined {
  const probe = systemctl(["show-environment"]);
  return probe.ok ? undefined : probe.problem;
}

/** The commands to run by hand, each on its own indented line. */
export function manualSteps(steps: ReadonlyArray<readonly string[]>): string {
  return steps.map((args) => `  systemctl --user ${args.join(" ")}\n`).join("");
}
