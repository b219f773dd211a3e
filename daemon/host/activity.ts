/**
 * What a program is doing, from the facts a session host gathers: Claude Code's hook events and
 * status file, and for any program the terminal's foreground process and its output. Pure
 * functions of those facts; {@link ActivityTracker} gathers them.
 */
import { basename, isAbsolute, relative, sep } from "node:path";
import { ActivityState } from "./host-wire.js";

/** An activity as a fact states it: what, in a few words, and when it was so (epoch ms). */
export interface ActivityFact {
  state: ActivityState;
  detail: string;
  at: number;
}

/** The fields of a Claude Code hook's payload that tell what it is doing. */
export interface HookEvent {
  /** "SessionStart", "UserPromptSubmit", "PreToolUse", ... */
  name: string;
  /** The conversation's id. */
  sessionId: string;
  /** SessionStart: "startup", "resume", "clear" or "compact". */
  source: string;
  cwd: string;
  toolName: string;
  toolInput: Record<string, unknown>;
  prompt: string;
  /** Notification: its text, and its kind ("permission_prompt", "idle_prompt", ...). */
  message: string;
  notificationType: string;
}

/** The most of a detail shown: a line, not a page. */
const DETAIL_CHARS = 80;

/**
 * A few words from `text`: its first line that holds any, cut at {@link DETAIL_CHARS}
 * characters (whole ones: an emoji is not split).
 */
export function shortText(text: string): string {
  const line = text.trim().split(/\r?\n/, 1)[0]?.trim() ?? "";
  const chars = [...line];
  return chars.length > DETAIL_CHARS ? `${chars.slice(0, DETAIL_CHARS - 1).join("")}…` : line;
}

/** "<label>: <the first words of text>", or the label alone when text holds none. */
function labelled(label: string, text: string): string {
  const words = shortText(text);
  return words === "" ? label : shortText(`${label}: ${words}`);
}

const STRING_FIELDS = [
  ["hook_event_name", "name"],
  ["session_id", "sessionId"],
  ["source", "source"],
  ["cwd", "cwd"],
  ["tool_name", "toolName"],
  ["prompt", "prompt"],
  ["message", "message"],
  ["notification_type", "notificationType"],
] as const;

/**
 * The hook event in a payload as Claude Code sends it on a hook's stdin (JSON). A payload too
 * large to read whole (a tool's output may be megabytes) is read from its start: its string
 * fields before the cut are taken, tool_input if it is whole. Undefined if it names no event.
 */
export function parseHookEvent(text: string): HookEvent | undefined {
  const event: HookEvent = {
    name: "",
    sessionId: "",
    source: "",
    cwd: "",
    toolName: "",
    toolInput: {},
    prompt: "",
    message: "",
    notificationType: "",
  };
  let payload: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      payload = parsed as Record<string, unknown>;
  } catch {
    payload = undefined;
  }
  for (const [field, key] of STRING_FIELDS) {
    const value = payload !== undefined ? payload[field] : stringField(text, field);
    if (typeof value === "string") event[key] = value;
  }
  const input = payload !== undefined ? payload.tool_input : objectField(text, "tool_input");
  if (typeof input === "object" && input !== null && !Array.isArray(input))
    event.toolInput = input as Record<string, unknown>;
  return event.name === "" ? undefined : event;
}

/** A top-level string field of a JSON text that may be cut short, if it is whole. */
function stringField(text: string, field: string): string | undefined {
  const match = new RegExp(`"${field}"\\s*:\\s*("(?:[^"\\\\]|\\\\.)*")`).exec(text);
  if (match === null) return undefined;
  try {
    return JSON.parse(match[1] as string) as string;
  } catch {
    return undefined;
  }
}

/** A top-level object field of a JSON text that may be cut short, if it is whole. */
function objectField(text: string, field: string): unknown {
  const match = new RegExp(`"${field}"\\s*:\\s*\\{`).exec(text);
  if (match === null) return undefined;
  const start = match.index + match[0].length - 1;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The input keys that say what a tool works on, most telling first. */
const TOOL_SUBJECTS = [
  "command",
  "file_path",
  "notebook_path",
  // Grep and Glob: what is searched for says more than where.
  "pattern",
  "path",
  "url",
  "query",
  "description",
  "prompt",
];

/** A tool call in a few words: `Bash: npm test`, `Edit: src/app.ts`. */
export function toolDetail(event: HookEvent): string {
  const tool = event.toolName || "a tool";
  for (const key of TOOL_SUBJECTS) {
    const given = event.toolInput[key];
    if (typeof given !== "string" || given.trim() === "") continue;
    let value = given;
    if (key.endsWith("path") && isAbsolute(value) && event.cwd !== "") {
      const inside = relative(event.cwd, value);
      // The directory itself is ".", and "..env" is a file in it, not above it.
      if (inside === "") value = ".";
      else if (inside !== ".." && !inside.startsWith(`..${sep}`) && !isAbsolute(inside))
        value = inside;
    }
    return labelled(tool, value);
  }
  return tool;
}

/**
 * What a hook event says Claude Code is doing now; undefined when it says nothing new (a
 * conversation compacted mid-turn, a session ending).
 */
export function hookActivity(event: HookEvent): Omit<ActivityFact, "at"> | undefined {
  switch (event.name) {
    case "SessionStart":
      // Compaction happens within a turn, which goes on.
      return event.source === "compact" ? undefined : { state: ActivityState.idle, detail: "" };
    case "UserPromptSubmit":
      return { state: ActivityState.working, detail: labelled("prompt", event.prompt) };
    case "PreToolUse":
      return { state: ActivityState.working, detail: toolDetail(event) };
    case "PostToolUse":
    case "SubagentStop":
      return { state: ActivityState.working, detail: "thinking" };
    case "Notification":
      switch (event.notificationType) {
        // "Claude is waiting for your input": its turn is over, it asks nothing.
        case "idle_prompt":
          return { state: ActivityState.idle, detail: "" };
        // A permission dialog, a question (MCP elicitation); Claude Code before 2.0 sent
        // no kind, and notified only when it needed the user.
        case "permission_prompt":
        case "elicitation_dialog":
        case "":
          return {
            state: ActivityState.waiting,
            detail: shortText(event.message) || "needs your attention",
          };
        // What asks nothing (auth_success, an elicitation answered): no change.
        default:
          return undefined;
      }
    case "Stop":
      return { state: ActivityState.idle, detail: "" };
    default:
      return undefined;
  }
}

/** Claude Code's status file, `~/.claude/sessions/<pid>.json`, as far as it tells activity. */
export interface ClaudeStatus {
  status: string;
  waitingFor: string;
  sessionId: string;
  /** When status last changed (epoch ms). */
  at: number;
}

export function parseClaudeStatus(text: string): ClaudeStatus | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.status !== "string") return undefined;
  const at = typeof v.statusUpdatedAt === "number" ? v.statusUpdatedAt : v.updatedAt;
  return {
    status: v.status,
    waitingFor: typeof v.waitingFor === "string" ? v.waitingFor : "",
    sessionId: typeof v.sessionId === "string" ? v.sessionId : "",
    at: typeof at === "number" && Number.isFinite(at) ? at : 0,
  };
}

/** What a status says: "busy", "idle", "shell" (idle, a background shell runs), "waiting". */
export function statusActivity(status: ClaudeStatus): Omit<ActivityFact, "at"> | undefined {
  switch (status.status) {
    case "busy":
      return { state: ActivityState.working, detail: "" };
    case "idle":
      return { state: ActivityState.idle, detail: "" };
    case "shell":
      return { state: ActivityState.idle, detail: "a background shell runs" };
    case "waiting":
      return {
        state: ActivityState.waiting,
        detail: shortText(status.waitingFor) || "input needed",
      };
    default:
      return undefined;
  }
}

/**
 * Claude Code's activity from its two sources: the newer fact wins (the status file catches
 * what no hook says, such as a turn that failed before its Stop hook), and the hook's detail is
 * kept while both agree, since it says more ("Bash: npm test" where the status says "busy").
 */
export function claudeActivity(
  hook: ActivityFact | undefined,
  status: ActivityFact | undefined,
): { fact: ActivityFact; from: "hook" | "status" } | undefined {
  if (hook === undefined && status === undefined) return undefined;
  if (status === undefined || (hook !== undefined && hook.at >= status.at))
    return { fact: hook as ActivityFact, from: "hook" };
  if (hook !== undefined && hook.state === status.state && hook.detail !== "")
    return { fact: { ...status, detail: hook.detail }, from: "status" };
  return { fact: status, from: "status" };
}

/** Output that comes this soon after input is its echo, not the program at work. */
export const ECHO_MS = 100;
/**
 * Output that comes this soon after the terminal's foreground changed is the program taking the
 * terminal over or back (a shell printing its prompt when a command ends, an editor redrawing),
 * not work. Generous, since the foreground is polled and a loaded machine delays the prompt.
 */
export const SETTLE_MS = 1500;
/** A program whose output stopped this long ago is no longer working by its output. */
export const FLOW_MS = 1000;

/** The terminal's state, as the host reads it from /proc and its reads of output. */
export interface TerminalFacts {
  /** The foreground process group's leader, and whether it is the program itself. */
  foregroundIsProgram: boolean;
  /** Its command line, for the detail. */
  foregroundCommandLine: string;
  /** When output not echoing input last came (epoch ms, 0 never), since the foreground changed. */
  lastFlowAt: number;
}

/**
 * Whether output read at `now` is the program at work: not the echo of input written just before,
 * and not what a program prints as it takes the terminal over or back.
 */
export function isFlow(now: number, lastInputAt: number, foregroundChangedAt: number): boolean {
  return now - lastInputAt >= ECHO_MS && now - foregroundChangedAt >= SETTLE_MS;
}

/**
 * Any program's activity: working while a command runs in the foreground or its output flows,
 * idle otherwise (a shell at its prompt, an editor waiting for keys).
 */
export function terminalActivity(facts: TerminalFacts, now: number): Omit<ActivityFact, "at"> {
  if (!facts.foregroundIsProgram)
    return { state: ActivityState.working, detail: shortText(facts.foregroundCommandLine) };
  if (facts.lastFlowAt > 0 && now - facts.lastFlowAt < FLOW_MS)
    return { state: ActivityState.working, detail: "" };
  return { state: ActivityState.idle, detail: "" };
}

/** A process's name after it exec'd `file` (TASK_COMM_LEN is 16 bytes, with its NUL). */
export function commName(file: string): string {
  const name = Buffer.from(basename(file));
  let end = Math.min(name.length, 15);
  // Not inside a UTF-8 sequence: /proc would show the cut bytes, the name shows whole ones.
  while (end > 0 && end < name.length && ((name[end] ?? 0) & 0xc0) === 0x80) end--;
  return name.subarray(0, end).toString();
}
