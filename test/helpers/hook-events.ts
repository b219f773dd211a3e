/**
 * Claude Code's hook events without Claude Code: runs the hook script the daemon installed
 * (`run/claude-hook.sh`) as Claude Code runs a hook, with the event's JSON payload on its
 * stdin and the session's environment, so a test drives a session's activity through the same
 * script and directory as the real thing. And a `claude` of our own (test/fixtures/fake-claude)
 * for a session the daemon treats as Claude Code.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { homePaths, hostPaths } from "../../daemon/common/paths.js";

/** The directory holding the fake `claude`. */
export const fakeClaudeDir = fileURLToPath(
  new URL("../../../test/fixtures/fake-claude", import.meta.url),
);

export interface HookRun {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs the hook script for `payload` as session `sessionId` of the daemon in `home` would: its
 * hooks directory in CLAUDE_SESSIONS_HOOKS. `hooksDir` overrides it (e.g. one that is gone).
 */
export function runHook(
  home: string,
  sessionId: string,
  payload: Record<string, unknown>,
  hooksDir: string = hostPaths(homePaths(home), sessionId).hooks,
): HookRun {
  const started = performance.now();
  const run = spawnSync("/bin/sh", ["-c", shellWord(homePaths(home).claudeHook)], {
    input: JSON.stringify(payload),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", CLAUDE_SESSIONS_HOOKS: hooksDir },
    encoding: "utf8",
    timeout: 10_000,
  });
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    ms: performance.now() - started,
  };
}

/** A Notification payload as Claude Code 2.1 sends it when it asks for a permission. */
export function permissionNotification(
  sessionId: string,
  cwd: string,
  tool = "Bash",
): Record<string, unknown> {
  return {
    session_id: sessionId,
    transcript_path: join(cwd, `${sessionId}.jsonl`),
    cwd,
    hook_event_name: "Notification",
    message: `Claude needs your permission to use ${tool}`,
    notification_type: "permission_prompt",
  };
}

function shellWord(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}
