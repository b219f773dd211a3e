/**
 * The user's notify command (`CLAUDE_SESSIONS_NOTIFY`, a shell command line): run when a session
 * starts waiting for input and when one ends, with the session in its environment, so that a
 * desktop notification, a chat message or a sound tells the user which agent needs them.
 *
 * It runs in its own process group with the daemon's environment and a time limit; its errors
 * go to the daemon's log, and never touch a session. Past {@link MAX_RUNNING} at once, later
 * events are dropped and counted, so a storm of ends cannot fork a storm of processes.
 */
import { spawn } from "node:child_process";
import type { Session } from "../session/session.js";
import type { SessionManager, WatchKind } from "../session/session-manager.js";
import type { SessionRecord } from "../session/session-record.js";
import type { Logger } from "./logger.js";

export const NOTIFY_ENV = "CLAUDE_SESSIONS_NOTIFY";
/** How long a notify command may run before it is killed. */
const NOTIFY_TIMEOUT_MS = 30_000;
/** How many notify commands may run at once. */
const MAX_RUNNING = 8;
/** The most of a failing command's error output that reaches the log. */
const ERROR_CHARS = 500;

export type NotifyEvent = "waiting" | "ended";

/** The environment a notify command gets for `event` of `record`. */
export function notifyEnv(
  event: NotifyEvent,
  record: Readonly<SessionRecord>,
  session: Session | undefined,
): Record<string, string> {
  const activity = session?.activity;
  return {
    CLAUDE_SESSIONS_EVENT: event,
    CLAUDE_SESSIONS_SESSION_ID: record.id,
    CLAUDE_SESSIONS_SESSION_NAME: record.name,
    CLAUDE_SESSIONS_STATE: record.state,
    CLAUDE_SESSIONS_ACTIVITY:
      activity?.state === "waiting" ? "waiting_for_input" : (activity?.state ?? ""),
    CLAUDE_SESSIONS_ACTIVITY_DETAIL: activity?.detail ?? "",
    CLAUDE_SESSIONS_WORKING_DIR: record.workingDir,
    CLAUDE_SESSIONS_EXIT_CODE: record.exitCode !== undefined ? String(record.exitCode) : "",
    CLAUDE_SESSIONS_EXIT_SIGNAL: record.exitSignal ?? "",
  };
}

/**
 * Runs `command` on the manager's sessions' events; returns what stops it. Does nothing if
 * `command` is empty.
 */
export function runNotifyCommand(
  manager: SessionManager,
  command: string,
  logger: Logger,
): () => void {
  if (command.trim() === "") return () => undefined;
  const waiting = new Set<string>();
  let running = 0;
  let dropped = 0;
  const run = (event: NotifyEvent, record: Readonly<SessionRecord>, session?: Session) => {
    if (running >= MAX_RUNNING) {
      dropped += 1;
      if (dropped === 1 || dropped % 100 === 0)
        logger.warn(
          `notify command: ${dropped} event(s) dropped, ${MAX_RUNNING} commands still running`,
        );
      return;
    }
    running += 1;
    const child = spawn("/bin/sh", ["-c", command], {
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...notifyEnv(event, record, session) },
      cwd: "/",
    });
    let errors = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (errors.length < ERROR_CHARS) errors += chunk;
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }, NOTIFY_TIMEOUT_MS);
    timer.unref();
    const done = (how: string | undefined) => {
      clearTimeout(timer);
      running -= 1;
      if (how === undefined) return;
      const said = errors.trim().slice(0, ERROR_CHARS);
      logger.warn(
        `notify command for session ${record.id} (${event}) ${how}${said ? `: ${said}` : ""}`,
      );
    };
    child.once("error", (error) => done(`could not run: ${error.message}`));
    child.once("exit", (code, signal) =>
      done(code === 0 ? undefined : signal ? `was killed by ${signal}` : `exited ${code}`),
    );
    child.unref();
  };
  return manager.watch((kind: WatchKind, record, session) => {
    if (kind === "exited") {
      waiting.delete(record.id);
      run("ended", record, session);
      return;
    }
    if (kind === "removed") {
      waiting.delete(record.id);
      return;
    }
    const isWaiting = session?.activity?.state === "waiting";
    if (isWaiting && !waiting.has(record.id)) {
      waiting.add(record.id);
      run("waiting", record, session);
    } else if (!isWaiting) waiting.delete(record.id);
  });
}
