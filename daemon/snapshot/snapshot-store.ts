/**
 * The snapshots on disk: `snapshots/<id>/` holds `snapshot.json` (the record), `screen` (the
 * escape sequences that draw the screen on a fresh terminal) and, for Claude Code,
 * `transcript.jsonl` (a copy of the conversation's transcript). A snapshot is written in a
 * directory of its own first and renamed into place whole, so a crash leaves all of it or none.
 * Snapshots belong to no session record: removing a session keeps them.
 */
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { readRegularFile, replaceRegularFile } from "../common/regular-file.js";
import { resolveSession } from "../session/id-resolver.js";
import { checkLabels } from "../session/labels.js";
import { SessionError } from "../session/session-error.js";
import { isConversationId, RecordError, shown } from "../session/session-record.js";

/** The files of a session, as a snapshot recorded them (see worktree-state.ts). */
export interface SnapshotFiles {
  repository: string;
  commit: string;
  head: string;
  branch: string;
  relativeDir: string;
  changedFiles: string[];
  base: string;
  uncommitted: boolean;
}

export interface SnapshotRecord {
  id: string;
  name: string;
  createdAt: string;
  sessionId: string;
  sessionName: string;
  workingDir: string;
  command: string[];
  claudeCode: boolean;
  seq: number;
  cols: number;
  rows: number;
  screenText: string;
  conversationId?: string;
  hasTranscript: boolean;
  files?: SnapshotFiles;
  labels?: Record<string, string>;
}

/** The ref under which a snapshot keeps its commit. */
export function snapshotRef(id: string): string {
  return `refs/claude-sessions/snapshots/${id}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const COMMIT = /^[0-9a-f]{40,64}$/;

export class SnapshotStore {
  private readonly records = new Map<string, SnapshotRecord>();

  constructor(private readonly dir: string) {}

  /** Reads every snapshot; returns why each one that could not be read was skipped. */
  load(): string[] {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const problems: string[] = [];
    for (const entry of readdirSync(this.dir)) {
      if (!UUID.test(entry)) continue;
      const path = join(this.dir, entry, "snapshot.json");
      try {
        const record = parseSnapshotRecord(JSON.parse(readRegularFile(path).toString("utf8")));
        if (record.id !== entry) throw new RecordError(`its id is ${record.id}`);
        this.records.set(record.id, record);
      } catch (error) {
        problems.push(`snapshot ${path} skipped: ${(error as Error).message}`);
      }
    }
    return problems;
  }

  /** The snapshots, oldest first; of one session only if `sessionId` is given. */
  list(sessionId?: string): SnapshotRecord[] {
    return [...this.records.values()]
      .filter((record) => sessionId === undefined || record.sessionId === sessionId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** The snapshot an id, a unique id prefix or a name names. */
  get(query: string): SnapshotRecord {
    return resolveSession(query, this.records.values(), "snapshot");
  }

  /** Refuses a name another snapshot has. */
  checkNameFree(name: string): void {
    for (const record of this.records.values()) {
      if (record.name === name) {
        throw new SessionError(
          "already-exists",
          `the name '${name}' is already used by snapshot ${record.id}; choose another, or remove that snapshot (claude-sessions snapshot rm ${name})`,
        );
      }
    }
  }

  /** Writes a new snapshot whole: its record, its screen and a copy of `transcript` if any. */
  add(record: SnapshotRecord, frame: string, transcript: string | undefined): void {
    const final = join(this.dir, record.id);
    const partial = join(this.dir, `.${record.id}.partial`);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { mode: 0o700 });
    try {
      replaceRegularFile(join(partial, "screen"), frame);
      if (transcript !== undefined) copyFileSync(transcript, join(partial, "transcript.jsonl"));
      replaceRegularFile(join(partial, "snapshot.json"), `${JSON.stringify(record, null, 2)}\n`);
      renameSync(partial, final);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      throw error;
    }
    this.records.set(record.id, record);
  }

  /** The escape sequences that draw the snapshot's screen ("" if the file is gone). */
  frame(id: string): string {
    try {
      return readRegularFile(join(this.dir, id, "screen")).toString("utf8");
    } catch {
      return "";
    }
  }

  /** Where the snapshot's copy of the transcript is. */
  transcriptPath(id: string): string {
    return join(this.dir, id, "transcript.jsonl");
  }

  /** Forgets a snapshot and deletes its files. */
  remove(id: string): void {
    const gone = join(this.dir, `.${id}.removed`);
    rmSync(gone, { recursive: true, force: true });
    try {
      renameSync(join(this.dir, id), gone);
    } catch (error) {
      // Deleted by hand already: there is nothing left to remove but the record.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    this.records.delete(id);
    rmSync(gone, { recursive: true, force: true });
  }
}

function isString(value: unknown): value is string {
  return typeof value === "string" && !value.includes("\0");
}

/** A snapshot record read back, checked field by field like a session record. */
export function parseSnapshotRecord(value: unknown): SnapshotRecord {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new RecordError("the record is not an object");
  const v = value as Record<string, unknown>;
  const fail = (message: string): never => {
    throw new RecordError(message);
  };
  for (const key of ["id", "sessionId"] as const)
    if (typeof v[key] !== "string" || !UUID.test(v[key] as string))
      fail(`${key} ${shown(v[key])} is not an id`);
  for (const key of ["name", "sessionName", "screenText"] as const)
    if (!isString(v[key])) fail(`${key} must be a string, got ${shown(v[key])}`);
  if (!isString(v.workingDir) || !isAbsolute(v.workingDir))
    fail(`workingDir must be an absolute path, got ${shown(v.workingDir)}`);
  if (!Array.isArray(v.command) || v.command.length === 0 || !v.command.every(isString))
    fail(`command must be a list of strings, got ${shown(v.command)}`);
  if (typeof v.createdAt !== "string" || !Number.isFinite(Date.parse(v.createdAt)))
    fail(`createdAt ${shown(v.createdAt)} is not a time`);
  for (const key of ["seq", "cols", "rows"] as const)
    if (!Number.isSafeInteger(v[key]) || (v[key] as number) < 0)
      fail(`${key} must be a whole number, got ${shown(v[key])}`);
  for (const key of ["claudeCode", "hasTranscript"] as const)
    if (typeof v[key] !== "boolean") fail(`${key} must be true or false, got ${shown(v[key])}`);
  if (v.conversationId !== undefined && !isConversationId(v.conversationId))
    fail(`conversationId ${shown(v.conversationId)} is not a conversation id`);
  if (v.labels !== undefined) {
    try {
      checkLabels(v.labels as Record<string, string>);
    } catch (error) {
      fail((error as Error).message);
    }
  }
  let files: SnapshotFiles | undefined;
  if (v.files !== undefined) {
    const f = v.files as Record<string, unknown>;
    if (
      typeof f !== "object" ||
      f === null ||
      !isString(f.repository) ||
      !isAbsolute(f.repository) ||
      !COMMIT.test(String(f.commit)) ||
      !COMMIT.test(String(f.head)) ||
      !COMMIT.test(String(f.base)) ||
      !isString(f.branch) ||
      !isString(f.relativeDir) ||
      isAbsolute(f.relativeDir) ||
      f.relativeDir.split("/").includes("..") ||
      !Array.isArray(f.changedFiles) ||
      !f.changedFiles.every(isString) ||
      typeof f.uncommitted !== "boolean"
    )
      fail(`files must hold a repository, commits and the files changed, got ${shown(f)}`);
    files = {
      repository: f.repository as string,
      commit: f.commit as string,
      head: f.head as string,
      branch: f.branch as string,
      relativeDir: f.relativeDir as string,
      changedFiles: [...(f.changedFiles as string[])],
      base: f.base as string,
      uncommitted: f.uncommitted as boolean,
    };
  }
  return {
    id: v.id as string,
    name: v.name as string,
    createdAt: v.createdAt as string,
    sessionId: v.sessionId as string,
    sessionName: v.sessionName as string,
    workingDir: v.workingDir as string,
    command: [...(v.command as string[])],
    claudeCode: v.claudeCode as boolean,
    seq: v.seq as number,
    cols: v.cols as number,
    rows: v.rows as number,
    screenText: v.screenText as string,
    ...(v.conversationId !== undefined && { conversationId: v.conversationId as string }),
    hasTranscript: v.hasTranscript as boolean,
    ...(files !== undefined && { files }),
    ...(v.labels !== undefined && { labels: { ...(v.labels as Record<string, string>) } }),
  };
}
