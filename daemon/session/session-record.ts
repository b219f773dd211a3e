/**
 * What the daemon knows and persists about a session, and checking one read back. The program's
 * environment is not part of it: it may hold secrets, and nothing needs it once the program has
 * started (a resume takes the client's environment, or the daemon's own).
 */
import { isAbsolute } from "node:path";
import { checkLabels } from "./labels.js";
import { parseLimits, type SessionLimits } from "./limits.js";
import { checkName, MAX_DIMENSION } from "./session-validation.js";
import type { WorktreeRecord } from "./worktree.js";

export type SessionState = "starting" | "running" | "exited" | "stopped" | "failed" | "interrupted";

export interface SessionRecord {
  id: string;
  name: string;
  workingDir: string;
  /** The argv as first started (resuming derives its own from it). */
  command: string[];
  state: SessionState;
  /** The program's pid, which is also its process group and session id; 0 when not running. */
  pid: number;
  exitCode?: number;
  exitSignal?: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  cols: number;
  rows: number;
  failureReason?: string;
  claudeCode: boolean;
  /** How many bytes of the session's output never reached its log (a full disk), in total. */
  logBytesLost?: number;
  /** What the log says about the latest loss (the event that marks it). */
  logLoss?: string;
  /** Claude Code: the conversation it is in now, and those it was in before, oldest first. */
  conversationId?: string;
  previousConversationIds?: string[];
  /** Its labels (key to value). */
  labels?: Record<string, string>;
  /** The git worktree made for it (`start --worktree`). */
  worktree?: WorktreeRecord;
  /** The limits it runs with (records of older versions have none: no limits). */
  limits?: SessionLimits;
  /** The latest time its tree went over its memory limit, and what was done. */
  limitEvent?: string;
  /** The session (and snapshot) it was forked or restored from. */
  origin?: SessionOrigin;
}

/** Where a forked or restored session came from. */
export interface SessionOrigin {
  sessionId: string;
  snapshotId?: string;
  /** Claude Code: the conversation it branched off. */
  conversationId?: string;
  /** The commit whose files its worktree started with (see Session.origin in the .proto). */
  commit?: string;
}

export function isActive(state: SessionState): boolean {
  return state === "starting" || state === "running";
}

const STATES: readonly SessionState[] = [
  "starting",
  "running",
  "exited",
  "stopped",
  "failed",
  "interrupted",
];

/** A session id as `randomUUID()` makes it: it names the log, so it must be nothing else. */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Linux's largest pid (PID_MAX_LIMIT). */
const MAX_PID = 4_194_304;

/** A loaded record that is not sound; the message says which field and why. */
export class RecordError extends Error {
  override readonly name = "RecordError";
}

/** A value for a message: JSON, cut short, so that no record can flood the daemon's log. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isString(value: unknown): value is string {
  return typeof value === "string" && !value.includes("\0");
}

/** A conversation id as Claude Code names one: it goes on a command line, so nothing odd. */
export function isConversationId(value: unknown): value is string {
  return typeof value === "string" && /^[\w.-]{1,128}$/.test(value);
}

function isTime(value: unknown): value is string {
  return typeof value === "string" && Number.isFinite(Date.parse(value));
}

function integerIn(value: unknown, min: number, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

/**
 * The record in `value`, a session record read back from the state file, with only the fields a
 * record has; throws {@link RecordError} for the first field that is not sound. Everything the
 * daemon later does with a record (a log path from its id, a reply built from its times, a
 * resume from its size and command) may then rely on its type and range.
 */
export function parseSessionRecord(value: unknown): SessionRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new RecordError("the record is not an object");
  const v = value as Record<string, unknown>;
  const fail = (message: string): never => {
    throw new RecordError(message);
  };
  if (typeof v.id !== "string" || !SESSION_ID.test(v.id))
    fail(`id ${shown(v.id)} is not a session id (a lowercase UUID)`);
  if (typeof v.name !== "string") fail(`name must be a string, got ${shown(v.name)}`);
  try {
    checkName(v.name as string);
  } catch (error) {
    fail((error as Error).message);
  }
  if (!isString(v.workingDir) || !isAbsolute(v.workingDir))
    fail(`workingDir must be an absolute path, got ${shown(v.workingDir)}`);
  if (
    !Array.isArray(v.command) ||
    v.command.length === 0 ||
    !v.command.every(isString) ||
    v.command[0] === ""
  )
    fail(`command must be a list of strings, the program first, got ${shown(v.command)}`);
  if (!STATES.includes(v.state as SessionState))
    fail(`state ${shown(v.state)} is not one of ${STATES.join(", ")}`);
  if (!integerIn(v.pid, 0, MAX_PID))
    fail(`pid must be an integer from 0 to ${MAX_PID}, got ${shown(v.pid)}`);
  if (v.exitCode !== undefined && !integerIn(v.exitCode, -(2 ** 31), 2 ** 31 - 1))
    fail(`exitCode must be an integer, got ${shown(v.exitCode)}`);
  if (v.logBytesLost !== undefined && !integerIn(v.logBytesLost, 0, Number.MAX_SAFE_INTEGER))
    fail(`logBytesLost must be a whole number of bytes, got ${shown(v.logBytesLost)}`);
  for (const key of ["exitSignal", "failureReason", "logLoss", "limitEvent"] as const) {
    if (v[key] !== undefined && !isString(v[key]))
      fail(`${key} must be a string, got ${shown(v[key])}`);
  }
  if (!isTime(v.createdAt)) fail(`createdAt ${shown(v.createdAt)} is not a time`);
  for (const key of ["startedAt", "endedAt"] as const) {
    if (v[key] !== undefined && !isTime(v[key])) fail(`${key} ${shown(v[key])} is not a time`);
  }
  for (const key of ["cols", "rows"] as const) {
    if (!integerIn(v[key], 1, MAX_DIMENSION))
      fail(`${key} must be an integer from 1 to ${MAX_DIMENSION}, got ${shown(v[key])}`);
  }
  if (typeof v.claudeCode !== "boolean")
    fail(`claudeCode must be true or false, got ${shown(v.claudeCode)}`);
  if (v.conversationId !== undefined && !isConversationId(v.conversationId))
    fail(`conversationId ${shown(v.conversationId)} is not a conversation id`);
  if (
    v.previousConversationIds !== undefined &&
    (!Array.isArray(v.previousConversationIds) ||
      !v.previousConversationIds.every(isConversationId))
  )
    fail(
      `previousConversationIds must be a list of conversation ids, got ${shown(v.previousConversationIds)}`,
    );
  if (v.labels !== undefined) {
    const labels = v.labels;
    if (typeof labels !== "object" || labels === null || Array.isArray(labels))
      fail(`labels must be an object of strings, got ${shown(labels)}`);
    for (const [key, value] of Object.entries(labels as Record<string, unknown>))
      if (typeof value !== "string")
        fail(`label ${shown(key)} must be a string, got ${shown(value)}`);
    try {
      checkLabels(labels as Record<string, string>);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  if (v.worktree !== undefined) {
    const w = v.worktree as Record<string, unknown>;
    if (
      typeof w !== "object" ||
      w === null ||
      !isString(w.path) ||
      !isAbsolute(w.path) ||
      !isString(w.repository) ||
      !isAbsolute(w.repository) ||
      !isString(w.branch) ||
      w.branch === "" ||
      typeof w.baseCommit !== "string" ||
      !/^[0-9a-f]{40,64}$/.test(w.baseCommit)
    )
      fail(
        `worktree must hold an absolute path and repository, a branch and a base commit, got ${shown(w)}`,
      );
  }
  let origin: SessionOrigin | undefined;
  if (v.origin !== undefined) {
    const o = v.origin as Record<string, unknown>;
    if (
      typeof o !== "object" ||
      o === null ||
      typeof o.sessionId !== "string" ||
      !SESSION_ID.test(o.sessionId) ||
      (o.snapshotId !== undefined &&
        (typeof o.snapshotId !== "string" || !SESSION_ID.test(o.snapshotId))) ||
      (o.conversationId !== undefined && !isConversationId(o.conversationId)) ||
      (o.commit !== undefined &&
        (typeof o.commit !== "string" || !/^[0-9a-f]{40,64}$/.test(o.commit)))
    )
      fail(
        `origin must name a session, and may name a snapshot, a conversation and a commit, got ${shown(o)}`,
      );
    origin = {
      sessionId: o.sessionId as string,
      ...(o.snapshotId !== undefined && { snapshotId: o.snapshotId as string }),
      ...(o.conversationId !== undefined && { conversationId: o.conversationId as string }),
      ...(o.commit !== undefined && { commit: o.commit as string }),
    };
  }
  let limits: SessionLimits | undefined;
  if (v.limits !== undefined) {
    const parsed = parseLimits(v.limits);
    if (typeof parsed === "string") fail(parsed);
    limits = parsed as SessionLimits;
  }
  const record: Record<string, unknown> = {};
  for (const key of RECORD_KEYS) if (v[key] !== undefined) record[key] = v[key];
  record.command = [...(v.command as string[])];
  if (record.labels !== undefined) record.labels = { ...(v.labels as Record<string, string>) };
  if (record.worktree !== undefined) {
    const w = v.worktree as unknown as WorktreeRecord;
    record.worktree = {
      path: w.path,
      branch: w.branch,
      repository: w.repository,
      baseCommit: w.baseCommit,
    };
  }
  if (limits !== undefined) record.limits = limits;
  if (origin !== undefined) record.origin = origin;
  if (record.previousConversationIds !== undefined)
    record.previousConversationIds = [...(v.previousConversationIds as string[])];
  return record as unknown as SessionRecord;
}

/** What a record keeps; anything else (the environment older versions kept) is dropped. */
const RECORD_KEYS: ReadonlyArray<keyof SessionRecord> = [
  "id",
  "name",
  "workingDir",
  "command",
  "state",
  "pid",
  "exitCode",
  "exitSignal",
  "createdAt",
  "startedAt",
  "endedAt",
  "cols",
  "rows",
  "failureReason",
  "claudeCode",
  "logBytesLost",
  "logLoss",
  "conversationId",
  "previousConversationIds",
  "labels",
  "worktree",
  "limits",
  "limitEvent",
  "origin",
];
