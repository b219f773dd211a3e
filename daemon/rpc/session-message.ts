/** Converting the daemon's session records and log records to their wire messages. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  Activity,
  LimitAction,
  LogEntryKind,
  type LogEntrySchema,
  type SessionSchema,
  SessionState,
} from "../../gen/claude_sessions/v1/session_pb.js";
import type { StartLimits } from "../../gen/claude_sessions/v1/session_service_pb.js";
import type { SnapshotSchema } from "../../gen/claude_sessions/v1/snapshot_pb.js";
import type { LogRecord } from "../log/log-record.js";
import type { AskedLimits, LimitActionName, SessionLimits } from "../session/limits.js";
import type { ActivityName, Session } from "../session/session.js";
import type { SessionState as RecordState, SessionRecord } from "../session/session-record.js";
import { type SnapshotRecord, snapshotRef } from "../snapshot/snapshot-store.js";

const states: Record<RecordState, SessionState> = {
  starting: SessionState.STARTING,
  running: SessionState.RUNNING,
  exited: SessionState.EXITED,
  stopped: SessionState.STOPPED,
  failed: SessionState.FAILED,
  interrupted: SessionState.INTERRUPTED,
};

const activities: Record<ActivityName, Activity> = {
  working: Activity.WORKING,
  waiting: Activity.WAITING_FOR_INPUT,
  idle: Activity.IDLE,
  unknown: Activity.UNKNOWN,
};

const limitActions: Record<LimitActionName, LimitAction> = {
  warn: LimitAction.WARN,
  stop: LimitAction.STOP,
  restart: LimitAction.RESTART,
};

/** The limit action for a wire one (undefined for UNSPECIFIED: the default applies). */
export function limitActionName(action: LimitAction): LimitActionName | undefined {
  for (const [name, value] of Object.entries(limitActions))
    if (value === action) return name as LimitActionName;
  return undefined;
}

/** The limits a start asks for: what it leaves unset comes from the daemon's defaults. */
export function askedLimits(limits: StartLimits | undefined): AskedLimits {
  if (limits === undefined) return {};
  const onLimit = limitActionName(limits.onLimit);
  return {
    ...(limits.maxMemoryBytes !== undefined && { maxMemoryBytes: Number(limits.maxMemoryBytes) }),
    ...(onLimit !== undefined && { onLimit }),
    ...(limits.nice !== undefined && { nice: limits.nice }),
    ...(limits.maxLogBytes !== undefined && { maxLogBytes: Number(limits.maxLogBytes) }),
  };
}

function limitsMessage(limits: SessionLimits | undefined) {
  if (limits === undefined) return undefined;
  return {
    maxMemoryBytes: BigInt(limits.maxMemoryBytes),
    onLimit: limitActions[limits.onLimit],
    nice: limits.nice,
    maxLogBytes: BigInt(limits.maxLogBytes),
  };
}

/** The record state for a wire state (undefined for UNSPECIFIED or unknown numbers). */
export function recordState(state: SessionState): RecordState | undefined {
  for (const [name, value] of Object.entries(states))
    if (value === state) return name as RecordState;
  return undefined;
}

function timestamp(iso: string | undefined) {
  return iso === undefined ? undefined : timestampFromDate(new Date(iso));
}

/** The wire form of a session; `session` adds what only a live session knows. */
export function sessionMessage(
  record: Readonly<SessionRecord>,
  session?: Session,
): MessageInitShape<typeof SessionSchema> {
  return {
    id: record.id,
    name: record.name,
    workingDir: record.workingDir,
    command: record.command,
    state: states[record.state],
    pid: record.pid,
    ...(record.exitCode !== undefined ? { exitCode: record.exitCode } : {}),
    exitSignal: record.exitSignal ?? "",
    createdAt: timestamp(record.createdAt),
    endedAt: timestamp(record.endedAt),
    startedAt: timestamp(record.startedAt),
    logPath: session?.log.path ?? "",
    cols: record.cols,
    rows: record.rows,
    failureReason: record.failureReason ?? "",
    lastSeq: BigInt(session?.log.lastSeq ?? 0),
    logError: session?.logError ?? "",
    claudeCode: record.claudeCode,
    attachedClients: session?.attachedClients ?? 0,
    logBytesLost: BigInt(record.logBytesLost ?? 0),
    logLoss: record.logLoss ?? "",
    hostPid: session?.hostPid ?? 0,
    ...activityFields(record, session),
    conversationId: record.conversationId ?? "",
    previousConversationIds: record.previousConversationIds ?? [],
    labels: { ...record.labels },
    ...(record.worktree !== undefined && { worktree: { ...record.worktree } }),
    limits: limitsMessage(record.limits),
    ...usageFields(record, session),
    logDroppedEntries: BigInt(Math.max(0, (session?.log.firstKeptSeq ?? 1) - 1)),
    limitEvent: record.limitEvent ?? "",
    ...(record.origin !== undefined && {
      origin: {
        sessionId: record.origin.sessionId,
        snapshotId: record.origin.snapshotId ?? "",
        conversationId: record.origin.conversationId ?? "",
        commit: record.origin.commit ?? "",
      },
    }),
  };
}

/** What a running session's process tree uses, as its host last sampled it. */
function usageFields(record: Readonly<SessionRecord>, session: Session | undefined) {
  const usage = record.state === "running" ? session?.usage : undefined;
  if (usage === undefined) return {};
  return {
    usage: {
      memoryBytes: BigInt(usage.memoryBytes),
      cpuPercent: usage.cpuPercent,
      processes: usage.processes,
      sampledAt: timestamp(usage.sampledAt),
    },
  };
}

/** What a running session is doing; nothing for one that is not running. */
function activityFields(record: Readonly<SessionRecord>, session: Session | undefined) {
  const activity = record.state === "running" ? session?.activity : undefined;
  if (activity === undefined) return {};
  return {
    activity: activities[activity.state],
    activityDetail: activity.detail,
    activitySince: timestamp(activity.since),
    foregroundCommand: activity.foregroundCommand,
  };
}

export function sessionMessageOf(session: Session): MessageInitShape<typeof SessionSchema> {
  return sessionMessage(session.record, session);
}

export function logEntry(record: LogRecord): MessageInitShape<typeof LogEntrySchema> {
  return {
    seq: BigInt(record.seq),
    time: timestampFromDate(new Date(record.time)),
    kind: record.kind === "output" ? LogEntryKind.OUTPUT : LogEntryKind.EVENT,
    data: record.data,
  };
}

/** How many changed files a snapshot in a list names (the rest are counted). */
export const LISTED_CHANGED_FILES = 20;

/**
 * The wire form of a snapshot; `listed` (ListSnapshots) leaves out the screen and all but the
 * first changed files. Its screen's escapes are GetSnapshot's alone.
 */
export function snapshotMessage(
  record: Readonly<SnapshotRecord>,
  listed = false,
): MessageInitShape<typeof SnapshotSchema> {
  return {
    id: record.id,
    name: record.name,
    createdAt: timestamp(record.createdAt),
    sessionId: record.sessionId,
    sessionName: record.sessionName,
    workingDir: record.workingDir,
    command: [...record.command],
    claudeCode: record.claudeCode,
    seq: BigInt(record.seq),
    cols: record.cols,
    rows: record.rows,
    screenText: listed ? "" : record.screenText,
    conversationId: record.conversationId ?? "",
    hasTranscript: record.hasTranscript,
    ...(record.files !== undefined && {
      files: {
        ...record.files,
        ref: snapshotRef(record.id),
        changedFiles: record.files.changedFiles.slice(0, listed ? LISTED_CHANGED_FILES : undefined),
        changedFileCount: record.files.changedFiles.length,
      },
    }),
    labels: { ...record.labels },
  };
}
