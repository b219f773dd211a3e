/**
 * How a Claude Code session tells its host what it is doing: `claude --settings <file>` adds
 * hooks (to the user's own settings, which it never replaces) that run one small shell script.
 * The script copies the hook's payload into the session's hooks directory, named by the time,
 * and renamed into place whole, for the host to read. It costs Claude Code a `cat`, a `date`
 * and a `mv`, never fails, never waits, and with no host (no directory) exits at once.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { HomePaths } from "../common/paths.js";
import { replaceRegularFile } from "../common/regular-file.js";

/** The variable that names the hooks directory in a Claude Code session's environment. */
export const HOOKS_DIR_ENV = "CLAUDE_SESSIONS_HOOKS";

/** The hook events that tell activity and conversations. */
export const HOOK_EVENTS = [
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PostToolUse",
  "Notification",
  "Stop",
  "SubagentStop",
  "SessionEnd",
] as const;

/** Events whose hooks match tools: "*" is every tool. */
const TOOL_EVENTS = new Set<string>(["PreToolUse", "PostToolUse"]);

/** Claude Code's bound on one run of the hook, in seconds: the script takes milliseconds. */
const HOOK_TIMEOUT_S = 10;

export const HOOK_SCRIPT = `#!/bin/sh
# claude-sessions: hands one Claude Code hook event to the session's host, which reads the
# directory named by $${HOOKS_DIR_ENV}. Never fails, never waits: no directory, no host.
dir=$${HOOKS_DIR_ENV}
[ -n "$dir" ] && [ -d "$dir" ] || exit 0
tmp="$dir/.$$"
if cat > "$tmp" 2>/dev/null; then
  mv -f "$tmp" "$dir/$(date +%s%N).$$" 2>/dev/null || rm -f "$tmp"
else
  rm -f "$tmp"
fi
exit 0
`;

/** The settings that add the hooks: every event runs `script`. */
export function hookSettings(script: string): { hooks: Record<string, unknown[]> } {
  const command = [{ type: "command", command: shellQuote(script), timeout: HOOK_TIMEOUT_S }];
  const hooks: Record<string, unknown[]> = {};
  for (const event of HOOK_EVENTS)
    hooks[event] = [TOOL_EVENTS.has(event) ? { matcher: "*", hooks: command } : { hooks: command }];
  return { hooks };
}

function shellQuote(word: string): string {
  return /^[\w/.,:@%+=-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** Writes the hook script and its settings into the home's run directory (each start). */
export function installClaudeHooks(paths: HomePaths): void {
  replaceRegularFile(paths.claudeHook, HOOK_SCRIPT, 0o700);
  replaceRegularFile(
    paths.claudeSettings,
    `${JSON.stringify(hookSettings(paths.claudeHook), null, 2)}\n`,
  );
}

/**
 * Claude Code's arguments with the hooks added: `--settings <ours>`, or, when the user gave
 * settings of their own (a file or a JSON string), `--settings <merged>`, a file of theirs with
 * our hooks appended to theirs, written to `mergedPath`. Undefined (no hooks) if theirs cannot
 * be read: the session runs as asked, its activity told by its status file.
 */
export function argsWithHooks(
  args: readonly string[],
  cwd: string,
  paths: HomePaths,
  mergedPath: string,
): string[] | undefined {
  const at = args.findIndex((arg) => arg === "--settings" || arg.startsWith("--settings="));
  if (at < 0) return [...args, "--settings", paths.claudeSettings];
  const arg = args[at] as string;
  const inline = arg.startsWith("--settings=");
  const value = inline ? arg.slice("--settings=".length) : args[at + 1];
  if (value === undefined) return undefined;
  let theirs: unknown;
  try {
    const text = value.trim().startsWith("{")
      ? value
      : readFileSync(isAbsolute(value) ? value : resolve(cwd, value), "utf8");
    theirs = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof theirs !== "object" || theirs === null || Array.isArray(theirs)) return undefined;
  const merged = { ...(theirs as Record<string, unknown>) };
  const hooks: Record<string, unknown> = {};
  const theirHooks = merged.hooks;
  if (typeof theirHooks === "object" && theirHooks !== null && !Array.isArray(theirHooks))
    Object.assign(hooks, theirHooks);
  for (const [event, matchers] of Object.entries(hookSettings(paths.claudeHook).hooks)) {
    const existing = hooks[event];
    hooks[event] = Array.isArray(existing) ? [...existing, ...matchers] : matchers;
  }
  merged.hooks = hooks;
  replaceRegularFile(mergedPath, JSON.stringify(merged));
  const out = [...args];
  if (inline) out[at] = `--settings=${mergedPath}`;
  else out[at + 1] = mergedPath;
  return out;
}

/** Where Claude Code keeps its status files, `~/.claude/sessions`, in a session's environment. */
export function claudeStatusDir(env: Readonly<Record<string, string>>): string {
  const config = env.CLAUDE_CONFIG_DIR;
  if (config !== undefined && isAbsolute(config)) return join(config, "sessions");
  const home = env.HOME;
  return home !== undefined && isAbsolute(home) ? join(home, ".claude", "sessions") : "";
}
