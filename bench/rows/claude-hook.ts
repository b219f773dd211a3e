/**
 * What the hook script the daemon installs costs Claude Code per hook call. The real script
 * and settings are written by {@link installClaudeHooks} into a temporary home, and the
 * PreToolUse command from those settings is run as Claude Code runs a hook (`/bin/sh -c
 * <command>`, the event's JSON on stdin, the session's environment): with the session's hooks
 * directory present, as while a host reads it, and with no host at all (no variable, no
 * directory). The baseline is `/bin/sh -c true` run the same way with the same stdin; the
 * three alternate after a warm-up and are compared by their medians.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { homePaths, hostPaths } from "../../daemon/common/paths.js";
import { parseHookEvent } from "../../daemon/host/activity.js";
import { HOOKS_DIR_ENV, installClaudeHooks } from "../../daemon/session/claude-hooks.js";
import { tempHome } from "../../test/helpers/temp-home.js";
import { check, type Figure, type Row } from "../lib/figure.js";
import { type TimedRun, timedRun } from "../lib/processes.js";
import { median, percentile } from "../lib/stats.js";

const RUNS = 200;
const WARM_UP = 10;
/** What one hook call may cost Claude Code. */
const MAX_MS = 30;
const SESSION_ID = "bench-hook";

/**
 * Runs `/bin/sh -c command` with `input` on its stdin, timed from spawn to close, as Claude Code
 * (a Node program) spawns a hook and waits for it.
 */
function runShell(
  command: string,
  input: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<TimedRun> {
  return timedRun("/bin/sh", ["-c", command], { env, cwd, input, timeoutMs: 10_000 });
}

/** The command Claude Code runs for a PreToolUse of any tool, from the settings we install. */
function preToolUseCommand(settingsPath: string): string {
  const settings = JSON.parse(readFileSync(settingsPath, "utf8")) as {
    hooks?: Record<string, Array<{ hooks?: Array<{ type?: string; command?: string }> }>>;
  };
  const command = settings.hooks?.PreToolUse?.[0]?.hooks?.[0];
  check(
    command?.type === "command" && typeof command.command === "string",
    `the installed settings have no PreToolUse command: ${JSON.stringify(settings)}`,
  );
  return command.command as string;
}

export const claudeHookRow: Row = {
  name: "claude-hook",
  title: "Claude Code hook script per call vs /bin/sh -c true",
  async run(log) {
    const home = tempHome("csbench-k-");
    try {
      const paths = homePaths(home.path);
      // As the daemon makes it when it starts, before any session.
      mkdirSync(paths.run, { mode: 0o700 });
      installClaudeHooks(paths);
      const command = preToolUseCommand(paths.claudeSettings);
      const hooksDir = hostPaths(paths, SESSION_ID).hooks;
      // As the host makes it before the program starts.
      mkdirSync(hooksDir, { recursive: true, mode: 0o700 });
      const cwd = join(home.path, "project");
      mkdirSync(cwd);
      const payload = JSON.stringify({
        session_id: "5d0c7a2e-3f1b-4c8e-9a6d-2b7e1f0c4a93",
        transcript_path: join(cwd, ".claude", "5d0c7a2e-3f1b-4c8e-9a6d-2b7e1f0c4a93.jsonl"),
        cwd,
        permission_mode: "default",
        hook_event_name: "PreToolUse",
        tool_name: "Bash",
        tool_input: { command: "npm test", description: "Run the tests" },
      });
      // What Claude Code gives a hook: the session's environment and its project directory.
      const outside: NodeJS.ProcessEnv = { ...process.env, CLAUDE_PROJECT_DIR: cwd };
      delete outside[HOOKS_DIR_ENV];
      const session: NodeJS.ProcessEnv = { ...outside, [HOOKS_DIR_ENV]: hooksDir };
      log(`${command} (from ${paths.claudeSettings}), ${payload.length} bytes on stdin`);

      const exitedQuietly = (call: TimedRun, what: string) => {
        check(call.code === 0, `${what} exited with ${call.code}: ${call.stderr}`);
        check(
          call.stdout === "" && call.stderr === "",
          `${what} printed ${JSON.stringify(call.stdout + call.stderr)}`,
        );
      };
      const hosted = async () => {
        const call = await runShell(command, payload, session, cwd);
        exitedQuietly(call, "the hook with a host");
        // What the host reads: one whole file, not a dot-file, with the payload as sent.
        const names = readdirSync(hooksDir);
        check(
          names.length === 1 && !(names[0] as string).startsWith("."),
          `the hooks directory holds ${JSON.stringify(names)}, not one event`,
        );
        const path = join(hooksDir, names[0] as string);
        const text = readFileSync(path, "utf8");
        check(text === payload, `the event file holds ${JSON.stringify(text.slice(0, 200))}`);
        const event = parseHookEvent(text);
        check(
          event?.name === "PreToolUse" && event.toolName === "Bash",
          `the host reads the event as ${JSON.stringify(event)}`,
        );
        // As the host does once it has read it.
        rmSync(path);
        return call.ms;
      };
      const hostless = async () => {
        const call = await runShell(command, payload, outside, cwd);
        exitedQuietly(call, "the hook with no host");
        return call.ms;
      };
      const bare = async () => {
        const call = await runShell("true", payload, session, cwd);
        exitedQuietly(call, "/bin/sh -c true");
        return call.ms;
      };

      const kinds = { bare, hosted, hostless };
      type Kind = keyof typeof kinds;
      const order: Kind[] = ["bare", "hosted", "hostless"];
      for (let i = 0; i < WARM_UP; i++) for (const kind of order) await kinds[kind]();
      const times: Record<Kind, number[]> = { bare: [], hosted: [], hostless: [] };
      for (let i = 0; i < RUNS; i++) {
        // Rotate the order so none always runs right after another.
        for (let j = 0; j < order.length; j++) {
          const kind = order[(i + j) % order.length] as Kind;
          times[kind].push(await kinds[kind]());
        }
      }
      const left = readdirSync(hooksDir);
      check(left.length === 0, `the hooks directory was left holding ${left.join(", ")}`);
      for (const kind of order) {
        log(
          `${kind}: median ${median(times[kind]).toFixed(2)} ms, p90 ${percentile(times[kind], 90).toFixed(2)} ms`,
        );
      }

      const note = `${RUNS} calls each, /bin/sh -c, PreToolUse JSON on stdin`;
      const figures: Figure[] = [];
      for (const [kind, label] of [
        ["hosted", "hook, hooks dir present"],
        ["hostless", "hook, no host"],
      ] as const) {
        figures.push(
          {
            label: `${label}: median`,
            unit: "ms",
            value: median(times[kind]),
            baseline: median(times.bare),
            target: { kind: "max", limit: MAX_MS },
            note,
          },
          {
            label: `${label}: p90`,
            unit: "ms",
            value: percentile(times[kind], 90),
            baseline: percentile(times.bare, 90),
            note,
          },
        );
      }
      return figures;
    } finally {
      home.remove();
    }
  },
};
