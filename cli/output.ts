/** Human and JSON output of sessions, following the seed's layout. */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { formatSize } from "../daemon/common/sizes.js";
import {
  Activity,
  LimitAction,
  type ResourceUsage,
  type Session,
  type SessionLimits,
  SessionState,
} from "../gen/claude_sessions/v1/session_pb.js";
import { printable } from "./printable.js";
import { shellQuote } from "./shell-quote.js";

export { printable };

/** Whether to colour output written to `stream`: only on a terminal, never with NO_COLOR. */
export function useColor(stream: NodeJS.WritableStream): boolean {
  return (stream as NodeJS.WriteStream).isTTY === true && !("NO_COLOR" in process.env);
}

/** What JSON.stringify leaves as it is but a terminal would act on or hide. */
const JSON_UNPRINTABLE = /[\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}]/gu;

/**
 * `value` as JSON, safe to print: JSON.stringify escapes C0 controls only, so DEL, C1, format
 * and separator characters are escaped here as `\uXXXX`, which any JSON parser reads back as
 * the same text.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(JSON_UNPRINTABLE, (char) =>
    // Beyond U+FFFF (tag characters), JSON escapes each half of the surrogate pair.
    Array.from(
      { length: char.length },
      (_, index) => `\\u${char.charCodeAt(index).toString(16).padStart(4, "0")}`,
    ).join(""),
  );
}

const codes = { green: 32, red: 31, yellow: 33, dim: 2, bold: 1, cyan: 36 } as const;
export type Color = keyof typeof codes;

export function paint(text: string, color: Color, enabled: boolean): string {
  return enabled ? `\x1b[${codes[color]}m${text}\x1b[0m` : text;
}

const stateNames: Record<SessionState, string> = {
  [SessionState.UNSPECIFIED]: "unknown",
  [SessionState.STARTING]: "starting",
  [SessionState.RUNNING]: "running",
  [SessionState.EXITED]: "exited",
  [SessionState.STOPPED]: "stopped",
  [SessionState.FAILED]: "failed",
  [SessionState.INTERRUPTED]: "interrupted",
};

/** Every state's name, as `list --state` takes them. */
export const STATE_NAMES: readonly string[] = Object.entries(stateNames)
  .filter(([value]) => Number(value) !== SessionState.UNSPECIFIED)
  .map(([, name]) => name);

/** The state's name as the CLI and its JSON show it ("running"). */
export function stateName(state: SessionState): string {
  return stateNames[state] ?? "unknown";
}

/** Parses a state name given on the command line. */
export function parseState(name: string): SessionState | undefined {
  for (const [value, text] of Object.entries(stateNames))
    if (text === name.toLowerCase()) return Number(value);
  return undefined;
}

/** How long ago `timestamp` was, in its largest whole unit: "12s", "3m", "2h", "5d". */
export function relativeAge(timestamp: Timestamp | undefined, now = Date.now()): string {
  if (timestamp === undefined) return "-";
  const then = Number(timestamp.seconds) * 1000 + timestamp.nanos / 1e6;
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function isoTime(timestamp: Timestamp | undefined): string | null {
  if (timestamp === undefined) return null;
  return new Date(
    Number(timestamp.seconds) * 1000 + Math.floor(timestamp.nanos / 1e6),
  ).toISOString();
}

const activityNames: Record<Activity, string | null> = {
  [Activity.UNSPECIFIED]: null,
  [Activity.WORKING]: "working",
  [Activity.WAITING_FOR_INPUT]: "waiting_for_input",
  [Activity.IDLE]: "idle",
  [Activity.UNKNOWN]: "unknown",
};

/** The activity's name as the JSON shows it ("waiting_for_input"), null when not running. */
export function activityName(activity: Activity): string | null {
  return activityNames[activity] ?? null;
}

/** The activity in one short word, as tables and lines show it: "waiting", "working", "-". */
export function activityWord(activity: Activity): string {
  if (activity === Activity.WAITING_FOR_INPUT) return "waiting";
  return activityName(activity) ?? "-";
}

/** The colour an activity is shown in: what needs you stands out, what is quiet is dim. */
export function activityColor(activity: Activity): Color {
  switch (activity) {
    case Activity.WAITING_FOR_INPUT:
      return "yellow";
    case Activity.WORKING:
      return "cyan";
    default:
      return "dim";
  }
}

/** "waiting: Claude needs your permission to use Bash", "working", or "-" when not running. */
export function describeActivity(session: Session): string {
  const word = activityWord(session.activity);
  return session.activityDetail ? `${word}: ${printable(session.activityDetail)}` : word;
}

/** The colour a state is shown in. */
export function stateColor(state: SessionState): Color {
  switch (state) {
    case SessionState.RUNNING:
    case SessionState.STARTING:
      return "green";
    case SessionState.FAILED:
      return "red";
    case SessionState.INTERRUPTED:
      return "yellow";
    default:
      return "dim";
  }
}

/** "running (pid 42)", "exited (code 3)", "stopped (SIGTERM)", "failed: reason". */
export function describeState(session: Session): string {
  const name = stateName(session.state);
  switch (session.state) {
    case SessionState.RUNNING:
    case SessionState.STARTING:
      return `${name} (pid ${session.pid})`;
    case SessionState.EXITED:
    case SessionState.STOPPED: {
      const how = session.exitSignal
        ? `${name} (${printable(session.exitSignal)})`
        : session.exitCode === undefined
          ? name
          : `${name} (code ${session.exitCode})`;
      // A stop the session did not ask for (its memory limit) says why.
      return session.failureReason ? `${how}: ${printable(session.failureReason)}` : how;
    }
    case SessionState.FAILED:
    case SessionState.INTERRUPTED:
      return session.failureReason ? `${name}: ${printable(session.failureReason)}` : name;
    default:
      return name;
  }
}

/** Whether the session's program has not ended yet. */
export function isLive(session: Session): boolean {
  return session.state === SessionState.RUNNING || session.state === SessionState.STARTING;
}

/** How an ended session's program ended: "exit code 3", "killed by SIGTERM", or its state. */
export function describeEnd(session: Session): string {
  if (session.exitSignal) return `killed by ${printable(session.exitSignal)}`;
  if (session.exitCode !== undefined) return `exit code ${session.exitCode}`;
  return stateName(session.state);
}

/** How a one-line message names a session: "api (3f2a9c1e)", or the full id if it has no name. */
export function sessionMention(session: Session): string {
  return printable(session.name ? `${session.name} (${session.id.slice(0, 8)})` : session.id);
}

/** "<id> (<name>)", or the id alone, printable: the heading of a session's details. */
export function sessionTitle(session: Session): string {
  return printable(session.name ? `${session.id} (${session.name})` : session.id);
}

/** The session's command as one printable line, quoted as it would be typed. */
function commandLine(session: Session): string {
  return printable(shellQuote(session.command));
}

/** The seed's block for one session in `list`, with a few more lines. */
export function sessionBlock(session: Session, color: boolean): string {
  const { worktree } = session;
  const lines = [
    `  🔹 ${paint(sessionTitle(session), "bold", color)}`,
    `     Directory: ${printable(session.workingDir)}`,
    ...(worktree
      ? [`     Worktree: ${printable(worktree.path)} (branch ${printable(worktree.branch)})`]
      : []),
    `     Command: ${commandLine(session)}`,
    `     Created: ${isoTime(session.createdAt)}`,
    `     Status: ${paint(describeState(session), stateColor(session.state), color)}`,
    ...(session.activity !== Activity.UNSPECIFIED
      ? [
          `     Activity: ${paint(describeActivity(session), activityColor(session.activity), color)}${session.foregroundCommand ? ` (${printable(session.foregroundCommand)})` : ""}`,
        ]
      : []),
    ...(Object.keys(session.labels).length > 0
      ? [`     Labels: ${labelsText(session.labels)}`]
      : []),
    `     Logs: ${printable(session.logPath)}`,
  ];
  if (session.logError)
    lines.push(`     Log error: ${paint(printable(session.logError), "red", color)}`);
  return lines.join("\n");
}

/** Labels as `key=value` words, sorted, comma-separated: "role=review, team=api". */
export function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => printable(`${key}=${value}`))
    .join(", ");
}

/** A session's worktree: where, on which branch, and (from GetSession) what it holds. */
function worktreeRows(session: Session, color: boolean): Array<[string, string]> {
  const worktree = session.worktree;
  if (worktree === undefined) return [];
  const base = worktree.baseCommit.slice(0, 12);
  let state: string;
  if (!worktree.present) state = paint("gone", "yellow", color);
  else {
    const changes = worktree.uncommitted.length;
    state = `${changes === 0 ? "clean" : paint(`${changes} uncommitted change${changes === 1 ? "" : "s"}`, "yellow", color)}, ${worktree.commitsAhead} commit${worktree.commitsAhead === 1 ? "" : "s"} ahead of ${base}`;
  }
  return [
    ["Worktree", printable(worktree.path)],
    [
      "Branch",
      `${printable(worktree.branch)} (from ${base}, in ${printable(worktree.repository)})`,
    ],
    ["Worktree state", state],
  ];
}

/** Where a forked or restored session came from. */
function originRows(session: Session): Array<[string, string]> {
  const origin = session.origin;
  if (origin === undefined) return [];
  const from = origin.snapshotId
    ? `snapshot ${printable(origin.snapshotId)} of session ${printable(origin.sessionId)}`
    : `session ${printable(origin.sessionId)}`;
  const parts = [
    origin.conversationId ? `conversation ${printable(origin.conversationId)}` : "",
    origin.commit ? `files at ${origin.commit.slice(0, 12)}` : "",
  ].filter(Boolean);
  return [
    [origin.snapshotId ? "Restored from" : "Forked from", from],
    ...(parts.length > 0 ? [["Branched off", parts.join(", ")] as [string, string]] : []),
  ];
}

/** A Claude Code session's conversation, and the ones it was in before (after /clear). */
function conversationRows(session: Session): Array<[string, string]> {
  if (!session.claudeCode) return [];
  const rows: Array<[string, string]> = [
    ["Conversation", printable(session.conversationId) || "-"],
  ];
  if (session.previousConversationIds.length > 0)
    rows.push(["Earlier", printable(session.previousConversationIds.join(", "))]);
  return rows;
}

/** The detailed view of `show`. */
export function sessionDetails(session: Session, color: boolean): string {
  const rows: Array<[string, string]> = [
    ["ID", printable(session.id)],
    ["Name", printable(session.name) || "-"],
    ["Status", paint(describeState(session), stateColor(session.state), color)],
    ["Directory", printable(session.workingDir)],
    ["Command", commandLine(session)],
    [
      "Activity",
      session.activity === Activity.UNSPECIFIED
        ? "-"
        : `${paint(describeActivity(session), activityColor(session.activity), color)}${session.activitySince ? ` since ${isoTime(session.activitySince)}` : ""}`,
    ],
    ["Foreground", printable(session.foregroundCommand) || "-"],
    ["Labels", labelsText(session.labels) || "-"],
    ...worktreeRows(session, color),
    ["Claude Code", session.claudeCode ? "yes" : "no"],
    ...conversationRows(session),
    ...originRows(session),
    ["PID", session.pid ? String(session.pid) : "-"],
    ["Host PID", session.hostPid ? String(session.hostPid) : "-"],
    ["Size", `${session.cols}x${session.rows}`],
    ["Created", isoTime(session.createdAt) ?? "-"],
    ["Started", isoTime(session.startedAt) ?? "-"],
    ["Ended", isoTime(session.endedAt) ?? "-"],
    ["Attached", String(session.attachedClients)],
    ["Log", logText(session)],
    ["Limits", limitsText(session.limits)],
    ["Usage", usageText(session.usage)],
  ];
  if (session.limitEvent)
    rows.push(["Limit event", paint(printable(session.limitEvent), "yellow", color)]);
  if (session.logError) rows.push(["Log error", paint(printable(session.logError), "red", color)]);
  if (session.logLoss) rows.push(["Log loss", paint(printable(session.logLoss), "red", color)]);
  return detailLines(rows);
}

/** Rows of a detailed view as lines, "Label:" then the value, the values in one column. */
export function detailLines(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join("\n");
}

function logText(session: Session): string {
  const dropped = session.logDroppedEntries;
  return `${printable(session.logPath)} (${session.lastSeq} records${dropped > 0n ? `, the first ${dropped} dropped by --max-log-size` : ""})`;
}

const LIMIT_ACTION_NAMES: Record<number, string> = {
  [LimitAction.WARN]: "warn",
  [LimitAction.STOP]: "stop",
  [LimitAction.RESTART]: "restart",
};

/** "memory 100 MiB (stop), log 5.00 MiB, nice 10". */
function limitsText(limits: SessionLimits | undefined): string {
  if (limits === undefined) return "-";
  const memory = Number(limits.maxMemoryBytes);
  const log = Number(limits.maxLogBytes);
  const parts = [
    memory > 0
      ? `memory ${formatSize(memory)} (${LIMIT_ACTION_NAMES[limits.onLimit] ?? "warn"})`
      : "memory unlimited",
    log > 0 ? `log ${formatSize(log)}` : "log unlimited",
  ];
  if (limits.nice !== 0) parts.push(`nice ${limits.nice}`);
  return parts.join(", ");
}

/** "312 MiB in 3 processes, CPU 12.5%". */
function usageText(usage: ResourceUsage | undefined): string {
  if (usage === undefined) return "-";
  const processes = usage.processes === 1 ? "1 process" : `${usage.processes} processes`;
  return `${formatSize(Number(usage.memoryBytes))} in ${processes}, CPU ${usage.cpuPercent.toFixed(1)}%`;
}

/**
 * The stable JSON form of a session (documented in the README): the proto's field names, the
 * state as a lowercase word, times as RFC 3339, absent values as null.
 */
export function sessionJson(session: Session): Record<string, unknown> {
  return {
    id: session.id,
    name: session.name,
    working_dir: session.workingDir,
    command: session.command,
    state: stateName(session.state),
    pid: session.pid,
    exit_code: session.exitCode ?? null,
    exit_signal: session.exitSignal || null,
    created_at: isoTime(session.createdAt),
    started_at: isoTime(session.startedAt),
    ended_at: isoTime(session.endedAt),
    log_path: session.logPath,
    cols: session.cols,
    rows: session.rows,
    failure_reason: session.failureReason || null,
    last_seq: Number(session.lastSeq),
    log_error: session.logError || null,
    claude_code: session.claudeCode,
    attached_clients: session.attachedClients,
    log_bytes_lost: Number(session.logBytesLost),
    log_loss: session.logLoss || null,
    host_pid: session.hostPid,
    activity: activityName(session.activity),
    activity_detail: session.activityDetail || null,
    activity_since: isoTime(session.activitySince),
    foreground_command: session.foregroundCommand || null,
    conversation_id: session.conversationId || null,
    previous_conversation_ids: session.previousConversationIds,
    labels: { ...session.labels },
    worktree: session.worktree
      ? {
          path: session.worktree.path,
          branch: session.worktree.branch,
          repository: session.worktree.repository,
          base_commit: session.worktree.baseCommit,
          // What only GetSession (show) tells.
          present: session.worktree.present,
          uncommitted: session.worktree.uncommitted,
          commits_ahead: session.worktree.commitsAhead,
        }
      : null,
    limits: session.limits
      ? {
          max_memory_bytes: Number(session.limits.maxMemoryBytes),
          on_limit: LIMIT_ACTION_NAMES[session.limits.onLimit] ?? null,
          nice: session.limits.nice,
          max_log_bytes: Number(session.limits.maxLogBytes),
        }
      : null,
    usage: session.usage
      ? {
          memory_bytes: Number(session.usage.memoryBytes),
          cpu_percent: session.usage.cpuPercent,
          processes: session.usage.processes,
          sampled_at: isoTime(session.usage.sampledAt),
        }
      : null,
    log_dropped_entries: Number(session.logDroppedEntries),
    limit_event: session.limitEvent || null,
    origin: session.origin
      ? {
          session_id: session.origin.sessionId,
          snapshot_id: session.origin.snapshotId || null,
          conversation_id: session.origin.conversationId || null,
          commit: session.origin.commit || null,
        }
      : null,
  };
}
